from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from accounts.selectors import sees_all_cases
from cases.models import Bank


def bank_list_for_user(*, user: User) -> QuerySet[Bank]:
    """Banks whose cases `user` may see: all for managers/admins, the scoped ones for clerks (C7)."""
    if not user.is_authenticated or not user.is_active:
        return Bank.objects.none()
    if sees_all_cases(user):
        return Bank.objects.all().order_by("code")
    if user.is_clerk:
        return Bank.objects.filter(clerk_scopes__clerk=user).order_by("code")
    if user.is_collector:
        return Bank.objects.filter(cases__collector=user).distinct().order_by("code")
    return Bank.objects.none()


def bank_list_for_clerk(*, clerk: User) -> QuerySet[Bank]:
    """The banks a clerk may import and handle (C7), active ones only."""
    if not clerk.is_active or not clerk.is_clerk:
        return Bank.objects.none()
    return Bank.objects.filter(clerk_scopes__clerk=clerk, is_active=True).order_by("code")
