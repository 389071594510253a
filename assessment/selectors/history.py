"""The collection-history check: what the agency's own cases, across ALL banks, say about a person.

Matches by ID number (both its 18- and 15-digit forms) feed the scorecard. Matches by phone number whose
case carries a different ID number are listed apart and never scored: a recycled mobile number belongs to
someone else. Reads only; the audited entry point is `assessment.actions.history.history_lookup`.
Must not import views or `realtime`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from assessment.identity import id_number_variants
from assessment.scoring import HistoryFacts
from cases.enums import OPEN_STATUSES, CallResult, CaseStatus, ComplaintReason, VisitResult
from cases.models import Bank, CallRecord, Case, CaseContact, ClerkBankScope, Complaint, VisitRecord

ZERO = Decimal("0.00")
_STATUS = dict(CaseStatus.choices)
_CALL = dict(CallResult.choices)
_VISIT = dict(VisitResult.choices)
_REASON = dict(ComplaintReason.choices)


@dataclass(frozen=True)
class HistoryCase:
    case_id: int
    bank: str
    case_no: str
    debtor_name: str
    entrust_date: str  # ISO dates: the summary is stored as JSON on the assessment
    return_date: str
    entrusted: str
    repaid: str
    balance: str
    status: str
    is_open: bool
    calls: int
    visits: int
    complaints: int


@dataclass(frozen=True)
class HistoryComplaint:
    date: str
    bank: str
    case_no: str
    reason: str
    content: str


@dataclass
class HistorySummary:
    id_number: str
    phone: str
    cases: list[HistoryCase] = field(default_factory=list)
    phone_only_cases: list[HistoryCase] = field(default_factory=list)
    complaints: list[HistoryComplaint] = field(default_factory=list)
    banks: list[str] = field(default_factory=list)
    entrusted_total: str = "0.00"
    repaid_total: str = "0.00"
    open_balance: str = "0.00"
    recovery_rate: str | None = None  # percent, 2 places; None when nothing was entrusted
    open_count: int = 0
    last_contact: str = ""  # "2026-10-02 电话：承诺还款" or ""
    last_contact_date: str = ""
    # Filled only in a clerk's view (`history_for_viewer`): the cases of banks the clerk does not handle are
    # left out above and summed up here, without case numbers, texts or other people's names.
    redacted: bool = False
    other_cases: int = 0
    other_open: int = 0
    other_entrusted: str = "0.00"
    other_repaid: str = "0.00"
    other_recovery_rate: str | None = None
    other_complaints: int = 0
    other_last_contact: str = ""
    other_phone_only: int = 0

    @property
    def found(self) -> bool:
        return bool(self.cases) or self.other_cases > 0

    @property
    def case_total(self) -> int:
        return len(self.cases) + self.other_cases

    @property
    def complaint_total(self) -> int:
        return len(self.complaints) + self.other_complaints

    @property
    def phone_only_total(self) -> int:
        return len(self.phone_only_cases) + self.other_phone_only

    def facts(self) -> HistoryFacts:
        return HistoryFacts(
            cases=self.case_total, open_cases=self.open_count, open_balance=Decimal(self.open_balance),
            recovery_rate=None if self.recovery_rate is None else Decimal(self.recovery_rate),
            complaints=self.complaint_total,
        )

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> HistorySummary:
        if not data:
            return cls(id_number="", phone="")
        values = dict(data)
        values["cases"] = [HistoryCase(**c) for c in values.get("cases", [])]  # type: ignore[arg-type, union-attr]
        values["phone_only_cases"] = [HistoryCase(**c)  # type: ignore[arg-type]
                                      for c in values.get("phone_only_cases", [])]  # type: ignore[union-attr]
        values["complaints"] = [HistoryComplaint(**c)  # type: ignore[arg-type]
                                for c in values.get("complaints", [])]  # type: ignore[union-attr]
        return cls(**values)  # type: ignore[arg-type]


def _rows(cases: list[Case]) -> list[HistoryCase]:
    return [
        HistoryCase(case_id=c.pk, bank=c.bank.name, case_no=c.case_no, debtor_name=c.debtor_name,
                    entrust_date=c.entrust_date.isoformat(), return_date=c.return_date.isoformat(),
                    entrusted=f"{c.entrusted_amount:.2f}", repaid=f"{c.repaid_amount:.2f}",
                    balance=f"{c.balance:.2f}", status=_STATUS.get(c.status, c.status),
                    is_open=c.status in OPEN_STATUSES, calls=c.n_calls, visits=c.n_visits,  # type: ignore[attr-defined]
                    complaints=c.n_complaints)  # type: ignore[attr-defined]
        for c in cases
    ]


def _annotated(q: Q) -> list[Case]:
    return list(
        Case.objects.filter(q)
        .select_related("bank")
        .annotate(n_calls=Count("calls", filter=Q(calls__deleted_at=None), distinct=True),
                  n_visits=Count("visits", filter=Q(visits__deleted_at=None), distinct=True),
                  n_complaints=Count("complaints", distinct=True))
        .order_by("entrust_date", "id")[:500]
    )


def _last_contact(case_ids: list[int]) -> tuple[str, str]:
    """The latest call with a result or visit: by day, then by when it was entered (a visit has only a day)."""
    call = (CallRecord.objects.filter(case_id__in=case_ids, deleted_at=None).exclude(result="")
            .order_by("-started_at", "-id").values("started_at", "result").first())
    visit = (VisitRecord.objects.filter(case_id__in=case_ids, deleted_at=None)
             .order_by("-visited_on", "-created_at", "-id").values("visited_on", "created_at", "result").first())
    candidates: list[tuple[dt.date, dt.datetime, str]] = []
    if call is not None:
        day = timezone.localtime(call["started_at"]).date()
        candidates.append((day, call["started_at"], f"电话：{_CALL.get(call['result'], call['result'])}"))
    if visit is not None:
        candidates.append((visit["visited_on"], visit["created_at"],
                           f"外访：{_VISIT.get(visit['result'], visit['result'])}"))
    if not candidates:
        return "", ""
    day, _, text = max(candidates, key=lambda item: (item[0], item[1]))
    return f"{day:%Y-%m-%d} {text}", day.isoformat()


def collection_history(*, id_number: str, phone: str = "") -> HistorySummary:
    """Every case of the agency, any bank, held against `id_number`, and those reached only by `phone`."""
    summary = HistorySummary(id_number=id_number, phone=phone)
    variants = id_number_variants(id_number) if id_number else []
    matched = _annotated(Q(id_number__in=variants)) if variants else []
    summary.cases = _rows(matched)
    if phone:
        phone_ids = set(CaseContact.objects.filter(phone=phone, relation="本人").values_list("case_id", flat=True))
        by_phone = _annotated((Q(mobile=phone) | Q(pk__in=phone_ids)) & ~Q(id_number__in=variants or [""]))
        summary.phone_only_cases = _rows(by_phone)
    if not matched:
        return summary
    entrusted = sum((c.entrusted_amount for c in matched), ZERO)
    repaid = sum((c.repaid_amount for c in matched), ZERO)
    open_cases = [c for c in matched if c.status in OPEN_STATUSES]
    summary.entrusted_total = f"{entrusted:.2f}"
    summary.repaid_total = f"{repaid:.2f}"
    summary.open_count = len(open_cases)
    summary.open_balance = f"{sum((c.balance for c in open_cases), ZERO):.2f}"
    if entrusted > 0:
        summary.recovery_rate = f"{(repaid / entrusted * 100).quantize(Decimal('0.01')):.2f}"
    summary.banks = sorted({c.bank.name for c in matched})
    ids = [c.pk for c in matched]
    summary.last_contact, summary.last_contact_date = _last_contact(ids)
    summary.complaints = [
        HistoryComplaint(date=f"{timezone.localtime(c.created_at):%Y-%m-%d}", bank=c.case.bank.name,
                         case_no=c.case.case_no,
                         reason=_REASON.get(c.reason, c.reason), content=c.content[:200])
        for c in Complaint.objects.filter(case_id__in=ids).select_related("case__bank").order_by("created_at")
    ]
    return summary


def history_for_viewer(*, summary: HistorySummary, user: User) -> HistorySummary:
    """What `user` may read of a look-up. Managers see every bank's detail. A clerk sees the detail of the banks
    they handle; of other banks only aggregated facts (how many cases, open, amounts, recovery rate, complaint
    count, the last contact's result), never their case numbers, complaint texts or another debtor's name."""
    if user.is_manager or summary.redacted:
        return summary
    own_bank_ids = set(ClerkBankScope.objects.filter(clerk=user).values_list("bank_id", flat=True))
    all_ids = [c.case_id for c in summary.cases] + [c.case_id for c in summary.phone_only_cases]
    bank_of = dict(Case.objects.filter(pk__in=all_ids).values_list("pk", "bank_id"))
    own_names = set(Bank.objects.filter(pk__in=own_bank_ids).values_list("name", flat=True))

    def own(case: HistoryCase) -> bool:
        return bank_of.get(case.case_id) in own_bank_ids

    others = [c for c in summary.cases if not own(c)]
    view = replace(summary, cases=[c for c in summary.cases if own(c)],
                   phone_only_cases=[c for c in summary.phone_only_cases if own(c)],
                   complaints=[c for c in summary.complaints if c.bank in own_names], redacted=True,
                   banks=sorted(set(summary.banks) & own_names) + (["其他银行"] if others else []))
    view.other_phone_only = len(summary.phone_only_cases) - len(view.phone_only_cases)
    view.other_complaints = len(summary.complaints) - len(view.complaints)
    if others:
        entrusted = sum((Decimal(c.entrusted) for c in others), ZERO)
        repaid = sum((Decimal(c.repaid) for c in others), ZERO)
        view.other_cases, view.other_open = len(others), sum(1 for c in others if c.is_open)
        view.other_entrusted, view.other_repaid = f"{entrusted:.2f}", f"{repaid:.2f}"
        if entrusted > 0:
            view.other_recovery_rate = f"{(repaid / entrusted * 100).quantize(Decimal('0.01')):.2f}"
        text, _ = _last_contact([c.case_id for c in others])
        view.other_last_contact = text
    return view
