"""Permission predicates (`can_*`) and fetchers (`access_*`, raising Http404 when not visible)."""

from __future__ import annotations

from django.http import Http404

from accounts.models import User
from cases.models import Bank, Case, ClerkBankScope
from cases.selectors.cases import case_visible_to


def access_case(*, user: User, case_id: int) -> Case:
    """The case if `user` may see it; Http404 for both "missing" and "not yours"."""
    case = (
        case_visible_to(user)
        .select_related("bank", "batch", "owner_clerk", "collector", "previous_case")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404("委案不存在或无权查看")
    return case


def can_import_batch(*, user: User, bank: Bank) -> bool:
    """C1/C7: a clerk imports only batches of the banks an admin gave them."""
    if not (user.is_authenticated and user.is_active and user.is_clerk):
        return False
    return ClerkBankScope.objects.filter(clerk=user, bank=bank).exists()


def can_import_any(*, user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_clerk)
