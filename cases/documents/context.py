"""The visit form's (外访记录表, P5) data, gathered by one function that does every query up front.

Renderers (`docx.py`, `pdf.py`) receive this dataclass and never touch the ORM. The commission rate is
deliberately absent (P7: the form goes to collectors). ID, card and phone numbers follow cases.masking, the
rule of the case page, for the person exporting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from cases.enums import VisitResult
from cases.masking import masker_for
from cases.models import CallRecord, Case, VisitRecord

RECENT_CALLS = 15
RECENT_VISITS = 5


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


@dataclass(frozen=True)
class ContactLine:
    relation: str
    name: str
    phone: str


@dataclass(frozen=True)
class CallLine:
    when: str
    direction: str
    who: str
    number: str
    result: str
    note: str
    collector: str


@dataclass(frozen=True)
class VisitLine:
    day: str
    collector: str
    address: str
    result: str
    note: str


@dataclass(frozen=True)
class VisitFormContext:
    case_no: str
    bank: str
    batch_no: str
    product_type: str
    debtor_name: str
    id_number: str
    mobile: str
    card_no: str
    home_address: str
    employer: str
    work_address: str
    region: str
    entrusted_amount: str
    principal: str
    interest: str
    fees: str
    repaid_amount: str
    balance: str
    overdue_days: str
    entrust_date: str
    return_date: str
    collector: str
    owner_clerk: str
    owner_clerk_phone: str
    generated_at: str
    generated_by: str
    contacts: list[ContactLine] = field(default_factory=list)
    calls: list[CallLine] = field(default_factory=list)
    call_total: int = 0
    visits: list[VisitLine] = field(default_factory=list)
    result_options: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """For docxtpl: a plain mapping (dataclass instances stay attribute-accessible inside it)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def visit_form_context(*, case: Case, user: User) -> VisitFormContext:
    mask = masker_for(user)
    show = mask.phone

    contacts = [ContactLine(relation=c.relation or "—", name=c.name or "—", phone=show(c.phone))
                for c in case.contacts.order_by("id")]
    calls_qs = (CallRecord.objects.filter(case=case, deleted_at=None)
                .select_related("collector", "contact").order_by("-started_at", "-id"))
    call_total = calls_qs.count()
    calls = [
        CallLine(when=f"{timezone.localtime(c.started_at):%Y-%m-%d %H:%M}", direction=c.get_direction_display(),
                 who=c.contact.relation if c.contact and c.contact.relation else "—", number=show(c.number),
                 result=(c.get_result_display() or "—") + (
                     f"（{c.promise_date:%m-%d} 还 {_money(c.promise_amount)}）" if c.promise_date else ""),
                 note=(c.note[:60] + "…") if len(c.note) > 60 else c.note,
                 collector=c.collector.display_name if c.collector else "—")
        for c in calls_qs[:RECENT_CALLS]
    ]
    visits = [
        VisitLine(day=f"{v.visited_on:%Y-%m-%d}", collector=v.collector.display_name, address=v.address,
                  result=v.get_result_display(), note=(v.note[:60] + "…") if len(v.note) > 60 else v.note)
        for v in VisitRecord.objects.filter(case=case, deleted_at=None).select_related("collector")
        .order_by("-visited_on", "-id")[:RECENT_VISITS]
    ]
    return VisitFormContext(
        case_no=case.case_no, bank=case.bank.name, batch_no=case.batch.batch_no,
        product_type=case.get_product_type_display(), debtor_name=case.debtor_name,
        id_number=mask.id_number(case.id_number), mobile=show(case.mobile) or "—",
        card_no=mask.card_no(case.card_no) or "—", home_address=case.home_address or "—", employer=case.employer or "—",
        work_address=case.work_address or "—", region=case.region or "—",
        entrusted_amount=_money(case.entrusted_amount), principal=_money(case.principal),
        interest=_money(case.interest), fees=_money(case.fees), repaid_amount=_money(case.repaid_amount),
        balance=f"多还 {_money(case.overpaid_amount)}" if case.balance < 0 else _money(case.balance),
        overdue_days="—" if case.overdue_days is None else f"{case.overdue_days} 天",
        entrust_date=f"{case.entrust_date:%Y-%m-%d}",
        return_date=f"{case.return_date:%Y-%m-%d}",
        collector=case.collector.display_name if case.collector else "未分配",
        owner_clerk=case.owner_clerk.display_name if case.owner_clerk else "—",
        owner_clerk_phone=case.owner_clerk.phone if case.owner_clerk and case.owner_clerk.phone else "",
        generated_at=f"{timezone.localtime():%Y-%m-%d %H:%M}", generated_by=user.display_name,
        contacts=contacts, calls=calls, call_total=call_total, visits=visits,
        result_options=[label for value, label in VisitResult.choices if value != VisitResult.OTHER] + ["其他"],
    )
