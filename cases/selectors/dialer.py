"""Reads for the dialer and its pages (issue 5): compliance facts, inbound matching, extensions, lines board.

Must not import views, `realtime.consumers` or `dialer`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from cases.enums import CONNECTED_CALL_RESULTS, OPEN_STATUSES, CallDirection
from cases.models import BlockedNumber, CallPolicy, CallRecord, CallRefusal, Case, CaseContact, NumberSuggestion
from cases.models.compliance import (
    DEFAULT_MAX_ANSWERED_PER_DEBTOR,
    DEFAULT_MAX_UNANSWERED_PER_NUMBER,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
    NumberSuggestionStatus,
)
from cases.validators import normalize_phone


@dataclass(frozen=True)
class PolicyFacts:
    window_start: dt.time
    window_end: dt.time
    max_answered_per_debtor: int
    max_unanswered_per_number: int
    answered_today: int
    unanswered_today: int
    blocked: str


def _today_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    day = timezone.localtime(now).date()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _answered_q() -> Q:
    return Q(answered_at__isnull=False) | Q(result__in=CONNECTED_CALL_RESULTS)


def compliance_facts(*, case: Case | None, number: str, now: dt.datetime) -> PolicyFacts:
    """The bank's calling policy (or the defaults) and today's counts for this debtor and number."""
    policy = CallPolicy.objects.filter(bank_id=case.bank_id).first() if case is not None else None
    start, end = _today_bounds(now)
    today = CallRecord.objects.filter(deleted_at__isnull=True, started_at__gte=start, started_at__lt=end)
    answered = 0
    if case is not None:
        debtor = Q(case__id_number=case.id_number) if case.id_number else Q(case=case)
        answered = today.filter(debtor).filter(_answered_q()).count()
    unanswered = (today.filter(number=number, direction=CallDirection.OUTBOUND).exclude(_answered_q()).count())
    blocked = BlockedNumber.objects.filter(number=number).values_list("reason", flat=True).first() or ""
    return PolicyFacts(
        window_start=policy.window_start if policy else DEFAULT_WINDOW_START,
        window_end=policy.window_end if policy else DEFAULT_WINDOW_END,
        max_answered_per_debtor=policy.max_answered_per_debtor if policy else DEFAULT_MAX_ANSWERED_PER_DEBTOR,
        max_unanswered_per_number=(policy.max_unanswered_per_number if policy
                                   else DEFAULT_MAX_UNANSWERED_PER_NUMBER),
        answered_today=answered, unanswered_today=unanswered, blocked=blocked,
    )


@dataclass
class DialNumber:
    """One row of a case's dial list: dialled by contact id ("" = the case's own mobile), never by number."""

    contact_id: int | None
    label: str
    number: str  # as stored; the view masks it
    also: list[str] = field(default_factory=list)  # other entries with the same number, merged into this row


def _dial_key(number: str) -> str:
    """The number as the exchange sees it: '138 1234 5678', '+86 13812345678' and '024-1234 5678' compare equal
    to their bare digits."""
    return re.sub(r"\D", "", normalize_phone(number))


def dial_number_list(*, case: Case) -> list[DialNumber]:
    """The case's numbers to dial, each number once: the debtor's mobile first, then the contacts in order.

    Banks' files usually repeat the debtor's mobile as a 本人 contact; listing it twice invites two calls to one
    person (and the daily attempt cap counts both). A repeated number is merged into the first row that has
    it, named in `also`; when the repeat is the 本人 contact, the row dials through that contact so the call
    is linked to it.
    """
    rows: list[DialNumber] = []
    by_key: dict[str, DialNumber] = {}
    if case.mobile.strip():
        row = DialNumber(contact_id=None, label="本人手机", number=case.mobile)
        rows.append(row)
        by_key[_dial_key(case.mobile)] = row
    contacts: list[CaseContact] = list(CaseContact.objects.filter(case=case).order_by("id"))
    for contact in contacts:
        label = " ".join(p for p in (contact.relation, contact.name) if p) or "联系人"
        key = _dial_key(contact.phone)
        if not key:
            continue
        kept = by_key.get(key)
        if kept is None:
            row = DialNumber(contact_id=contact.pk, label=label, number=contact.phone)
            rows.append(row)
            by_key[key] = row
            continue
        if kept.contact_id is None and contact.is_debtor:
            kept.contact_id = contact.pk
        if label not in (kept.label, "本人", *kept.also) and not (contact.is_debtor and kept.label == "本人手机"):
            kept.also.append(label)
    return rows


def case_for_caller(number: str) -> Case | None:
    """Inbound matching: the open, assigned case whose debtor or contact has this number (newest first)."""
    number = number.strip()
    if not number:
        return None
    return (Case.objects.filter(status__in=OPEN_STATUSES, collector__isnull=False)
            .filter(Q(mobile=number) | Q(contacts__phone=number))
            .select_related("collector").order_by("-id").first())


def collector_extensions() -> dict[str, int]:
    """PJSIP extension → user id of every active collector with a phone."""
    rows = (User.objects.filter(is_active=True).exclude(sip_endpoint="")
            .filter(Q(is_phone_collector=True) | Q(is_field_collector=True))
            .values_list("sip_endpoint", "pk"))
    return dict(rows)


def unmatched_recordings() -> QuerySet[CallRecord]:
    """Dialer calls with a recording that match no case yet (inbound from unknown numbers)."""
    return (CallRecord.objects.filter(case__isnull=True, recording__isnull=False, deleted_at__isnull=True)
            .select_related("recording", "collector").order_by("-started_at"))


def calls_today_by_collector(now: dt.datetime) -> dict[int, tuple[int, int, int]]:
    """collector id → (outbound calls today, outbound answered today, inbound today), deleted records left out:
    the same split as the dashboard's 外呼 / 接通 / 呼入."""
    start, end = _today_bounds(now)
    outbound = Q(direction=CallDirection.OUTBOUND)
    rows = (CallRecord.objects.filter(deleted_at__isnull=True, started_at__gte=start, started_at__lt=end,
                                      collector__isnull=False)
            .values("collector").annotate(made=Count("id", filter=outbound),
                                          answered=Count("id", filter=outbound & _answered_q()),
                                          inbound=Count("id", filter=Q(direction=CallDirection.INBOUND))))
    return {r["collector"]: (r["made"], r["answered"], r["inbound"]) for r in rows}


def refusals_today_by_collector(now: dt.datetime) -> dict[int, int]:
    start, end = _today_bounds(now)
    rows = (CallRefusal.objects.filter(created_at__gte=start, created_at__lt=end)
            .values("collector").annotate(n=Count("id")))
    return {r["collector"]: r["n"] for r in rows}


def recent_refusals(limit: int = 50) -> QuerySet[CallRefusal]:
    return CallRefusal.objects.select_related("collector", "case").order_by("-created_at")[:limit]


def pending_number_suggestions(case: Case) -> QuerySet[NumberSuggestion]:
    return (NumberSuggestion.objects.filter(case=case, status=NumberSuggestionStatus.PENDING)
            .select_related("suggested_by"))
