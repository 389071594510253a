"""Reads of the return/retention lifecycle (C9, C10). Must not import views or actions."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from cases.enums import OPEN_STATUSES, CaseStatus
from cases.models import Case, ClerkBankScope, RetentionRequest, RetentionStatus
from cases.selectors.cases import case_visible_to


def case_list_due_for_return(*, user: User, days: int, bank_id: int | None = None,
                             batch_id: int | None = None) -> QuerySet[Case]:
    """Open cases `user` sees whose current return date falls within `days` days (overdue ones included)."""
    until = timezone.localdate() + dt.timedelta(days=days)
    qs = case_visible_to(user).filter(status__in=OPEN_STATUSES, return_date__lte=until)
    if bank_id:
        qs = qs.filter(bank_id=bank_id)
    if batch_id:
        qs = qs.filter(batch_id=batch_id)
    return qs.select_related("bank", "batch", "collector", "owner_clerk").order_by("return_date", "bank_id",
                                                                                    "batch_id", "id")


def retention_request_list_pending_for_clerk(*, clerk: User) -> QuerySet[RetentionRequest]:
    """Pending requests on cases of the clerk's banks (owner clerk's first)."""
    banks = ClerkBankScope.objects.filter(clerk=clerk).values("bank_id")
    return (RetentionRequest.objects.filter(status=RetentionStatus.PENDING, case__bank_id__in=banks)
            .select_related("case", "case__bank", "case__batch", "requested_by").order_by("created_at"))


def retention_request_list_for_case(*, case: Case) -> QuerySet[RetentionRequest]:
    return RetentionRequest.objects.filter(case=case).select_related("requested_by", "decided_by")


def retention_request_get_for_clerk(*, clerk: User, request_id: int) -> RetentionRequest | None:
    return retention_request_list_pending_for_clerk(clerk=clerk).filter(pk=request_id).first()


def case_list_for_return_confirm(*, user: User, case_ids: list[int]) -> QuerySet[Case]:
    """The open cases among `case_ids` that `user` sees, with what a return would change: the collector who loses
    them and the pending retention requests that would be declined (`pending_requests`)."""
    return (case_visible_to(user).filter(pk__in=case_ids, status__in=OPEN_STATUSES)
            .select_related("bank", "batch", "collector")
            .annotate(pending_requests=Count("retention_requests",
                                             filter=Q(retention_requests__status=RetentionStatus.PENDING)))
            .order_by("return_date", "id"))


def case_list_recently_returned(*, user: User) -> QuerySet[Case]:
    """Cases `user` returned or may reopen: returned within settings.RETURN_UNDO_DAYS days, the owner clerk's own
    (a clerk) or every visible one (a manager), newest return first."""
    since = timezone.now() - dt.timedelta(days=settings.RETURN_UNDO_DAYS)
    qs = case_visible_to(user).filter(status=CaseStatus.RETURNED, status_changed_at__gte=since)
    if not user.is_manager:
        qs = qs.filter(owner_clerk=user)
    return qs.select_related("bank", "batch", "collector").order_by("-status_changed_at", "-id")
