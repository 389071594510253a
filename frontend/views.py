from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    """A collector starts the day on 今日工作 (issue 16); everyone else on the case list."""
    if getattr(request.user, "is_collector", False):
        return redirect("worklist:queue")
    return redirect("cases:case-list")


@require_GET
def favicon_view(request: HttpRequest) -> HttpResponse:
    """/favicon.ico → the product's icon (an SVG under /static/), for every visitor, signed in or not."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
