"""The dialer's door into the domain: async wrappers (sync_to_async) around cases actions and selectors (and
those of the apps above `cases` that the dialer drives: progressive dialling).

The ONLY dialer module that imports `cases` (or `progressive`). Everything here runs in a worker thread with
fresh database connections around it, so a long-lived dialer never holds a stale connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections, transaction
from django.utils import timezone

from callerids import actions as callerid_actions
from callerids.exceptions import CallerNumbersExhaustedError
from callerids.selectors import caller_number_for
from cases.actions import dialer as actions
from cases.models import CallRecord, Case, CaseContact
from cases.selectors import dialer as selectors
from dialer import pacing
from dialer.compliance import ComplianceFacts
from progressive import actions as session_actions
from progressive import selectors as session_selectors

P = ParamSpec("P")
R = TypeVar("R")


def _db(fn: Callable[P, R]) -> Callable[P, R]:
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()
    return run


def _async(fn: Callable[P, R]):  # type: ignore[no-untyped-def]
    # Not thread-sensitive: ten calls' writes run side by side in the worker pool instead of queueing
    # behind one thread (bench/dialer.py: p99 panel latency 3.7 s → see README); each run has its own
    # connection, closed around it.
    return sync_to_async(_db(fn), thread_sensitive=False)


@dataclass(frozen=True)
class CallerMatch:
    case_id: int
    collector_id: int
    extension: str
    label: str
    contact_id: int | None = None


def _compliance_facts(case_id: int | None, number: str, now: dt.datetime,
                      contact_id: int | None = None) -> ComplianceFacts:
    case = Case.objects.filter(pk=case_id).first() if case_id else None
    contact = CaseContact.objects.filter(pk=contact_id).first() if contact_id and case is not None else None
    f = selectors.compliance_facts(case=case, number=number, now=now, contact=contact)
    return ComplianceFacts(window_start=f.window_start, window_end=f.window_end,
                           max_answered_per_debtor=f.max_answered_per_debtor,
                           max_unanswered_per_number=f.max_unanswered_per_number,
                           answered_today=f.answered_today, unanswered_today=f.unanswered_today, blocked=f.blocked,
                           third_party=f.third_party, party_label=f.party_label,
                           debtor_unanswered_today=f.debtor_unanswered_today,
                           third_party_after_unanswered=f.third_party_after_unanswered,
                           third_party_answered_today=f.third_party_answered_today,
                           max_third_party_answered_per_case=f.max_third_party_answered_per_case)


def _notify(*, collector_id: int, case_id: int | None, **kwargs: object) -> None:
    case = Case.objects.filter(pk=case_id).first() if case_id else None
    actions.call_status_notify(collector_id=collector_id, case=case, **kwargs)  # type: ignore[arg-type]


def _case_for_caller(number: str) -> CallerMatch | None:
    found = selectors.case_for_caller(number)
    if found is None or found.case.collector is None:
        return None
    case = found.case
    return CallerMatch(case_id=case.pk, collector_id=case.collector.pk, extension=case.collector.sip_endpoint,
                       label=actions.case_label(case), contact_id=found.contact.pk if found.contact else None)


def _recording_store(name: str, data: bytes) -> bool:
    """True when the recording is stored here, now or before (only then may it be deleted on Asterisk)."""
    if actions.recording_store(name=name, data=data) is not None:
        return True
    return actions.recording_is_stored(name=name)


def _call_write(**kwargs: object) -> int:
    """Write the call; the first write of an outbound call that showed a pool number also counts it on the number
    (answered or not) and checks the number's health (a repeated write counts nothing)."""
    # One transaction: a retried write (the first one failed half way) neither loses nor doubles the count.
    with transaction.atomic():
        first = not CallRecord.objects.filter(call_uuid=kwargs["call_uuid"]).exists()
        call = actions.dialer_call_write(**kwargs)  # type: ignore[arg-type]
        if first and call.caller_id and call.direction == "outbound":
            callerid_actions.caller_number_call_ended(number=call.caller_id, answered=call.answered_at is not None,
                                                      now=call.ended_at or call.started_at)
    return call.pk


@dataclass(frozen=True)
class CallerIdPick:
    """The pool number for a call: `number` "" and `refusal` "" when the trunk has no pool (no caller ID set);
    `refusal` (Chinese) when every usable number is at its daily cap."""

    number: str = ""
    refusal: str = ""


def _caller_id_take(case_id: int | None, trunk: str) -> CallerIdPick:
    bank_id = Case.objects.filter(pk=case_id).values_list("bank_id", flat=True).first() if case_id else None
    try:
        return CallerIdPick(number=callerid_actions.caller_number_take(bank_id=bank_id, trunk=trunk,
                                                                       now=timezone.now()))
    except CallerNumbersExhaustedError as exc:
        return CallerIdPick(refusal=str(exc))


def _caller_id_release(number: str) -> None:
    callerid_actions.caller_number_release(number=number, now=timezone.now())


def _caller_id_known(exten: str) -> str:
    """The pool number `exten` (the number an inbound caller dialled) is, "" when it is none of ours."""
    found = caller_number_for(exten)
    return found.number if found is not None else ""


compliance_facts = _async(_compliance_facts)
notify = _async(_notify)
refusal_log = _async(actions.call_refusal_log)
lines_changed = _async(actions.lines_changed_notify)
case_for_caller = _async(_case_for_caller)
collector_extensions = _async(selectors.collector_extensions)
call_write = _async(_call_write)
caller_id_take = _async(_caller_id_take)
caller_id_release = _async(_caller_id_release)
caller_id_known = _async(_caller_id_known)
recording_store = _async(_recording_store)
recording_fetch_failed = _async(actions.recording_fetch_failed)
pending_recording_names = _async(actions.pending_recording_names)


# ---- progressive dialling (连续外呼, issue 17) --------------------------------------------------------------

def _progressive_waiting(now: dt.datetime) -> list[pacing.Waiting]:
    return [pacing.Waiting(session_id=r.session_id, extension=r.extension, since=r.ready_at)
            for r in session_selectors.session_ready_list(now=now)]


progressive_waiting = _async(_progressive_waiting)
session_next_target = _async(session_actions.session_next_target)
session_call_placed = _async(session_actions.session_call_placed)
session_number_refused = _async(session_actions.session_number_refused)
session_call_ended = _async(session_actions.session_call_ended)
session_pause_system = _async(session_actions.session_pause_system)
session_reconcile = _async(session_actions.session_reconcile)
