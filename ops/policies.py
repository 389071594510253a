"""Who may use the system-administration pages: system admins only (S1–S4)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import User

V = TypeVar("V", bound=Callable[..., HttpResponse])


def can_administer(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_sysadmin)


def sysadmin_required(view: V) -> V:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not can_administer(request.user):  # type: ignore[arg-type]
            raise PermissionDenied("仅系统管理员可以使用此页面。")
        return view(request, *args, **kwargs)

    return wrapped  # type: ignore[return-value]
