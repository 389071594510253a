"""Audit receivers for logins, failed logins and logouts."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.actions import audit_record
from accounts.models import AuditAction, User


@receiver(user_logged_in)
def _audit_login(sender: type, request: HttpRequest, user: User, **kwargs: object) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN, summary=f"{user.display_name} 登录",
                 object_type="user", object_id=user.pk, request=request)


@receiver(user_logged_out)
def _audit_logout(sender: type, request: HttpRequest, user: User | None, **kwargs: object) -> None:
    if user is None:
        return
    audit_record(actor=user, action=AuditAction.LOGOUT, summary=f"{user.display_name} 退出",
                 object_type="user", object_id=user.pk, request=request)


@receiver(user_login_failed)
def _audit_login_failed(sender: type, credentials: dict[str, str], request: HttpRequest | None = None,
                        **kwargs: object) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(actor=None, actor_name=username, action=AuditAction.LOGIN_FAILED,
                 summary=f"用户名 {username} 登录失败", object_type="user", request=request)
