"""Reads of repayments (C5): a case's entries with their reversals. Must not import views or actions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.imports.repayments import RepaymentRow
from cases.models import Bank, Case, Repayment, RepaymentKind


def repayment_list(*, case: Case) -> QuerySet[Repayment]:
    """The case's entries, newest first, each annotated `is_reversed`."""
    return (
        Repayment.objects.filter(case=case)
        .annotate(is_reversed=Exists(Repayment.objects.filter(reverses=OuterRef("pk"))))
        .select_related("recorded_by", "reverses")
        .order_by("-created_at", "-id")
    )


def repayment_get(*, case: Case, repayment_id: int) -> Repayment | None:
    return Repayment.objects.filter(case=case, pk=repayment_id).select_related("case").first()


# --- Bank repayment file: which rows match which case, and which are recorded already ---------------------

NEW, RECORDED, UNMATCHED, INVALID = "new", "recorded", "unmatched", "invalid"
STATUS_LABELS = {NEW: "将登记", RECORDED: "已登记", UNMATCHED: "未匹配", INVALID: "有问题"}


@dataclass(frozen=True)
class FileRowMatch:
    row: RepaymentRow
    status: str
    message: str = ""
    case_id: int | None = None
    case_no: str = ""
    debtor_name: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class FileMatch:
    rows: list[FileRowMatch]

    def of(self, status: str) -> list[FileRowMatch]:
        return [r for r in self.rows if r.status == status]

    @property
    def new_total(self) -> Decimal:
        return sum((r.row.amount for r in self.of(NEW)), Decimal("0.00"))

    @property
    def counts(self) -> dict[str, int]:
        return {status: len(self.of(status)) for status in STATUS_LABELS}


def repayment_file_seen(*, sha256: str) -> bool:
    """True once a repayment file with this content has been confirmed (all its rows went in together)."""
    return Repayment.objects.filter(source_sha256=sha256).exists()


def repayment_file_match(*, bank: Bank, rows: list[RepaymentRow], sha256: str) -> FileMatch:
    """Match each row to a case of `bank` by 案件编号 (else 卡号), with the balance left after earlier rows."""
    case_nos = {r.case_no for r in rows if r.case_no}
    card_nos = {r.card_no for r in rows if r.card_no and not r.case_no}
    by_case_no: dict[str, list[Case]] = {}
    by_card_no: dict[str, list[Case]] = {}
    found = Case.objects.filter(bank=bank).filter(Q(case_no__in=case_nos) | Q(card_no__in=card_nos))
    for case in found.only("id", "case_no", "card_no", "debtor_name", "balance", "status"):
        if case.case_no in case_nos:
            by_case_no.setdefault(case.case_no, []).append(case)
        if case.card_no in card_nos:
            by_card_no.setdefault(case.card_no, []).append(case)
    refs = {r.bank_ref for r in rows if r.bank_ref}
    recorded = set(Repayment.objects.filter(case__bank=bank, kind=RepaymentKind.NORMAL, bank_ref__in=refs)
                   .values_list("case_id", "bank_ref"))
    seen_file = repayment_file_seen(sha256=sha256)
    balances: dict[int, Decimal] = {}
    in_file: set[tuple[int, str]] = set()
    out: list[FileRowMatch] = []
    for row in rows:
        key, candidates = (("案件编号", by_case_no.get(row.case_no, [])) if row.case_no
                           else ("卡号", by_card_no.get(row.card_no, [])))
        value = row.case_no or row.card_no
        if len(candidates) > 1:
            open_ones = [c for c in candidates if c.is_open]
            candidates = open_ones if len(open_ones) == 1 else candidates
        if not candidates:
            out.append(FileRowMatch(row, UNMATCHED, f"{bank.name}没有{key}为 {value} 的委案"))
            continue
        if len(candidates) > 1:
            out.append(FileRowMatch(row, INVALID, f"{key} {value} 对应多个委案，请在案件页面逐笔登记"))
            continue
        case = candidates[0]
        found_row = {"case_id": case.pk, "case_no": case.case_no, "debtor_name": case.debtor_name}
        if (row.bank_ref and (case.pk, row.bank_ref) in recorded) or (not row.bank_ref and seen_file):
            out.append(FileRowMatch(row, RECORDED, "此前已登记", **found_row))
            continue
        if row.bank_ref and (case.pk, row.bank_ref) in in_file:
            out.append(FileRowMatch(row, INVALID, f"流水号 {row.bank_ref} 在文件中重复", **found_row))
            continue
        left = balances.get(case.pk, case.balance)
        if row.amount > left:
            out.append(FileRowMatch(row, INVALID, f"还款金额超过余额 {left:,.2f}，请在案件页面按超额还款登记",
                                    **found_row))
            continue
        balances[case.pk] = left - row.amount
        if row.bank_ref:
            in_file.add((case.pk, row.bank_ref))
        out.append(FileRowMatch(row, NEW, **found_row))
    return FileMatch(rows=out)
