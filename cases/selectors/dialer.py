"""Reads for the dialer and its pages (issue 5): compliance facts, inbound matching, extensions, lines board.

Must not import views, `realtime.consumers` or `dialer`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from cases.enums import CONNECTED_CALL_RESULTS, OPEN_STATUSES, CallDirection
from cases.models import BlockedNumber, CallPolicy, CallRecord, CallRefusal, Case, CaseContact, NumberSuggestion
from cases.models.compliance import (
    DEFAULT_MAX_ANSWERED_PER_DEBTOR,
    DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE,
    DEFAULT_MAX_UNANSWERED_PER_NUMBER,
    DEFAULT_THIRD_PARTY_AFTER_UNANSWERED,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
    NumberSuggestionStatus,
)
from cases.validators import phone_forms, phone_key


@dataclass(frozen=True)
class PolicyFacts:
    window_start: dt.time
    window_end: dt.time
    max_answered_per_debtor: int
    max_unanswered_per_number: int
    answered_today: int
    unanswered_today: int
    blocked: str
    third_party: bool = False
    party_label: str = ""
    debtor_unanswered_today: int = 0
    third_party_after_unanswered: int = DEFAULT_THIRD_PARTY_AFTER_UNANSWERED
    third_party_answered_today: int = 0
    max_third_party_answered_per_case: int = DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE


def _today_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    day = timezone.localtime(now).date()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def _answered_q() -> Q:
    return Q(answered_at__isnull=False) | Q(result__in=CONNECTED_CALL_RESULTS)


def compliance_facts(*, case: Case | None, number: str, now: dt.datetime,
                     contact: CaseContact | None = None) -> PolicyFacts:
    """The bank's calling policy (or the defaults) and today's counts for this debtor and number, and whether the
    number is a third party's (`contact`, or a contact of the case with this number, that is not the debtor's own)
    with the day's counts the third-party rule needs."""
    policy = CallPolicy.objects.filter(bank_id=case.bank_id).first() if case is not None else None
    start, end = _today_bounds(now)
    today = CallRecord.objects.filter(deleted_at__isnull=True, started_at__gte=start, started_at__lt=end)
    outbound = today.filter(direction=CallDirection.OUTBOUND)
    answered = 0
    third = _party(case=case, number=number, contact=contact)
    debtor_unanswered = third_answered = 0
    if case is not None:
        debtor = Q(case__id_number=case.id_number) if case.id_number else Q(case=case)
        # Only calls we placed count: a debtor calling in must not use up the calls back (issue 14).
        answered = outbound.filter(debtor).filter(_answered_q()).count()
        if third is not None:
            own = _number_forms(third.debtor_keys)
            debtor_unanswered = outbound.filter(number__in=own).exclude(_answered_q()).count()
            third_answered = outbound.filter(case=case).exclude(number__in=own).filter(_answered_q()).count()
    unanswered = outbound.filter(number=number).exclude(_answered_q()).count()
    blocked = blocked_reason(number=number)
    return PolicyFacts(
        window_start=policy.window_start if policy else DEFAULT_WINDOW_START,
        window_end=policy.window_end if policy else DEFAULT_WINDOW_END,
        max_answered_per_debtor=policy.max_answered_per_debtor if policy else DEFAULT_MAX_ANSWERED_PER_DEBTOR,
        max_unanswered_per_number=(policy.max_unanswered_per_number if policy
                                   else DEFAULT_MAX_UNANSWERED_PER_NUMBER),
        answered_today=answered, unanswered_today=unanswered, blocked=blocked,
        third_party=third is not None, party_label=third.label if third is not None else "",
        debtor_unanswered_today=debtor_unanswered,
        third_party_after_unanswered=(policy.third_party_after_unanswered if policy
                                      else DEFAULT_THIRD_PARTY_AFTER_UNANSWERED),
        third_party_answered_today=third_answered,
        max_third_party_answered_per_case=(policy.max_third_party_answered_per_case if policy
                                           else DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE),
    )


@dataclass(frozen=True)
class ThirdParty:
    label: str  # "配偶 张三"
    debtor_keys: frozenset[str]  # the debtor's own numbers on the case (dial keys)


def _number_forms(keys: frozenset[str]) -> list[str]:
    return sorted({form for key in keys for form in phone_forms(key)})


def _party(*, case: Case | None, number: str, contact: CaseContact | None) -> ThirdParty | None:
    """The third party `number` belongs to on `case`, None when it is the debtor's own (or not a contact of the case:
    a number the collector typed is treated as the debtor's, as it was before the rule)."""
    if case is None:
        return None
    contacts = list(CaseContact.objects.filter(case=case).order_by("id"))
    debtor_keys = frozenset(k for k in [dial_key(case.mobile), *(dial_key(c.phone) for c in contacts if c.is_debtor)]
                            if k)
    key = dial_key(number)
    if not key or key in debtor_keys:
        return None
    if contact is None or contact.case_id != case.pk or dial_key(contact.phone) != key:
        contact = next((c for c in contacts if dial_key(c.phone) == key), None)
    if contact is None or contact.is_debtor:
        return None
    label = " ".join(p for p in (contact.relation, contact.name) if p) or "联系人"
    return ThirdParty(label=label, debtor_keys=debtor_keys)


def blocked_reason(*, number: str) -> str:
    """The reason `number` may not be dialled now ("" when it may): an active BlockedNumber, by its digits."""
    key = dial_key(number)
    if not key:
        return ""
    return BlockedNumber.objects.filter(number=key, lifted_at=None).values_list("reason", flat=True).first() or ""


def blocked_list_for_case(*, case: Case) -> list[BlockedNumber]:
    """Blocks marked on this case (active and lifted) and active blocks on any of its numbers marked elsewhere."""
    keys = {dial_key(n) for n in [case.mobile, *CaseContact.objects.filter(case=case).values_list("phone", flat=True)]}
    keys.discard("")
    qs = BlockedNumber.objects.filter(Q(case=case) | Q(number__in=keys, lifted_at=None))
    return list(qs.select_related("case", "created_by", "lifted_by").order_by("lifted_at", "-created_at", "-id"))


@dataclass
class DialNumber:
    """One row of a case's dial list: dialled by contact id ("" = the case's own mobile), never by number."""

    contact_id: int | None
    label: str
    number: str  # as stored; the view masks it
    also: list[str] = field(default_factory=list)  # other entries with the same number, merged into this row
    blocked: str = ""  # the BlockedNumberReason value when the number may not be dialled


def dial_key(number: str) -> str:
    """The number as the exchange sees it (cases.validators.phone_key, the one rule for the dial list, blocked
    numbers and inbound matching): '138 1234 5678', '+86 13812345678' and '024-1234 5678' compare equal."""
    return phone_key(number)


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
        by_key[dial_key(case.mobile)] = row
    contacts: list[CaseContact] = list(CaseContact.objects.filter(case=case).order_by("id"))
    for contact in contacts:
        label = " ".join(p for p in (contact.relation, contact.name) if p) or "联系人"
        key = dial_key(contact.phone)
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
    active = dict(BlockedNumber.objects.filter(number__in=list(by_key), lifted_at=None).values_list("number", "reason"))
    for key, row in by_key.items():
        row.blocked = active.get(key, "")
    return rows


@dataclass(frozen=True)
class CallerCase:
    case: Case
    contact: CaseContact | None  # the contact whose number called (the debtor's own 本人 contact for their mobile)


def case_for_caller(number: str) -> CallerCase | None:
    """Inbound matching: the open, assigned case whose debtor or contact has this number (newest first), the number
    compared as the exchange sees it (+86…, 86…, a 0 before a mobile, a landline with or without its hyphen)."""
    forms = phone_forms(number)
    if not forms:
        return None
    case = (Case.objects.filter(status__in=OPEN_STATUSES, collector__isnull=False)
            .filter(Q(mobile__in=forms) | Q(contacts__phone__in=forms))
            .select_related("collector").order_by("-id").first())
    if case is None:
        return None
    contacts = list(CaseContact.objects.filter(case=case, phone__in=forms).order_by("id"))
    contact = next((c for c in contacts if c.is_debtor), None) if case.mobile in forms else None
    return CallerCase(case=case, contact=contact or (contacts[0] if contacts else None))


def collector_extensions() -> dict[str, int]:
    """PJSIP extension → user id of every active collector with a phone."""
    rows = (User.objects.filter(is_active=True).exclude(sip_endpoint="")
            .filter(Q(is_phone_collector=True) | Q(is_field_collector=True))
            .values_list("sip_endpoint", "pk"))
    return dict(rows)


def missed_calls(*, user: User, days: int = 7) -> QuerySet[CallRecord]:
    """Inbound calls nobody took in the last `days` days (no answer, or the caller gave up), newest first: on the
    cases `user` may see, and unmatched ones (no case) for every role that handles calls."""
    from cases.selectors.cases import case_visible_to

    since = timezone.now() - dt.timedelta(days=days)
    base = CallRecord.objects.filter(direction=CallDirection.INBOUND, answered_at__isnull=True, deleted_at__isnull=True,
                                     started_at__gte=since)
    scope = Q(case__in=case_visible_to(user))
    if user.is_active and (user.is_collector or user.is_clerk or user.is_manager or user.is_sysadmin):
        scope |= Q(case__isnull=True)
    return base.filter(scope).select_related("case", "contact", "collector").order_by("-started_at")


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
