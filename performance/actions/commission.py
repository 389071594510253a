"""Commission schemes and the approval (and locking) of collectors' monthly statements (issue 18 item 3).

Must not import views.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases.models import Bank, Batch
from performance.exceptions import CommissionError
from performance.models import CollectorStatement, CommissionScheme, CommissionTier, SchemeKind, StatementLine
from performance.selectors.commission import draft_statements, percent

MAX_RATE = Decimal("1")


def _check_rate(rate: Decimal | None, what: str) -> Decimal:
    if rate is None or not (0 <= rate <= MAX_RATE):
        raise CommissionError(f"{what}应在 0% 到 100% 之间")
    return rate


@transaction.atomic
def scheme_create(*, name: str, bank: Bank | None, batch: Batch | None, kind: str, rate: Decimal | None,
                  tiers: list[tuple[Decimal, Decimal]], effective_from: dt.date, effective_to: dt.date | None,
                  by: User, request: HttpRequest | None = None) -> CommissionScheme:
    """A collector commission scheme for a bank's or a batch's cases, in force from `effective_from`. Audited.

    Emits: nothing. Raises: CommissionError (no bank or batch, bad rate or tiers, dates out of order, or an
    overlap with another scheme of the same bank or batch).
    """
    name = name.strip()
    if not name:
        raise CommissionError("请填写方案名称")
    if batch is not None:
        bank = batch.bank
    if bank is None:
        raise CommissionError("请选择银行或批次")
    if effective_to is not None and effective_to < effective_from:
        raise CommissionError("失效日期不能早于生效日期")
    if kind == SchemeKind.FLAT:
        rate, tiers = _check_rate(rate, "提成比例"), []
    elif kind in (SchemeKind.AMOUNT_TIERS, SchemeKind.RATE_TIERS):
        rate = None
        if not tiers:
            raise CommissionError("阶梯方案至少需要一档")
        thresholds = [t for t, _ in tiers]
        if len(set(thresholds)) != len(thresholds):
            raise CommissionError("阶梯起点不能重复")
        for threshold, tier_rate in tiers:
            if threshold < 0:
                raise CommissionError("阶梯起点不能为负数")
            _check_rate(tier_rate, f"起点 {threshold} 的提成比例")
    else:
        raise CommissionError("计算方式应为 固定比例、按回收金额阶梯 或 按回收率阶梯")
    same = CommissionScheme.objects.filter(batch=batch) if batch is not None else \
        CommissionScheme.objects.filter(bank=bank, batch__isnull=True)
    end = effective_to or dt.date.max
    clash = same.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=effective_from),
                        effective_from__lte=end).first()
    if clash is not None:
        until = f"{clash.effective_to:%Y-%m-%d}" if clash.effective_to else "长期"
        raise CommissionError(f"与方案“{clash.name}”（{clash.effective_from:%Y-%m-%d} 至 {until}）的有效期重叠；"
                              "请先为旧方案设置失效日期")
    scheme = CommissionScheme.objects.create(name=name[:64], bank=bank, batch=batch, kind=kind, rate=rate,
                                             effective_from=effective_from, effective_to=effective_to, created_by=by)
    CommissionTier.objects.bulk_create([CommissionTier(scheme=scheme, threshold=t, rate=r) for t, r in sorted(tiers)])
    scope = f"批次 {batch.batch_no}" if batch is not None else f"银行 {bank.name}"
    audit_record(actor=by, action=AuditAction.COMMISSION_SCHEME, object_type="CommissionScheme", object_id=scheme.pk,
                 summary=f"新建提成方案“{scheme.name}”（{scope}，{scheme.get_kind_display()}）", request=request,
                 detail={"kind": kind, "rate": str(rate) if rate is not None else None,
                         "tiers": [[str(t), str(r)] for t, r in tiers], "from": f"{effective_from}",
                         "to": f"{effective_to}" if effective_to else None})
    return scheme


@transaction.atomic
def scheme_end(*, scheme: CommissionScheme, effective_to: dt.date, by: User,
               request: HttpRequest | None = None) -> CommissionScheme:
    """End a scheme on `effective_to` (inclusive), so a new one can follow. Audited.

    Emits: nothing. Raises: CommissionError (a date before it began).
    """
    scheme = CommissionScheme.objects.select_for_update().get(pk=scheme.pk)
    if effective_to < scheme.effective_from:
        raise CommissionError("失效日期不能早于生效日期")
    scheme.effective_to = effective_to
    scheme.save(update_fields=["effective_to"])
    audit_record(actor=by, action=AuditAction.COMMISSION_SCHEME, object_type="CommissionScheme", object_id=scheme.pk,
                 summary=f"提成方案“{scheme.name}”于 {effective_to:%Y-%m-%d} 失效", request=request,
                 detail={"to": f"{effective_to}"})
    return scheme


@transaction.atomic
def statement_approve(*, collector: User, month: dt.date, by: User,
                      request: HttpRequest | None = None) -> CollectorStatement:
    """Approve the collector's statement of `month` as computed now, and lock it: its entries are settled and
    never counted again (a later reversal of one is charged back in a later month). Audited.

    Emits: nothing. Raises: CommissionError (already approved, or a later month already approved).
    """
    month = month.replace(day=1)
    User.objects.select_for_update().filter(pk=collector.pk).first()  # one approval per collector at a time
    if CollectorStatement.objects.filter(collector=collector, month=month).exists():
        raise CommissionError(f"{collector.display_name} {month:%Y年%m月} 的提成表已审批并锁定")
    later = CollectorStatement.objects.filter(collector=collector, month__gt=month).order_by("month").first()
    if later is not None:
        raise CommissionError(f"{collector.display_name} {later.month:%Y年%m月} 的提成表已锁定，不能再审批更早的月份")
    draft = draft_statements(month=month, collector_ids=[collector.pk]).get(collector.pk)
    lines = draft.lines if draft else []
    zero = Decimal("0.00")
    statement = CollectorStatement.objects.create(
        collector=collector, month=month, cases=draft.cases if draft else 0, entries=draft.entries if draft else 0,
        recovered=draft.recovered if draft else zero, reversals=draft.reversals if draft else zero,
        commission=draft.commission if draft else zero, approved_by=by)
    StatementLine.objects.bulk_create([
        StatementLine(statement=statement, repayment_id=line.repayment_id, scheme_id=line.scheme_id, rate=line.rate,
                      amount=line.amount, commission=line.commission) for line in lines])
    audit_record(actor=by, action=AuditAction.STATEMENT_APPROVE, object_type="CollectorStatement",
                 object_id=statement.pk, request=request,
                 summary=(f"审批并锁定 {collector.display_name} {month:%Y年%m月} 提成表："
                          f"回收 ¥{statement.recovered:,.2f}，提成 ¥{statement.commission:,.2f}"),
                 detail={"collector_id": collector.pk, "month": f"{month:%Y-%m}", "lines": len(lines),
                         "rates": sorted({percent(line.rate) for line in lines})})
    return statement
