"""Reads of repayments (C5): a case's entries with their reversals, and the reconciliation of a bank's
repayment file with what is recorded. Must not import views or actions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
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


# --- Bank repayment file: reconciliation of the bank's rows with what is recorded ---------------------------
# The file's rows come in as typed RepaymentRow (from cases.imports.repayments, or any other parser/mapping
# that yields them); nothing here reads files. Each row is matched against the live entries of the bank's cases
# (normal entries that were not reversed): by 流水号 when the row has one, else by case + date + amount, one
# recorded entry per row, so two identical rows need two identical entries (a cumulative list re-sent with
# old rows finds them recorded; a real second payment of the same amount on the same day is new).

NEW, RECORDED, CONFLICT, UNMATCHED, INVALID = "new", "recorded", "conflict", "unmatched", "invalid"
STATUS_LABELS = {NEW: "将登记", RECORDED: "已登记", CONFLICT: "冲突", UNMATCHED: "未匹配", INVALID: "有问题"}


@dataclass(frozen=True)
class FileRowMatch:
    row: RepaymentRow
    status: str
    message: str = ""
    case_id: int | None = None
    case_no: str = ""
    debtor_name: str = ""
    repayment_id: int | None = None  # the recorded entry this row matched (已登记) or contradicts (冲突)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class MissingEntry:
    """An entry recorded in the system within the file's period that no row of the bank's file matches."""

    repayment_id: int
    case_id: int
    case_no: str
    debtor_name: str
    amount: Decimal
    repaid_on: dt.date
    bank_ref: str
    recorded_by: str
    from_file: bool  # recorded from an earlier bank file (else by hand on the case page)


@dataclass(frozen=True)
class PeriodTotal:
    """One calendar month of the file's period: the bank's rows against the live entries recorded."""

    month: dt.date  # first day of the month
    date_from: dt.date
    date_to: dt.date
    file_count: int
    file_amount: Decimal
    system_count: int
    system_amount: Decimal

    @property
    def difference(self) -> Decimal:
        return self.file_amount - self.system_amount


@dataclass(frozen=True)
class FileReconciliation:
    rows: list[FileRowMatch]
    missing: list[MissingEntry] = field(default_factory=list)
    periods: list[PeriodTotal] = field(default_factory=list)
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def of(self, status: str) -> list[FileRowMatch]:
        return [r for r in self.rows if r.status == status]

    @property
    def new_total(self) -> Decimal:
        return sum((r.row.amount for r in self.of(NEW)), Decimal("0.00"))

    @property
    def counts(self) -> dict[str, int]:
        return {status: len(self.of(status)) for status in STATUS_LABELS}

    @property
    def file_total(self) -> Decimal:
        return sum((p.file_amount for p in self.periods), Decimal("0.00"))

    @property
    def system_total(self) -> Decimal:
        return sum((p.system_amount for p in self.periods), Decimal("0.00"))

    @property
    def file_count(self) -> int:
        return sum(p.file_count for p in self.periods)

    @property
    def system_count(self) -> int:
        return sum(p.system_count for p in self.periods)

    @property
    def difference(self) -> Decimal:
        return self.file_total - self.system_total

    @property
    def missing_total(self) -> Decimal:
        return sum((m.amount for m in self.missing), Decimal("0.00"))


def repayment_file_seen(*, sha256: str) -> bool:
    """True once a repayment file with this content has been confirmed."""
    return Repayment.objects.filter(source_sha256=sha256).exists()


def repayment_live_entries() -> QuerySet[Repayment]:
    """Normal entries that were not reversed: what the case's repaid total is the sum of."""
    return Repayment.objects.filter(kind=RepaymentKind.NORMAL, reversed_by__isnull=True)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _cases_of_rows(bank: Bank, rows: list[RepaymentRow]) -> tuple[dict[str, list[Case]], dict[str, list[Case]]]:
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
    return by_case_no, by_card_no


def repayment_file_reconcile(*, bank: Bank, rows: list[RepaymentRow]) -> FileReconciliation:
    """Reconcile a bank repayment file's rows with the live entries of `bank`'s cases.

    Every row gets one status: 将登记 (new, and within the case's balance), 已登记 (a recorded entry has its
    流水号 with the same amount and date, or, without 流水号, the same case, date and amount), 冲突 (its
    流水号 is recorded with another amount or date, or the same case/date/amount is recorded under another
    流水号), 未匹配 (no such case at the bank) or 有问题. Entries recorded within the file's dates that no row
    matched come back as `missing`, and each month of the file's dates gets the bank's and the system's totals.
    A conflicting row is never new: it is only recorded after a person resolved it (e.g. reversed a wrong entry).
    """
    by_case_no, by_card_no = _cases_of_rows(bank, rows)
    resolved: list[FileRowMatch | None] = [None] * len(rows)
    row_case: dict[int, Case] = {}
    for index, row in enumerate(rows):
        key, candidates = (("案件编号", by_case_no.get(row.case_no, [])) if row.case_no
                           else ("卡号", by_card_no.get(row.card_no, [])))
        value = row.case_no or row.card_no
        if len(candidates) > 1:
            open_ones = [c for c in candidates if c.is_open]
            candidates = open_ones if len(open_ones) == 1 else candidates
        if not candidates:
            resolved[index] = FileRowMatch(row, UNMATCHED, f"{bank.name}没有{key}为 {value} 的委案")
        elif len(candidates) > 1:
            resolved[index] = FileRowMatch(row, INVALID, f"{key} {value} 对应多个委案，请在案件页面逐笔登记")
        else:
            row_case[index] = candidates[0]

    days = [r.repaid_on for r in rows]
    date_from, date_to = (min(days), max(days)) if days else (None, None)
    live = repayment_live_entries().filter(case__bank=bank).select_related("case", "recorded_by")
    scope = Q(case_id__in={c.pk for c in row_case.values()})
    if date_from is not None and date_to is not None:
        scope |= Q(repaid_on__gte=date_from, repaid_on__lte=date_to)
    entries = list(live.filter(scope).order_by("repaid_on", "id"))
    by_ref = {(e.case_id, e.bank_ref): e for e in entries if e.bank_ref}
    by_key: dict[tuple[int, dt.date, Decimal], list[Repayment]] = {}
    for e in entries:
        by_key.setdefault((e.case_id, e.repaid_on, e.amount), []).append(e)
    used: set[int] = set()

    def found(case: Case) -> dict[str, object]:
        return {"case_id": case.pk, "case_no": case.case_no, "debtor_name": case.debtor_name}

    def same_key(case: Case, row: RepaymentRow, *, refs: str) -> Repayment | None:
        """The first unused entry of `case` on the row's date with its amount; `refs`: "none" (only entries
        recorded without 流水号), "other" (only entries with one) or "any"."""
        for entry in by_key.get((case.pk, row.repaid_on, row.amount), []):
            if entry.pk in used:
                continue
            if (refs == "none" and entry.bank_ref) or (refs == "other" and not entry.bank_ref):
                continue
            return entry
        return None

    # 1. Rows with a 流水号, by the 流水号 (a duplicate within the file is a problem of the file).
    refs_in_file: set[tuple[int, str]] = set()
    for index, case in row_case.items():
        row = rows[index]
        if not row.bank_ref:
            continue
        if (case.pk, row.bank_ref) in refs_in_file:
            resolved[index] = FileRowMatch(row, INVALID, f"流水号 {row.bank_ref} 在文件中重复", **found(case))
            continue
        refs_in_file.add((case.pk, row.bank_ref))
        entry = by_ref.get((case.pk, row.bank_ref))
        if entry is None:
            continue
        used.add(entry.pk)
        if entry.amount == row.amount and entry.repaid_on == row.repaid_on:
            resolved[index] = FileRowMatch(row, RECORDED, "此前已登记", repayment_id=entry.pk, **found(case))
        else:
            resolved[index] = FileRowMatch(
                row, CONFLICT,
                f"流水号 {row.bank_ref} 已登记为 ¥{entry.amount:,.2f}（{entry.repaid_on:%Y-%m-%d}），"
                f"银行文件为 ¥{row.amount:,.2f}（{row.repaid_on:%Y-%m-%d}）：请核实，系统登记有误时先冲正该笔",
                repayment_id=entry.pk, **found(case))
    # 2. Rows with a 流水号 not recorded under it: an entry typed in by hand without one is the same payment; one
    #    recorded under another 流水号 on the same day with the same amount needs a person to say.
    for index, case in row_case.items():
        row = rows[index]
        if not row.bank_ref or resolved[index] is not None:
            continue
        entry = same_key(case, row, refs="none")
        if entry is not None:
            used.add(entry.pk)
            resolved[index] = FileRowMatch(row, RECORDED, "此前已登记（登记时未填流水号）", repayment_id=entry.pk,
                                           **found(case))
            continue
        entry = same_key(case, row, refs="other")
        if entry is not None:
            used.add(entry.pk)
            resolved[index] = FileRowMatch(
                row, CONFLICT,
                f"同日同金额已登记一笔，流水号为 {entry.bank_ref}，与文件的 {row.bank_ref} 不同：请核实是否同一笔",
                repayment_id=entry.pk, **found(case))
    # 3. Rows without a 流水号: by case + date + amount, one entry per row (duplicates counted).
    for index, case in row_case.items():
        row = rows[index]
        if row.bank_ref or resolved[index] is not None:
            continue
        entry = same_key(case, row, refs="any")
        if entry is not None:
            used.add(entry.pk)
            resolved[index] = FileRowMatch(row, RECORDED, "此前已登记（按委案、日期、金额核对）",
                                           repayment_id=entry.pk, **found(case))
    # 4. What is left is new, within what each case still owes (earlier rows of the file count).
    balances: dict[int, Decimal] = {}
    for index, case in row_case.items():
        row = rows[index]
        if resolved[index] is not None:
            continue
        left = balances.get(case.pk, case.balance)
        if row.amount > left:
            resolved[index] = FileRowMatch(row, INVALID, f"还款金额超过余额 {left:,.2f}，请在案件页面按超额还款登记",
                                           **found(case))
            continue
        balances[case.pk] = left - row.amount
        resolved[index] = FileRowMatch(row, NEW, **found(case))

    matches = [m for m in resolved if m is not None]
    if date_from is None or date_to is None:
        return FileReconciliation(rows=matches)
    in_period = [e for e in entries if date_from <= e.repaid_on <= date_to]
    missing = [
        MissingEntry(repayment_id=e.pk, case_id=e.case_id, case_no=e.case.case_no, debtor_name=e.case.debtor_name,
                     amount=e.amount, repaid_on=e.repaid_on, bank_ref=e.bank_ref,
                     recorded_by=e.recorded_by.display_name, from_file=bool(e.source_sha256))
        for e in in_period if e.pk not in used
    ]
    return FileReconciliation(rows=matches, missing=missing, periods=_periods(rows, in_period, date_from, date_to),
                              date_from=date_from, date_to=date_to)


def _periods(rows: list[RepaymentRow], entries: list[Repayment], date_from: dt.date,
             date_to: dt.date) -> list[PeriodTotal]:
    file_side: dict[dt.date, list[Decimal]] = {}
    for row in rows:
        file_side.setdefault(_month_start(row.repaid_on), []).append(row.amount)
    system_side: dict[dt.date, list[Decimal]] = {}
    for entry in entries:
        system_side.setdefault(_month_start(entry.repaid_on), []).append(entry.amount)
    out = []
    for month in sorted(set(file_side) | set(system_side)):
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        bank_amounts, system_amounts = file_side.get(month, []), system_side.get(month, [])
        out.append(PeriodTotal(
            month=month, date_from=max(month, date_from), date_to=min(next_month - dt.timedelta(days=1), date_to),
            file_count=len(bank_amounts), file_amount=sum(bank_amounts, Decimal("0.00")),
            system_count=len(system_amounts), system_amount=sum(system_amounts, Decimal("0.00"))))
    return out
