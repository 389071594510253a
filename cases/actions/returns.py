"""Return and retention (C9, C10, P10): cases go back to the bank on their return date unless retained.

The one door for a case's 已退案 / 留案 status and its current return date, and for retention requests.
A retention adds one calendar month to the current return date and may be repeated. A returned case is
read-only for collectors (cases.policies: work needs an open case) and its open assignment ends, so it leaves
the collector's working lists. Must not import views, consumers or the dialer.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import history, rollups
from cases.actions.notifications import user_events_deliver
from cases.actions.reminders import reminder_resolve_stale
from cases.enums import OPEN_STATUSES, CaseEventType, CaseStatus
from cases.exceptions import ReturnError
from cases.models import Assignment, AssignmentKind, Case, CaseEvent, RetentionRequest, RetentionStatus
from cases.policies import return_undo_refusal
from realtime.events_money import RetentionChanged


def add_month(day: dt.date) -> dt.date:
    """The same day one month later, or that month's last day (1-31 → 2-28/29)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


@transaction.atomic
def case_return(*, case: Case, by: User) -> Case:
    """Confirm the return of an open case to the bank: 已退案, read-only for collectors, off their lists. Audited;
    its owner clerk or a manager may undo it within settings.RETURN_UNDO_DAYS days (case_return_undo).

    Emits: nothing (the case page and lists render from the status).
    Raises: ReturnError (case not open).
    """
    locked = _locked(case)
    if locked.status not in OPEN_STATUSES:
        raise ReturnError(f"{locked.case_no} 状态为“{locked.get_status_display()}”，不能退案")
    previous = locked.status
    locked.status = CaseStatus.RETURNED
    locked.status_changed_at = timezone.now()
    locked.save(update_fields=["status", "status_changed_at", "updated_at"])
    Assignment.objects.filter(case=locked, ended_at=None).update(ended_at=locked.status_changed_at)
    declined = RetentionRequest.objects.filter(case=locked, status=RetentionStatus.PENDING).update(
        status=RetentionStatus.DECLINED, decided_by=by, decided_at=locked.status_changed_at,
        decision_note="案件已退案")
    history.case_returned(case=locked, actor=by, previous_status=previous)
    reminder_resolve_stale(case_ids=[locked.pk])  # issue 16: a returned case's reminders need no action
    rollups.mark(worked_case_ids=[locked.pk])
    audit_record(actor=by, action=AuditAction.CASE_RETURN, object_type="Case", object_id=locked.pk,
                 summary=f"确认退案：委案 {locked.case_no} {locked.debtor_name}，余额 ¥{locked.balance:,.2f}",
                 detail={"case_id": locked.pk, "from": previous, "balance": str(locked.balance),
                         "collector_id": locked.collector_id, "retention_requests_declined": declined})
    case.status, case.status_changed_at = locked.status, locked.status_changed_at
    return locked


@transaction.atomic
def cases_return_bulk(*, cases: Iterable[Case], by: User) -> tuple[int, list[str]]:
    """Return several cases; those that cannot be returned are skipped with their reason.

    Emits: nothing. Raises: nothing (reasons come back as the list of messages).
    """
    done, problems = 0, []
    for case in cases:
        try:
            case_return(case=case, by=by)
            done += 1
        except ReturnError as exc:
            problems.append(str(exc))
    return done, problems


@transaction.atomic
def case_return_undo(*, case: Case, by: User, reason: str) -> Case:
    """Reopen a case returned by mistake: back to the status it had, with its collector again (a new assignment
    period), within settings.RETURN_UNDO_DAYS days, by its owner clerk or a manager. Audited, on the timeline.

    Emits: nothing (the case page and lists render from the status).
    Raises: ReturnError (no reason, not returned, too late, or not the owner clerk or a manager).
    """
    reason = reason.strip()
    if not reason:
        raise ReturnError("请填写撤销退案的原因")
    locked = Case.objects.select_for_update(of=("self",)).select_related("collector").get(pk=case.pk)
    refusal = return_undo_refusal(user=by, case=locked)
    if refusal:
        raise ReturnError(refusal)
    returned = (CaseEvent.objects.filter(case=locked, type=CaseEventType.RETURNED)
                .order_by("-created_at", "-id").values_list("data", flat=True).first()) or {}
    restored = str(returned.get("from", ""))
    fields = ["status", "status_changed_at", "updated_at"]
    if locked.collector is not None and not locked.collector.is_active:
        # The collector left while the case was with the bank: it comes back unassigned, for the clerk to give on.
        locked.collector = None
        fields.append("collector")
    if restored not in OPEN_STATUSES:
        restored = CaseStatus.IN_PROGRESS if locked.collector_id else CaseStatus.UNASSIGNED
    if locked.collector_id is None:
        restored = CaseStatus.UNASSIGNED
    now = timezone.now()
    locked.status, locked.status_changed_at = restored, now
    locked.save(update_fields=fields)
    rollups.mark(worked_case_ids=[locked.pk])
    if locked.collector_id is not None:
        # The return ended the collector's period; the case is theirs again from now (a new period, so the
        # assignment history shows the gap while it was with the bank).
        Assignment.objects.create(case=locked, collector_id=locked.collector_id, assigned_by=by, started_at=now,
                                  kind=AssignmentKind.ASSIGN, reason=f"撤销退案：{reason}"[:500])
    collector = locked.collector.display_name if locked.collector else ""
    history.case_return_undone(case=locked, actor=by, reason=reason, restored_status=restored, collector=collector)
    audit_record(actor=by, action=AuditAction.CASE_RETURN_UNDO, object_type="Case", object_id=locked.pk,
                 summary=(f"撤销退案：委案 {locked.case_no} {locked.debtor_name} "
                          f"恢复为“{locked.get_status_display()}”，原因：{reason}"),
                 detail={"case_id": locked.pk, "to": restored, "reason": reason, "collector_id": locked.collector_id})
    case.status, case.status_changed_at = locked.status, locked.status_changed_at
    return locked


@transaction.atomic
def cases_retain_bulk(*, cases: Iterable[Case], by: User, reason: str = "") -> tuple[int, list[str]]:
    """Retain several cases one month each (from each one's current return date); those that cannot be retained
    are skipped with their reason.

    Emits: nothing. Raises: nothing (reasons come back as the list of messages).
    """
    done, problems = 0, []
    for case in cases:
        try:
            case_retain(case=case, by=by, reason=reason)
            done += 1
        except ReturnError as exc:
            problems.append(str(exc))
    return done, problems


@transaction.atomic
def case_retain(*, case: Case, by: User, reason: str = "") -> Case:
    """Retain an open case one more month (from its current return date); repeatable. Status 留案.

    Emits: nothing. Raises: ReturnError (case not open).
    """
    locked = _locked(case)
    if locked.status not in OPEN_STATUSES:
        raise ReturnError(f"{locked.case_no} 状态为“{locked.get_status_display()}”，不能留案")
    previous = locked.return_date
    locked.return_date = add_month(previous)
    fields = ["return_date", "updated_at"]
    if locked.status != CaseStatus.RETAINED:
        locked.status = CaseStatus.RETAINED
        locked.status_changed_at = timezone.now()
        fields += ["status", "status_changed_at"]
    locked.save(update_fields=fields)
    history.case_retained(case=locked, actor=by, previous_date=previous, reason=reason.strip())
    reminder_resolve_stale(case_ids=[locked.pk])  # issue 13.5: the old return date's reminders stay no longer unread
    case.status, case.return_date = locked.status, locked.return_date
    return locked


@transaction.atomic
def retention_request_create(*, case: Case, by: User, reason: str) -> RetentionRequest:
    """A collector asks the owner clerk to retain an expiring case.

    Emits: RetentionChanged → user.<owner clerk> (stored).
    Raises: ReturnError (no reason, case not open, a request already pending).
    """
    reason = reason.strip()
    if not reason:
        raise ReturnError("请填写留案理由")
    locked = _locked(case)
    if locked.status not in OPEN_STATUSES:
        raise ReturnError("案件已结束，不能申请留案")
    if RetentionRequest.objects.filter(case=locked, status=RetentionStatus.PENDING).exists():
        raise ReturnError("本案已有待审批的留案申请")
    request = RetentionRequest.objects.create(case=locked, requested_by=by, reason=reason[:500])
    history.retention_requested(case=locked, actor=by, reason=reason, request_id=request.pk)
    if locked.owner_clerk_id:
        user_events_deliver(
            event=RetentionChanged(request_id=request.pk, case_id=locked.pk, status=request.status,
                                   text=f"{by.display_name} 申请留案：{locked.case_no} {locked.debtor_name}",
                                   url=reverse("cases:return-list")),
            user_ids=[locked.owner_clerk_id])
    return request


@transaction.atomic
def retention_request_decide(*, request: RetentionRequest, by: User, approve: bool,
                             note: str = "") -> RetentionRequest:
    """The clerk approves (the case is retained one month) or declines a pending request.

    Emits: RetentionChanged → user.<requester> (stored).
    Raises: ReturnError (already decided, or the case can no longer be retained).
    """
    locked = RetentionRequest.objects.select_for_update().select_related("case").get(pk=request.pk)
    if locked.status != RetentionStatus.PENDING:
        raise ReturnError("该留案申请已处理")
    if approve:
        case_retain(case=locked.case, by=by, reason=locked.reason)
    locked.status = RetentionStatus.APPROVED if approve else RetentionStatus.DECLINED
    locked.decided_by, locked.decided_at, locked.decision_note = by, timezone.now(), note.strip()[:500]
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    history.retention_decided(case=locked.case, actor=by, approved=approve, note=locked.decision_note,
                              request_id=locked.pk)
    verdict = "同意" if approve else "拒绝"
    user_events_deliver(
        event=RetentionChanged(request_id=locked.pk, case_id=locked.case_id, status=locked.status,
                               text=f"{by.display_name} {verdict}了 {locked.case.case_no} 的留案申请",
                               url=reverse("cases:case-detail", args=[locked.case_id])),
        user_ids=[locked.requested_by_id])
    request.status = locked.status
    return locked
