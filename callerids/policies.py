"""Who may see and change the caller-ID pool: system admins manage it; managers read it (answer rates per number)."""

from __future__ import annotations

from accounts.models import User


def can_manage_caller_numbers(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_sysadmin)


def can_view_caller_numbers(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_sysadmin or user.is_manager))
