"""Repayments (C5): record the bank's confirmed amounts on a case, and correct them by reversing entries.

The one door for Repayment rows, the case's repaid total/balance/settled status, and the daily roll-up
(RepaymentDaily) the reports read. Corrections never edit a row: a reversal is a new entry with the negated
amount and commission, dated like its original so day/month figures move where the mistake was.
Must not import views, consumers or the dialer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import history, rollups
from cases.actions.reminders import reminder_resolve_stale
from cases.actions.stats import daily_stats_bump
from cases.enums import OPEN_STATUSES, CaseStatus
from cases.exceptions import RepaymentError
from cases.imports.repayments import RepaymentRow
from cases.models import Bank, Case, Repayment, RepaymentDaily, RepaymentKind, RepaymentMonthly
from cases.models.cases import balance_words
from cases.selectors.repayments import (
    CONFLICT,
    INVALID,
    NEW,
    RECORDED,
    UNMATCHED,
    repayment_file_reconcile,
    repayment_live_entries,
)
from cases.signals import repayments_recorded
from realtime import groups
from realtime.events_money import CaseBalanceChanged
from realtime.publish import publish_on_commit

FEN = Decimal("0.01")
_CHUNK = 1000  # ids per statement when a bank file's rows are recorded together
MAX_AMOUNT = Decimal("999999999999.99")


def commission_for(*, amount: Decimal, rate: Decimal) -> Decimal:
    """The commission of one entry: amount × rate rounded half-up to the fen (reports add these up)."""
    return (amount * rate).quantize(FEN, rounding=ROUND_HALF_UP)


def money(value: Decimal | str | int) -> Decimal:
    """A positive amount of yuan with at most two decimals, or RepaymentError."""
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError) as exc:
        raise RepaymentError(f"金额“{value}”不是有效的数字") from exc
    if not amount.is_finite() or amount <= 0:
        raise RepaymentError("回款金额必须大于 0")
    if amount != amount.quantize(FEN):
        raise RepaymentError("回款金额最多两位小数（精确到分）")
    if amount > MAX_AMOUNT:
        raise RepaymentError("回款金额过大")
    return amount.quantize(FEN)


def _rollup_add(*, case: Case, day: dt.date, amount: Decimal, commission: Decimal, count: int) -> None:
    """Add to the day × batch × rate row of the roll-up (created on first use; F() so writers never lose)."""
    _rollup_add_to(bank_id=case.bank_id, batch_id=case.batch_id, rate=case.commission_rate, day=day, amount=amount,
                   commission=commission, count=count)
    # The case's collector and batch figures (progress, credit-card rate) are recomputed before the next report.
    rollups.mark(case_ids=[case.pk], batch_ids=[case.batch_id])


def _rollup_add_to(*, bank_id: int, batch_id: int, rate: Decimal, day: dt.date, amount: Decimal,
                   commission: Decimal, count: int) -> None:
    key = {"day": day, "batch_id": batch_id, "commission_rate": rate}
    rows = RepaymentDaily.objects.filter(**key)
    updates = {"amount": F("amount") + amount, "commission": F("commission") + commission,
               "count": F("count") + count}
    if rows.update(**updates) == 0:
        RepaymentDaily.objects.bulk_create([RepaymentDaily(bank_id=bank_id, **key)], ignore_conflicts=True)
        rows.update(**updates)
    # The same figures per calendar month: month and year reports read this one.
    month_key = {"month": day.replace(day=1), "batch_id": batch_id, "commission_rate": rate}
    months = RepaymentMonthly.objects.filter(**month_key)
    if months.update(**updates) == 0:
        RepaymentMonthly.objects.bulk_create([RepaymentMonthly(bank_id=bank_id, **month_key)],
                                             ignore_conflicts=True)
        months.update(**updates)


def _publish_balance(*, case: Case, text: str) -> None:
    to = [groups.case(case.pk)]
    if case.collector_id:
        to.append(groups.collector(case.collector_id))
    publish_on_commit(
        CaseBalanceChanged(case_id=case.pk, repaid_amount=str(case.repaid_amount), balance=str(case.balance),
                           status=case.status, status_label=case.get_status_display(), text=text),
        to=to,
    )


def _locked(case: Case) -> Case:
    # Two clerks (or a clerk and a bank file) recording on one case at once: the row lock makes them queue,
    # so repaid_amount is always the sum of the entries.
    return Case.objects.select_for_update().select_related("batch").get(pk=case.pk)


@transaction.atomic
def repayment_record(*, case: Case, amount: Decimal, repaid_on: dt.date, by: User, bank_ref: str = "",
                     note: str = "", overpayment: bool = False, source_sha256: str = "") -> Repayment:
    """Record a repayment the bank confirmed; the case's balance drops and at 0 the case is 已结清. Audited.

    Emits: CaseBalanceChanged → case.<id>, collector.<id>; DashboardCounterChanged (repaid_amount).
    Raises: RepaymentError (bad amount, future date, duplicate reference, more than the balance without
    the overpayment flag).
    """
    repayment = _record(case=case, amount=amount, repaid_on=repaid_on, by=by, bank_ref=bank_ref, note=note,
                        overpayment=overpayment, source_sha256=source_sha256)
    locked = repayment.case
    audit_record(actor=by, action=AuditAction.REPAYMENT, object_type="Repayment", object_id=repayment.pk,
                 summary=(f"登记回款：委案 {locked.case_no} {locked.debtor_name} ¥{repayment.amount:,.2f}"
                          f"（{repayment.repaid_on:%Y-%m-%d}），{balance_words(locked.balance)}"),
                 detail={"case_id": locked.pk, "amount": str(repayment.amount), "repaid_on": f"{repayment.repaid_on}",
                         "bank_ref": repayment.bank_ref, "overpayment": repayment.overpayment,
                         "balance": str(locked.balance), "settled": locked.status == CaseStatus.SETTLED})
    return repayment


def _record(*, case: Case, amount: Decimal, repaid_on: dt.date, by: User, bank_ref: str, note: str,
            overpayment: bool, source_sha256: str) -> Repayment:
    """repayment_record without its audit entry: a bank file's rows are audited once, with the file."""
    amount = money(amount)
    bank_ref = bank_ref.strip()
    if repaid_on > timezone.localdate():
        raise RepaymentError(f"还款日期 {repaid_on:%Y-%m-%d} 晚于今天")
    locked = _locked(case)
    # Under the case's row lock: a 流水号 is recorded once among the case's live entries; after the entry that
    # carried it was reversed (a wrong amount), the bank's figure may be recorded under it again.
    if bank_ref and repayment_live_entries().filter(case=locked, bank_ref=bank_ref).exists():
        raise RepaymentError(f"流水号 {bank_ref} 已在本案登记过")
    if amount > locked.balance and not overpayment:
        raise RepaymentError(f"回款金额 {amount:,.2f} 超过余额 {locked.balance:,.2f}；确属超额还款请勾选“超额还款”")
    commission = commission_for(amount=amount, rate=locked.commission_rate)
    repayment = Repayment.objects.create(
        case=locked, amount=amount, commission=commission, commission_rate=locked.commission_rate,
        repaid_on=repaid_on, bank_ref=bank_ref, note=note.strip()[:500], kind=RepaymentKind.NORMAL,
        overpayment=overpayment and amount > locked.balance, source_sha256=source_sha256, recorded_by=by,
        collector_id=locked.collector_id,
    )
    locked.repaid_amount += amount
    locked.balance = locked.entrusted_amount - locked.repaid_amount
    fields = ["repaid_amount", "balance", "updated_at"]
    settled = locked.balance <= 0 and locked.status in OPEN_STATUSES
    if settled:
        locked.status = CaseStatus.SETTLED
        locked.status_changed_at = timezone.now()
        fields += ["status", "status_changed_at"]
    locked.save(update_fields=fields)
    if settled:
        reminder_resolve_stale(case_ids=[locked.pk])  # a settled case's reminders need no action
    _rollup_add(case=locked, day=repaid_on, amount=amount, commission=commission, count=1)
    history.repayment_recorded(case=locked, actor=by, repayment_id=repayment.pk, amount=amount,
                               repaid_on=f"{repaid_on:%Y-%m-%d}", bank_ref=bank_ref, balance=locked.balance,
                               settled=settled)
    if locked.collector_id:
        daily_stats_bump(collector_id=locked.collector_id, repaid_amount=amount)
    _publish_balance(case=locked, text=f"{locked.case_no} 回款 ¥{amount:,.2f}，{balance_words(locked.balance)}")
    _sync(case, locked)
    return repayment


@transaction.atomic
def repayment_reverse(*, repayment: Repayment, by: User, reason: str) -> Repayment:
    """Correct a wrong entry with a reversing one (the original stays); a settled case reopens if it owes again.
    Audited.

    Emits: CaseBalanceChanged → case.<id>, collector.<id>; DashboardCounterChanged (repaid_amount, negative).
    Raises: RepaymentError (no reason, a reversal, or an entry already reversed).
    """
    reason = reason.strip()
    if not reason:
        raise RepaymentError("请填写冲正原因")
    original = Repayment.objects.select_for_update().get(pk=repayment.pk)
    if original.kind != RepaymentKind.NORMAL:
        raise RepaymentError("冲正记录不能再冲正")
    if Repayment.objects.filter(reverses=original).exists():
        raise RepaymentError("这笔回款已经冲正过")
    locked = _locked(original.case)
    reversal = Repayment.objects.create(
        case=locked, amount=-original.amount, commission=-original.commission,
        commission_rate=original.commission_rate, repaid_on=original.repaid_on, note=reason[:500],
        kind=RepaymentKind.REVERSAL, reverses=original, recorded_by=by, collector_id=original.collector_id,
    )
    locked.repaid_amount -= original.amount
    locked.balance = locked.entrusted_amount - locked.repaid_amount
    fields = ["repaid_amount", "balance", "updated_at"]
    reopened = locked.balance > 0 and locked.status == CaseStatus.SETTLED
    if reopened:
        locked.status = CaseStatus.IN_PROGRESS if locked.collector_id else CaseStatus.UNASSIGNED
        locked.status_changed_at = timezone.now()
        fields += ["status", "status_changed_at"]
    locked.save(update_fields=fields)
    # The roll-up bucket is the original's (its day and rate), so the reversal cancels it exactly.
    bucket = Case(pk=locked.pk, bank_id=locked.bank_id, batch_id=locked.batch_id,
                  commission_rate=original.commission_rate)
    _rollup_add(case=bucket, day=original.repaid_on, amount=-original.amount, commission=-original.commission,
                count=-1)
    history.repayment_reversed(case=locked, actor=by, repayment_id=reversal.pk, original_id=original.pk,
                               amount=original.amount, reason=reason, balance=locked.balance, reopened=reopened)
    if locked.collector_id:
        daily_stats_bump(collector_id=locked.collector_id, repaid_amount=-original.amount)
    _publish_balance(case=locked,
                     text=f"{locked.case_no} 回款 ¥{original.amount:,.2f} 已冲正，{balance_words(locked.balance)}")
    _sync(repayment.case, locked)
    audit_record(actor=by, action=AuditAction.REPAYMENT_REVERSAL, object_type="Repayment", object_id=reversal.pk,
                 summary=(f"回款冲正：委案 {locked.case_no} {locked.debtor_name} 冲正 ¥{original.amount:,.2f}"
                          f"（{original.repaid_on:%Y-%m-%d}），原因：{reason}"),
                 detail={"case_id": locked.pk, "original_id": original.pk, "amount": str(-original.amount),
                         "reason": reason, "balance": str(locked.balance), "reopened": reopened})
    return reversal


def _record_many(*, entries: list[tuple[int, Decimal, dt.date, str, str]], by: User, source_sha256: str) -> None:
    """`_record` for many entries at once (a bank file's rows: case id, amount, date, 流水号, note), in their
    order, with the same checks, rows and events, but a handful of statements per thousand entries instead of a
    dozen per entry: the cases are locked together, the entries, timeline lines and case figures written in bulk,
    the roll-ups and the collectors' day counters added to once per key. The cases' saves are signalled as a save
    would signal them (the worklist's queue), the entries together (cases.signals.repayments_recorded: the
    worklist's promise matching)."""
    today = timezone.localdate()
    for _, _, repaid_on, _, _ in entries:
        if repaid_on > today:
            raise RepaymentError(f"还款日期 {repaid_on:%Y-%m-%d} 晚于今天")
    ids = sorted({case_id for case_id, *_ in entries})
    locked: dict[int, Case] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        locked.update((c.pk, c) for c in Case.objects.select_for_update().filter(pk__in=chunk).order_by("pk"))
    refs = {ref.strip() for _, _, _, ref, _ in entries if ref.strip()}
    seen_refs: set[tuple[int, str]] = set()
    for start in range(0, len(ids), _CHUNK):
        seen_refs.update(repayment_live_entries().filter(case_id__in=ids[start:start + _CHUNK], bank_ref__in=refs)
                         .values_list("case_id", "bank_ref") if refs else ())
    now = timezone.now()
    repayments: list[Repayment] = []
    after: list[tuple[Decimal, Decimal, str, bool]] = []  # the case after each entry: repaid, balance, status, settled
    settled_ids: list[int] = []
    for case_id, raw_amount, repaid_on, raw_ref, note in entries:
        case = locked[case_id]
        amount, bank_ref = money(raw_amount), raw_ref.strip()
        if bank_ref and (case_id, bank_ref) in seen_refs:
            raise RepaymentError(f"流水号 {bank_ref} 已在本案登记过")
        if amount > case.balance:
            raise RepaymentError(f"回款金额 {amount:,.2f} 超过余额 {case.balance:,.2f}；确属超额还款请勾选“超额还款”")
        if bank_ref:
            seen_refs.add((case_id, bank_ref))
        commission = commission_for(amount=amount, rate=case.commission_rate)
        repayments.append(Repayment(
            case=case, amount=amount, commission=commission, commission_rate=case.commission_rate,
            repaid_on=repaid_on, bank_ref=bank_ref, note=note.strip()[:500], kind=RepaymentKind.NORMAL,
            overpayment=False, source_sha256=source_sha256, recorded_by=by, collector_id=case.collector_id,
        ))
        case.repaid_amount += amount
        case.balance = case.entrusted_amount - case.repaid_amount
        case.updated_at = now
        settled = case.balance <= 0 and case.status in OPEN_STATUSES
        if settled:
            case.status = CaseStatus.SETTLED
            case.status_changed_at = now
            settled_ids.append(case_id)
        after.append((case.repaid_amount, case.balance, case.status, settled))
    Repayment.objects.bulk_create(repayments, batch_size=_CHUNK)
    changed = [locked[pk] for pk in ids]
    # One UPDATE per case sent in a pipeline (psycopg's executemany): bulk_update's CASE WHEN per field cost more
    # time to build in Python than the whole file took to write.
    fields = ("repaid_amount", "balance", "updated_at", "status", "status_changed_at")
    columns = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in fields)  # column = field name
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {connection.ops.quote_name(Case._meta.db_table)} SET {columns} WHERE id = %s",
                           [(*(getattr(case, name) for name in fields), case.pk) for case in changed])
    for case in changed:
        post_save.send(sender=Case, instance=case, created=False, update_fields=frozenset(fields), raw=False,
                       using=Case.objects.db)
    repayments_recorded.send(sender=Repayment, repayments=repayments)
    if settled_ids:
        reminder_resolve_stale(case_ids=settled_ids)  # a settled case's reminders need no action
    sums: dict[tuple[int, int, Decimal, dt.date], tuple[Decimal, Decimal, int]] = {}
    per_collector: dict[int, Decimal] = {}
    for repayment in repayments:
        case = locked[repayment.case_id]
        key = (case.bank_id, case.batch_id, case.commission_rate, repayment.repaid_on)
        amount, commission, count = sums.get(key, (Decimal(0), Decimal(0), 0))
        sums[key] = (amount + repayment.amount, commission + repayment.commission, count + 1)
        if case.collector_id:
            per_collector[case.collector_id] = per_collector.get(case.collector_id, Decimal(0)) + repayment.amount
    for (bank_id, batch_id, rate, day), (amount, commission, count) in sums.items():
        _rollup_add_to(bank_id=bank_id, batch_id=batch_id, rate=rate, day=day, amount=amount, commission=commission,
                       count=count)
    rollups.mark(case_ids=ids, batch_ids={locked[pk].batch_id for pk in ids})
    history.repayments_recorded(
        actor=by, entries=[(r.case_id, r.pk, r.amount, f"{r.repaid_on:%Y-%m-%d}", r.bank_ref, balance, settled)
                           for r, (_, balance, _, settled) in zip(repayments, after, strict=True)])
    for collector_id, amount in per_collector.items():
        daily_stats_bump(collector_id=collector_id, repaid_amount=amount)
    for repayment, (repaid, balance, status, _) in zip(repayments, after, strict=True):
        case = locked[repayment.case_id]
        to = [groups.case(case.pk)] + ([groups.collector(case.collector_id)] if case.collector_id else [])
        publish_on_commit(CaseBalanceChanged(
            case_id=case.pk, repaid_amount=str(repaid), balance=str(balance), status=status,
            status_label=CaseStatus(status).label,
            text=f"{case.case_no} 回款 ¥{repayment.amount:,.2f}，{balance_words(balance)}"), to=to)


def _sync(target: Case, source: Case) -> None:
    """Hand the caller's case object the new figures, so a page rendered after the action shows them."""
    for name in ("repaid_amount", "balance", "status", "status_changed_at"):
        setattr(target, name, getattr(source, name))


@dataclass(frozen=True)
class FileConfirmResult:
    recorded: int
    total: Decimal
    skipped: int
    conflicts: int = 0
    missing: int = 0


@transaction.atomic
def repayment_file_confirm(*, bank: Bank, sha256: str, filename: str, rows: list[RepaymentRow], by: User,
                           conflicts_seen: bool = False) -> FileConfirmResult:
    """Record the new rows of a bank repayment file in one transaction, after reconciling it with what is recorded.

    The rows come from re-parsing the stored file (never from the browser) and are reconciled again here, under
    a lock on the bank, so two confirms of one file queue and the second finds everything recorded. Rows already
    recorded (by 流水号, else by case + date + amount) are not recorded again; conflicting rows are never recorded,
    and while the file has any, the clerk must have seen them (`conflicts_seen`). Audited once for the file.
    Emits: CaseBalanceChanged per case; DashboardCounterChanged.
    Raises: RepaymentError (conflicts not acknowledged, or nothing new to record).
    """
    Bank.objects.select_for_update().filter(pk=bank.pk).first()
    match = repayment_file_reconcile(bank=bank, rows=rows)
    new, conflicts = match.of(NEW), match.of(CONFLICT)
    if conflicts and not conflicts_seen:
        raise RepaymentError(f"文件中有 {len(conflicts)} 行与已登记的回款冲突，不会登记；"
                             "请先查看冲突并勾选“已核对冲突”")
    if not new:
        raise RepaymentError("文件中没有需要登记的新回款（均已登记、冲突、未匹配或有问题）")
    entries = []
    for item in new:
        assert item.case_id is not None
        row = item.row
        note = f"银行回款文件《{filename}》第 {row.row_number} 行" + (f"：{row.note}" if row.note else "")
        entries.append((item.case_id, row.amount, row.repaid_on, row.bank_ref, note))
    # One audit entry for the whole file (below), not one per row: the rows carry the file's sha256.
    _record_many(entries=entries, by=by, source_sha256=sha256)
    total = match.new_total
    counts = {"recorded": len(new), "already_recorded": len(match.of(RECORDED)), "conflicts": len(conflicts),
              "unmatched": len(match.of(UNMATCHED)), "invalid": len(match.of(INVALID)),
              "missing_from_file": len(match.missing)}
    period = (f"{match.date_from:%Y-%m-%d} 至 {match.date_to:%Y-%m-%d}"
              if match.date_from and match.date_to else "")
    audit_record(actor=by, action=AuditAction.REPAYMENT_FILE, object_type="repayment_file", object_id=sha256[:16],
                 summary=(f"导入{bank.name}回款文件《{filename}》（{period}）：共 {len(match.rows)} 行，"
                          f"登记 {len(new)} 笔，合计 ¥{total:,.2f}；已登记 {counts['already_recorded']} 行，"
                          f"冲突 {len(conflicts)} 行，"
                          f"未匹配 {counts['unmatched']} 行，有问题 {counts['invalid']} 行；"
                          f"系统已登记而文件中没有 {len(match.missing)} 笔")[:500],
                 detail={"sha256": sha256, "bank_id": bank.pk, "filename": filename, "rows": len(match.rows),
                         **counts, "total": str(total), "skipped": len(match.rows) - len(new),
                         "conflict_rows": [{"row": m.row.row_number, "repayment_id": m.repayment_id,
                                            "message": m.message} for m in conflicts[:200]],
                         "missing_repayment_ids": [m.repayment_id for m in match.missing[:500]],
                         "file_total": str(match.file_total), "system_total_before": str(match.system_total)})
    return FileConfirmResult(recorded=len(new), total=total, skipped=len(match.rows) - len(new),
                             conflicts=len(conflicts), missing=len(match.missing))
