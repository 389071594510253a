"""Writes of progressive dialling (连续外呼, issue 17 item 1).

The collector's controls (start, pause, resume, skip, extend the wrap-up, stop) come from the views; the
dialer's steps (next target, call placed, number refused by the compliance guard, call ended, reconcile after a
restart) come through dialer/domain.py. Every change is published to the collector's session bar and the lines
board after commit.

The cursor: `position` is the case being worked in `case_ids`, `number_index` the next number of that case's dial
list (cases.selectors.dialer.dial_number_list: the debtor's mobile first, then the contacts). A connected call
finishes its case; an unanswered one moves to the case's next number, and past the last number to the next case.
Sits above `cases`; must not import views, consumers or `dialer`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from cases.enums import OPEN_STATUSES
from cases.models import CallRecord, Case
from cases.selectors.dialer import dial_number_list
from progressive.exceptions import SessionError
from progressive.models import (
    EXTEND_STEP_S,
    MAX_WRAP_UP_S,
    MIN_WRAP_UP_S,
    OPEN_SESSION_STATUSES,
    DialSession,
    EntryKind,
    SessionEntry,
    SessionSource,
    SessionStatus,
)
from realtime import groups
from realtime.events_progressive import DialSessionChanged
from realtime.publish import publish_on_commit

# After an unanswered attempt the collector reads what happened before their phone rings again.
UNANSWERED_PAUSE_S = 3
# End causes (dialer.session.EndCause values) of a call the collector's own phone did not take: the customer was
# never dialled, and ringing the phone again and again would be pointless, so the session pauses.
COLLECTOR_CAUSES = {"collector_no_answer", "collector_busy", "collector_unavailable"}
COLLECTOR_MISSED_REASON = "您的话机没有接听，连续外呼已暂停；准备好后点“继续”"


def _publish(session: DialSession) -> None:
    publish_on_commit(DialSessionChanged(session_id=session.pk, collector_id=session.collector_id,
                                         status=session.status),
                      to=[groups.user(session.collector_id), groups.lines()])


def _locked(session_id: int) -> DialSession:
    return DialSession.objects.select_for_update().get(pk=session_id)


def _entry(session: DialSession, *, kind: str, case_id: int | None = None, contact_id: int | None = None,
           number: str = "", rule: str = "", message: str = "", call_uuid: str = "") -> SessionEntry:
    return SessionEntry.objects.create(session=session, case_id=case_id, contact_id=contact_id, number=number,
                                       kind=kind, rule=rule[:32], message=message[:200], call_uuid=call_uuid)


# ---- the collector's controls ------------------------------------------------------------------------------

@transaction.atomic
def session_start(*, collector: User, case_ids: list[int], source: str = SessionSource.QUEUE,
                  wrap_up_s: int) -> DialSession:
    """Start dialling `case_ids` (in this order) for `collector`; the dialer rings their phone when a line is free.

    Only the collector's own open cases are kept, each once.
    Emits: DialSessionChanged → user.<collector>, lines.
    Raises: SessionError (not a phone collector, no extension, a session already open, no case, bad wrap-up).
    """
    if not (collector.is_active and collector.is_phone_collector):
        raise SessionError("只有电话催收业务员可以连续外呼")
    if not collector.sip_endpoint:
        raise SessionError("您还没有设置分机，请联系系统管理员")
    if not MIN_WRAP_UP_S <= wrap_up_s <= MAX_WRAP_UP_S:
        raise SessionError(f"整理时间应在 {MIN_WRAP_UP_S}–{MAX_WRAP_UP_S} 秒之间")
    if source not in SessionSource.values:
        raise SessionError("来源不正确")
    wanted = list(dict.fromkeys(case_ids))
    mine = set(Case.objects.filter(pk__in=wanted, collector=collector, status__in=OPEN_STATUSES)
               .values_list("pk", flat=True))
    ordered = [cid for cid in wanted if cid in mine]
    if not ordered:
        raise SessionError("没有可以拨打的案件")
    try:
        with transaction.atomic():
            session = DialSession.objects.create(collector=collector, source=source, case_ids=ordered,
                                                 wrap_up_s=wrap_up_s, ready_at=timezone.now())
    except IntegrityError as exc:
        raise SessionError("您已经有一个连续外呼在进行，请先结束它") from exc
    _publish(session)
    return session


def _open_for(session: DialSession, by: User) -> DialSession:
    locked = _locked(session.pk)
    if locked.collector_id != by.pk:
        raise SessionError("只有该业务员本人可以操作这个连续外呼")
    if not locked.is_open:
        raise SessionError("这个连续外呼已经结束")
    return locked


@transaction.atomic
def session_pause(*, session: DialSession, by: User) -> DialSession:
    """No new call after the current one until resumed.

    Emits: DialSessionChanged. Raises: SessionError (not theirs, ended).
    """
    session = _open_for(session, by)
    session.status, session.pause_reason = SessionStatus.PAUSED, "点“继续”接着拨打下一个案件"
    session.save(update_fields=["status", "pause_reason"])
    _publish(session)
    return session


@transaction.atomic
def session_resume(*, session: DialSession, by: User) -> DialSession:
    """Dial again from the next number (at once unless a wrap-up is still running).

    Emits: DialSessionChanged. Raises: SessionError (not theirs, ended).
    """
    session = _open_for(session, by)
    session.status, session.pause_reason = SessionStatus.ACTIVE, ""
    if session.ready_at is None or session.ready_at > timezone.now():
        session.ready_at = timezone.now()
    session.extended = False
    session.save(update_fields=["status", "pause_reason", "ready_at", "extended"])
    _publish(session)
    return session


@transaction.atomic
def session_skip(*, session: DialSession, by: User) -> DialSession:
    """Skip the case the cursor is on (the next one to be dialled; a call already ringing goes on).

    Emits: DialSessionChanged. Raises: SessionError (not theirs, ended, nothing left).
    """
    session = _open_for(session, by)
    if session.position >= len(session.case_ids):
        raise SessionError("没有可以跳过的案件了")
    _entry(session, kind=EntryKind.CASE_SKIPPED, case_id=session.case_ids[session.position], message="业务员跳过")
    session.position += 1
    session.number_index = 0
    session.save(update_fields=["position", "number_index"])
    _publish(session)
    return session


@transaction.atomic
def session_extend(*, session: DialSession, by: User, seconds: int = EXTEND_STEP_S) -> DialSession:
    """Give the collector more wrap-up time: the next call waits that much longer, even once the outcome is saved.

    Emits: DialSessionChanged. Raises: SessionError (not theirs, ended).
    """
    session = _open_for(session, by)
    now = timezone.now()
    base = session.ready_at if session.ready_at is not None and session.ready_at > now else now
    session.ready_at = base + dt.timedelta(seconds=seconds)
    session.extended = True
    session.save(update_fields=["ready_at", "extended"])
    _publish(session)
    return session


@transaction.atomic
def session_stop(*, session: DialSession, by: User | None, reason: str = "业务员结束") -> DialSession:
    """End the session (a call in progress goes on and is recorded as usual).

    Emits: DialSessionChanged. Raises: SessionError (not theirs, already ended).
    """
    session = _locked(session.pk)
    if by is not None and session.collector_id != by.pk:
        raise SessionError("只有该业务员本人可以操作这个连续外呼")
    if not session.is_open:
        raise SessionError("这个连续外呼已经结束")
    _end(session, reason)
    return session


def _end(session: DialSession, reason: str) -> None:
    session.status, session.ended_at, session.end_reason = SessionStatus.STOPPED, timezone.now(), reason[:100]
    session.save(update_fields=["status", "ended_at", "end_reason"])
    _publish(session)


# ---- the dialer's steps (through dialer/domain.py) ---------------------------------------------------------

@dataclass(frozen=True)
class DialTarget:
    session_id: int
    collector_id: int
    extension: str
    case_id: int
    contact_id: int | None
    number: str
    position: int
    number_index: int


@transaction.atomic
def session_next_target(*, session_id: int) -> DialTarget | None:
    """The next number to dial: the cursor's case's next dial-list number. Cases that left the collector (returned,
    settled, re-assigned) or have no number left are passed over; past the last case the session ends.

    Emits: DialSessionChanged (when the session ends). Raises: nothing.
    """
    session = _locked(session_id)
    if session.status != SessionStatus.ACTIVE or session.current_call_uuid:
        return None
    collector = session.collector
    moved = False
    while session.position < len(session.case_ids):
        case_id = session.case_ids[session.position]
        case = Case.objects.filter(pk=case_id, collector=collector, status__in=OPEN_STATUSES).first()
        rows = dial_number_list(case=case) if case is not None else []
        if session.number_index < len(rows):
            row = rows[session.number_index]
            if moved:
                session.save(update_fields=["position", "number_index"])
            return DialTarget(session_id=session.pk, collector_id=collector.pk, extension=collector.sip_endpoint,
                              case_id=case_id, contact_id=row.contact_id, number=row.number,
                              position=session.position, number_index=session.number_index)
        if case is None or not rows:
            _entry(session, kind=EntryKind.CASE_DONE, case_id=case_id if case is not None else None,
                   message="案件已不在您名下或已结案" if case is None else "没有可拨打的号码")
        session.position += 1
        session.number_index = 0
        moved = True
    session.save(update_fields=["position", "number_index"])
    _end(session, "全部案件已拨完")
    return None


@transaction.atomic
def session_call_placed(*, target: DialTarget, call_uuid: str) -> None:
    """The dialer passed every rule and is ringing the collector for `target` (before any event of the call).

    Emits: DialSessionChanged. Raises: nothing.
    """
    session = _locked(target.session_id)
    _entry(session, kind=EntryKind.DIALLED, case_id=target.case_id, contact_id=target.contact_id,
           number=target.number, call_uuid=call_uuid)
    session.current_call_uuid, session.current_case_id = call_uuid, target.case_id
    session.calls += 1
    session.awaiting_call = None
    session.extended = False
    if (session.position, session.number_index) == (target.position, target.number_index):
        session.number_index += 1
    session.save(update_fields=["current_call_uuid", "current_case", "calls", "awaiting_call", "extended",
                                "number_index"])
    _publish(session)


@transaction.atomic
def session_number_refused(*, target: DialTarget, rule: str, message: str) -> None:
    """The compliance guard refused `target`'s number: logged with its rule and message, and passed over.

    Emits: DialSessionChanged. Raises: nothing.
    """
    session = _locked(target.session_id)
    _entry(session, kind=EntryKind.REFUSED, case_id=target.case_id, contact_id=target.contact_id,
           number=target.number, rule=rule, message=message)
    session.skipped += 1
    if (session.position, session.number_index) == (target.position, target.number_index):
        session.number_index += 1
    session.save(update_fields=["skipped", "number_index"])
    _publish(session)


@transaction.atomic
def session_call_ended(*, session_id: int, call_uuid: str, answered: bool, cause: str) -> None:
    """The session's call ended (its record is written): the wrap-up starts. After a connected call the next one
    waits for its outcome (or the wrap-up's end) and the case is done; after an unanswered one, a short pause.
    A call the collector's own phone did not take pauses the session.

    Emits: DialSessionChanged. Raises: nothing.
    """
    session = _locked(session_id)
    if session.current_call_uuid != call_uuid:
        return  # already reconciled (a restart) or a repeated report
    now = timezone.now()
    on_cursor = (session.position < len(session.case_ids)
                 and session.case_ids[session.position] == session.current_case_id)
    session.current_call_uuid = ""
    if answered:
        session.connected += 1
        record = CallRecord.objects.filter(call_uuid=call_uuid).first()
        if record is not None and record.result and not session.extended:
            # The outcome was saved between the record's write and this step (the collector's form opens on the
            # record): nothing left to wait for, so the next call goes now rather than after the whole wrap-up.
            session.ready_at = now
        else:
            session.awaiting_call = record
            session.ready_at = now + dt.timedelta(seconds=session.wrap_up_s)
        if on_cursor:
            session.position += 1
            session.number_index = 0
    else:
        session.ready_at = now + dt.timedelta(seconds=UNANSWERED_PAUSE_S)
        if cause in COLLECTOR_CAUSES:
            if on_cursor and session.number_index > 0:
                session.number_index -= 1  # the customer was never dialled: that number again on resume
            if session.status == SessionStatus.ACTIVE:
                session.status, session.pause_reason = SessionStatus.PAUSED, COLLECTOR_MISSED_REASON
    session.save()
    _publish(session)


@transaction.atomic
def session_pause_system(*, session_id: int, reason: str) -> None:
    """The dialer cannot ring the collector (phone offline): pause with the reason they read.

    Emits: DialSessionChanged. Raises: nothing.
    """
    session = _locked(session_id)
    if session.status != SessionStatus.ACTIVE:
        return
    session.status, session.pause_reason = SessionStatus.PAUSED, reason[:100]
    session.save(update_fields=["status", "pause_reason"])
    _publish(session)


@transaction.atomic
def session_outcome_saved(*, call_id: int) -> None:
    """The collector saved the outcome of the call the session waits for: the next call may go now (unless they
    extended the wrap-up).

    Emits: DialSessionChanged. Raises: nothing.
    """
    for session in DialSession.objects.select_for_update().filter(awaiting_call_id=call_id,
                                                                  status__in=OPEN_SESSION_STATUSES):
        session.awaiting_call = None
        if not session.extended:
            session.ready_at = timezone.now()
        session.save(update_fields=["awaiting_call", "ready_at"])
        _publish(session)


@transaction.atomic
def session_reconcile(*, live_call_uuids: list[str]) -> int:
    """After a dialer (re)start or reconnect: a session whose call the dialer no longer has is free again (the call
    itself is written as lost by the dialer, or was never placed). Returns how many sessions were freed.

    Emits: DialSessionChanged. Raises: nothing.
    """
    stale = (DialSession.objects.select_for_update().filter(status__in=OPEN_SESSION_STATUSES)
             .exclude(current_call_uuid="").exclude(current_call_uuid__in=live_call_uuids))
    freed = 0
    for session in stale:
        session.current_call_uuid = ""
        session.ready_at = timezone.now()
        session.save(update_fields=["current_call_uuid", "ready_at"])
        _publish(session)
        freed += 1
    return freed
