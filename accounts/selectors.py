"""Reads of the accounts layer used across apps: role predicates for scoping and display."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import User


def is_staff_user(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def sees_all_cases(user: User) -> bool:
    """Managers watch every case (M1); system admins maintain them (C15)."""
    return user.is_manager or user.is_sysadmin


def sees_commission(user: User) -> bool:
    """P7: collectors never see commission rates; clerks, managers and admins do."""
    return user.is_manager or user.is_sysadmin or user.is_clerk


def sees_full_id_numbers(user: User) -> bool:
    """Collectors see ID numbers masked in lists; everyone with a desk role sees them whole."""
    return user.is_manager or user.is_sysadmin or user.is_clerk


def collector_list(*, branch_id: int | None = None, department_id: int | None = None,
                   active_only: bool = True) -> QuerySet[User]:
    qs = User.objects.collectors().select_related("branch", "department")
    if active_only:
        qs = qs.filter(is_active=True)
    if branch_id is not None:
        qs = qs.filter(branch_id=branch_id)
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return qs.order_by("branch__name", "department__name", "full_name", "username")
