"""Call records (P4, P6): the one door through which manual notes and, later, the dialer write calls.

Must not import views, `realtime.consumers` or `dialer`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from cases import history, rollups, uploads
from cases.actions import suggestions
from cases.actions.call_rules import callback_refusal
from cases.actions.files import store_checked
from cases.actions.reminders import reminder_resolve_stale
from cases.actions.work import call_counters, checked_promise, count_work, ensure_open_for_work, mark_work_started
from cases.enums import CONNECTED_CALL_RESULTS, CallDirection, CallResult, CallSource, FileKind
from cases.exceptions import CallbackTimeError, CallOutcomeNotOpenError, WorkDateInFutureError
from cases.models import CallRecord, Case, CaseContact, StoredFile
from cases.policies import call_outcome_refusal
from cases.uploads import StoredNames, Upload

# A typed call time may run a little ahead of the server clock (a collector's watch, a slow form).
_CLOCK_SLACK = dt.timedelta(minutes=5)


@transaction.atomic
def call_record_create(
    *,
    case: Case | None,
    collector: User | None,
    number: str,
    by: User | None,
    result: str = "",
    note: str = "",
    contact: CaseContact | None = None,
    direction: str = CallDirection.OUTBOUND,
    source: str = CallSource.MANUAL,
    started_at: dt.datetime | None = None,
    answered_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    duration_s: int | None = None,
    hangup_cause: str = "",
    promise_date: dt.date | None = None,
    promise_amount: Decimal | None = None,
    recording: StoredFile | None = None,
    recording_upload: Upload | None = None,
    call_uuid: str | None = None,
) -> CallRecord:
    """Record one call on `case` (or unmatched, for an inbound call): manual notes and dialer calls alike.

    `recording_upload` (a manual note's recording from a phone) is checked by content and stored with the call.
    With `call_uuid` the write is idempotent: a retry returns the row already written, unchanged.
    A first call moves a 未开始 case to 进行中; the collector's dashboard counters move with it.
    Emits: DashboardCounterChanged (through daily_stats_bump).
    Raises: CaseClosedForWorkError (manual record on a closed case), PromiseDetailsRequiredError,
    PromiseDateTooEarlyError, WorkDateInFutureError, UploadRejectedError.
    """
    if call_uuid:
        existing = CallRecord.objects.filter(call_uuid=call_uuid).first()
        if existing is not None:
            return existing
    if case is not None and source == CallSource.MANUAL:
        ensure_open_for_work(case)
        if contact is None and by is not None and number.strip():
            # 或其他号码: a number the collector typed (issue 13), audited and offered to the owner clerk.
            suggestions.typed_number_record(case=case, by=by, number=number.strip(), via="manual")
    now = timezone.now()
    started_at = started_at or now
    if started_at > now + _CLOCK_SLACK:
        raise WorkDateInFutureError("通话时间")
    promise_date, promise_amount = checked_promise(
        promised=result == CallResult.PROMISE, promise_date=promise_date, promise_amount=promise_amount,
        work_day=timezone.localtime(started_at).date())
    if duration_s is None and answered_at is not None and ended_at is not None:
        duration_s = max(int((ended_at - answered_at).total_seconds()), 0)
    found = uploads.check_upload(recording_upload, kind=FileKind.RECORDING) if recording_upload else None
    row = CallRecord(
        case=case, collector=collector, number=number.strip(), contact=contact, direction=direction, source=source,
        started_at=started_at, answered_at=answered_at, ended_at=ended_at, duration_s=duration_s,
        hangup_cause=hangup_cause, result=result, promise_date=promise_date, promise_amount=promise_amount,
        note=note.strip(), recording=recording, call_uuid=call_uuid or None,
    )
    with StoredNames() as guard:
        if recording_upload is not None and found is not None:
            row.recording = store_checked(case=case, kind=FileKind.RECORDING, upload=recording_upload, found=found,
                                          by=by, guard=guard)
        try:
            with transaction.atomic():
                row.save()
                call = row
        except IntegrityError:
            # Two deliveries of the same dialer event raced past the lookup above: the other one won.
            if call_uuid and (winner := CallRecord.objects.filter(call_uuid=call_uuid).first()) is not None:
                guard.delete_all()  # the winner has its own recording; ours would be an orphan
                return winner
            raise
    if case is not None:
        history.call_recorded(call=call, actor=by)
        rollups.mark(worked_case_ids=[case.pk])
        mark_work_started(case=case, actor=by, reason="首次电话")
        reminder_resolve_stale(case_ids=[case.pk])  # the first-call reminder is done
    count_work(case=case, collector=collector, day=timezone.localtime(started_at).date(), **call_counters(call))
    return call


@transaction.atomic
def call_outcome_record(*, call: CallRecord, by: User, result: str, note: str = "",
                        promise_date: dt.date | None = None, promise_amount: Decimal | None = None,
                        callback_at: dt.datetime | None = None) -> CallRecord:
    """P4: the collector enters the outcome (result, promise, agreed callback time, what was said) of a call placed
    through the system, on the call record the dialer wrote, instead of typing a second record of the same call.

    Once per call: a dialer call whose result is still empty (busy and no-answer calls get theirs from the
    exchange). An outbound call that was not answered and is now reported as answered counts as connected that day
    (an inbound call counts in 呼入 only).
    Emits: DashboardCounterChanged (through daily_stats_bump, when the call becomes connected).
    Raises: CallOutcomeNotOpenError, CaseClosedForWorkError, PromiseDetailsRequiredError,
    PromiseDateTooEarlyError, CallbackTimeError (the case page's callback rule: future, ≤ 30 days, a working day,
    inside the bank's calling window).
    """
    call = CallRecord.objects.select_for_update(of=("self",)).select_related("case").get(pk=call.pk)
    if refusal := call_outcome_refusal(call=call, user=by):
        raise CallOutcomeNotOpenError(refusal)
    assert call.case is not None  # call_outcome_refusal refuses calls without a case
    ensure_open_for_work(call.case)
    promise_date, promise_amount = checked_promise(
        promised=result == CallResult.PROMISE, promise_date=promise_date, promise_amount=promise_amount,
        work_day=timezone.localtime(call.started_at).date())
    if callback_at is not None and (
            refusal := callback_refusal(bank_id=call.case.bank_id, due_at=callback_at, now=timezone.now())):
        raise CallbackTimeError(refusal)
    call.result, call.note = result, note.strip()
    call.promise_date, call.promise_amount = promise_date, promise_amount
    call.callback_at = callback_at
    call.save(update_fields=["result", "note", "promise_date", "promise_amount", "callback_at"])
    history.call_outcome_recorded(call=call, actor=by)
    if call.direction == CallDirection.OUTBOUND and call.answered_at is None and result in CONNECTED_CALL_RESULTS:
        count_work(case=call.case, collector=call.collector, day=timezone.localtime(call.started_at).date(),
                   calls_made=0, calls_connected=1)
    return call
