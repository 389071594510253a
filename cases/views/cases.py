from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def case_list_view(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@login_required
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    raise NotImplementedError
