"""Reads of cases. `case_visible_to` is the one scoping function every case query starts from."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.selectors import sees_all_cases
from cases.models import Case


def case_scope_q(user: User) -> Q | None:
    """The filter a role adds to every case query; None means every case.

    A user holding several roles sees the union of what each role sees.
    """
    if sees_all_cases(user):
        return None
    scope = Q(pk__in=[])
    if user.is_clerk:
        scope |= Q(bank__clerk_scopes__clerk=user)
    if user.is_collector:
        scope |= Q(collector=user)
    return scope


def case_visible_to(user: User) -> QuerySet[Case]:
    """Every case `user` may see (P7, C7, M1). Inactive or anonymous users see none."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    scope = case_scope_q(user)
    qs = Case.objects.all()
    if scope is not None:
        qs = qs.filter(scope)
    return qs
