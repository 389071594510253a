from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def batch_import_view(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@login_required
def batch_template_view(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
