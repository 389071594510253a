"""Middleware of the accounts layer: users told to change their password do that before anything else, and a
系统管理员 or 管理人员 signed in without a second factor enrols one first.

Must not import `cases` or `realtime`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.sessions import OTP_ENROL_REQUIRED_KEY


class ForcePasswordChangeMiddleware:
    """A signed-in user with `must_change_password` reaches only the password page (and logout) until done."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if (user is not None and user.is_authenticated and session is not None
                and session.get(OTP_ENROL_REQUIRED_KEY) and not getattr(user, "must_change_password", False)):
            # A 系统管理员 or 管理人员 signed in without a second factor: enrol first (accounts.views.LoginView).
            allowed = (reverse("accounts:two-factor"), reverse("accounts:logout"), settings.STATIC_URL)
            if not request.path.startswith(allowed):
                messages.warning(request, "系统管理员和管理人员必须启用两步验证，请先完成设置。")
                target = reverse("accounts:two-factor")
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = target
                    return response
                return HttpResponseRedirect(target)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = (reverse("accounts:password-change"), reverse("accounts:logout"), settings.STATIC_URL)
            if not request.path.startswith(allowed):
                messages.warning(request, "您的密码由管理员重置或为初始密码，请先修改密码后再继续使用。")
                target = reverse("accounts:password-change")
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = target
                    return response
                return HttpResponseRedirect(target)
        return self.get_response(request)


class PrivateResponsesMiddleware:
    """Nothing served to a signed-in user is kept by the browser or a proxy: pages and files carry personal
    data (names, ID numbers, recordings), and a shared office computer's back button or disk cache must not
    show them to the next person."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "private, no-store"
        return response
