"""Reports (C12, M6): tables of exact decimals, read from the daily roll-up (RepaymentDaily), never from the
raw repayments, so a page stays fast on a million repayments. Clerks see their banks only (C7); collectors
see no report. Must not import views or actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth, TruncYear

from accounts.models import User
from accounts.selectors import sees_commission
from cases.enums import ComplaintReason, ProductType
from cases.models import Bank, Batch, CallRecord, Case, Complaint, RepaymentDaily, VisitRecord
from cases.selectors.banks import bank_list_for_user

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
PERIODS = {"day": "日", "month": "月", "year": "年"}
BREAKDOWNS = {"batch": "批次", "rate": "佣金比例"}


@dataclass
class ReportTable:
    title: str
    headers: list[str]
    rows: list[list[object]] = field(default_factory=list)
    total: list[object] | None = None
    label_cols: int = 1  # leading text columns (left-aligned); the rest are figures


def can_view_reports(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_manager or user.is_clerk or user.is_sysadmin))


def _banks(user: User) -> QuerySet[Bank]:
    return bank_list_for_user(user=user)


def _rate_label(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def repayment_report(*, user: User, period: str, by: str, date_from: dt.date, date_to: dt.date,
                     bank_id: int | None = None) -> ReportTable:
    """Repayments (and, for those who may see it, commission) per day/month/year, by batch or by rate."""
    qs = RepaymentDaily.objects.filter(bank__in=_banks(user), day__gte=date_from, day__lte=date_to)
    if bank_id:
        qs = qs.filter(bank_id=bank_id)
    trunc = {"day": "day", "month": TruncMonth("day"), "year": TruncYear("day")}[period]
    qs = qs.annotate(p=trunc) if period != "day" else qs.annotate(p=Coalesce("day", "day"))
    key = "batch_id" if by == "batch" else "commission_rate"
    money = DecimalField(max_digits=18, decimal_places=2)
    grouped = (qs.values("p", key).order_by("p", key)
               .annotate(a=Coalesce(Sum("amount"), Value(ZERO), output_field=money),
                         c=Coalesce(Sum("commission"), Value(ZERO), output_field=money), n=Sum("count")))
    show_commission = sees_commission(user)
    batch_names: dict[int, str] = {}
    if by == "batch":
        ids = {row["batch_id"] for row in grouped}
        batch_names = {b.pk: f"{b.bank.name} {b.batch_no}" for b in Batch.objects.filter(pk__in=ids)
                       .select_related("bank")}
    fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[period]
    headers = [f"{PERIODS[period]}", BREAKDOWNS[by], "回款笔数", "回款金额"] + (["佣金"] if show_commission else [])
    table = ReportTable(title=f"回款{PERIODS[period]}报表（按{BREAKDOWNS[by]}）", headers=headers, label_cols=2)
    total_a, total_c, total_n = ZERO, ZERO, 0
    for row in grouped:
        # SQLite adds decimals as floats; PostgreSQL's numeric sums are exact and unchanged by this.
        row["a"], row["c"] = row["a"].quantize(FEN), row["c"].quantize(FEN)
        if not row["n"] and not row["a"]:
            continue  # a bucket whose entries were all reversed
        p = row["p"]
        label = batch_names.get(row[key], str(row[key])) if by == "batch" else _rate_label(row[key])
        line: list[object] = [p.strftime(fmt), label, row["n"], row["a"]]
        if show_commission:
            line.append(row["c"])
        table.rows.append(line)
        total_a, total_c, total_n = total_a + row["a"], total_c + row["c"], total_n + row["n"]
    table.total = ["合计", "", total_n, total_a] + ([total_c] if show_commission else [])
    return table


def credit_card_batch_report(*, user: User) -> ReportTable:
    """C12: for each batch with credit-card cases, repaid ÷ entrusted of those cases."""
    money = DecimalField(max_digits=18, decimal_places=2)
    rows = (Case.objects.filter(bank__in=_banks(user), product_type=ProductType.CREDIT_CARD)
            .values("batch_id").order_by("batch_id")
            .annotate(n=Count("id"), e=Coalesce(Sum("entrusted_amount"), Value(ZERO), output_field=money),
                      r=Coalesce(Sum("repaid_amount"), Value(ZERO), output_field=money)))
    names = {b.pk: (b.bank.name, b.batch_no) for b in Batch.objects.filter(pk__in=[r["batch_id"] for r in rows])
             .select_related("bank")}
    table = ReportTable(title="信用卡批次回款率", headers=["银行", "批次", "案件数", "委案金额", "已还金额", "回款率"],
                        label_cols=2)
    te, tr, tn = ZERO, ZERO, 0
    for row in rows:
        row["e"], row["r"] = row["e"].quantize(FEN), row["r"].quantize(FEN)
        bank, batch = names.get(row["batch_id"], ("", ""))
        table.rows.append([bank, batch, row["n"], row["e"], row["r"], _percent(row["r"], row["e"])])
        te, tr, tn = te + row["e"], tr + row["r"], tn + row["n"]
    table.total = ["合计", "", tn, te, tr, _percent(tr, te)]
    return table


def _percent(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return "—"
    return f"{(part * 100 / whole).quantize(Decimal('0.01'))}%"


def progress_report(*, user: User, group: str) -> ReportTable:
    """Work progress per collector / department / branch: held, contacted, visited, repaid count and amount."""
    field_name = {"collector": "collector__full_name", "department": "collector__department__name",
                  "branch": "collector__branch__name"}[group]
    label = {"collector": "业务员", "department": "部门", "branch": "分公司"}[group]
    money = DecimalField(max_digits=18, decimal_places=2)
    qs = (Case.objects.filter(bank__in=_banks(user), collector__isnull=False)
          .annotate(called=Exists(CallRecord.objects.filter(case=OuterRef("pk"))),
                    visited=Exists(VisitRecord.objects.filter(case=OuterRef("pk"))))
          .values(field_name).order_by(field_name)
          .annotate(held=Count("id"), contacted=Count("id", filter=Q(called=True)),
                    visits=Count("id", filter=Q(visited=True)), repaid_n=Count("id", filter=Q(repaid_amount__gt=0)),
                    repaid=Coalesce(Sum("repaid_amount"), Value(ZERO), output_field=money),
                    entrusted=Coalesce(Sum("entrusted_amount"), Value(ZERO), output_field=money)))
    table = ReportTable(title=f"工作进度（按{label}）",
                        headers=[label, "持有案件", "已电话联系", "已外访", "回款案件数", "回款金额", "委案金额",
                                 "回收率"])
    sums = [0, 0, 0, 0, ZERO, ZERO]
    for row in qs:
        row["repaid"], row["entrusted"] = row["repaid"].quantize(FEN), row["entrusted"].quantize(FEN)
        values = [row["held"], row["contacted"], row["visits"], row["repaid_n"], row["repaid"], row["entrusted"]]
        table.rows.append([row[field_name] or "（未设置）", *values, _percent(row["repaid"], row["entrusted"])])
        sums = [a + b for a, b in zip(sums, values, strict=True)]
    table.total = ["合计", *sums, _percent(sums[4], sums[5])]  # type: ignore[arg-type]
    return table


def complaint_report(*, user: User) -> ReportTable:
    """C13 figures: complaints per collector and reason."""
    reasons = list(ComplaintReason.choices)
    qs = (Complaint.objects.filter(case__bank__in=_banks(user)).values("collector__full_name", "reason")
          .order_by("collector__full_name").annotate(n=Count("id")))
    per: dict[str, dict[str, int]] = {}
    for row in qs:
        per.setdefault(row["collector__full_name"] or "（未指明）", {})[row["reason"]] = row["n"]
    table = ReportTable(title="投诉统计（按业务员和原因）", headers=["业务员", *[lbl for _, lbl in reasons], "合计"])
    totals = [0] * (len(reasons) + 1)
    for name, counts in per.items():
        values = [counts.get(code, 0) for code, _ in reasons]
        values.append(sum(values))
        table.rows.append([name, *values])
        totals = [a + b for a, b in zip(totals, values, strict=True)]
    table.total = ["合计", *totals]
    return table
