"""Reports (C12, M6): tables of exact decimals, read from the roll-ups (cases/models/reports.py), never from the
raw repayments or a scan of the cases, so a page stays fast on a million repayments. Clerks see their banks
only (C7); collectors see no report. The progress and credit-card reports first refresh the roll-up groups
the actions marked (cases.rollups.refresh: a cache fill, not a domain change). Must not import views or actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth, TruncYear
from django.utils import timezone

from accounts.models import User
from accounts.selectors import sees_commission
from cases import rollups
from cases.enums import CaseStatus, ComplaintReason
from cases.models import (
    Bank,
    Batch,
    BatchProgress,
    Case,
    CollectorProgress,
    Complaint,
    RepaymentDaily,
    RepaymentMonthly,
)
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
    # The collector each row is about (the progress report by collector), aligned with `rows`: the page links the
    # name to that collector's work page. Empty for other tables.
    row_collectors: list[int | None] = field(default_factory=list)


def can_view_reports(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_manager or user.is_clerk or user.is_sysadmin))


def _banks(user: User) -> QuerySet[Bank]:
    return bank_list_for_user(user=user)


def _rate_label(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _month_after(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _buckets(*, banks: QuerySet[Bank], period: str, key: str, date_from: dt.date,
             date_to: dt.date) -> dict[tuple[dt.date, object], list]:
    """(period start, batch id or rate) → [count, amount, commission], exact.

    Whole calendar months inside the range come from the monthly roll-up; the days of a partial first or last
    month from the daily one. A day report reads the daily roll-up only (its range is short by default).
    """
    sums = {"a": Sum("amount"), "c": Sum("commission"), "n": Sum("count")}  # grouped rows: never NULL
    parts: list[QuerySet] = []
    daily = RepaymentDaily.objects.filter(bank__in=banks)
    if period == "day":
        parts.append(daily.filter(day__gte=date_from, day__lte=date_to).annotate(p=F("day")))
    else:
        first_whole = date_from if date_from.day == 1 else _month_after(date_from)
        ends_month = _month_after(date_to) - dt.timedelta(days=1) == date_to
        after_whole = _month_after(date_to) if ends_month else date_to.replace(day=1)
        edges = [(date_from, date_to)]
        if first_whole < after_whole:
            month_p = F("month") if period == "month" else TruncYear("month")
            parts.append(RepaymentMonthly.objects.filter(bank__in=banks, month__gte=first_whole,
                                                         month__lt=after_whole).annotate(p=month_p))
            edges = [(date_from, first_whole - dt.timedelta(days=1)), (after_whole, date_to)]
        day_p = TruncMonth("day") if period == "month" else TruncYear("day")
        parts += [daily.filter(day__gte=start, day__lte=end).annotate(p=day_p) for start, end in edges
                  if start <= end]
    buckets: dict[tuple[dt.date, object], list] = {}
    for qs in parts:
        for p, k, a, c, n in qs.values("p", key).order_by().annotate(**sums).values_list("p", key, "a", "c", "n"):
            if isinstance(p, dt.datetime):  # TruncYear of a date on some backends
                p = p.date()
            acc = buckets.setdefault((p, k), [0, ZERO, ZERO])
            # SQLite adds decimals as floats; PostgreSQL's numeric sums are exact and unchanged by this.
            acc[0] += n
            acc[1] += a.quantize(FEN)
            acc[2] += c.quantize(FEN)
    return buckets


def repayment_report(*, user: User, period: str, by: str, date_from: dt.date, date_to: dt.date,
                     bank_id: int | None = None) -> ReportTable:
    """Repayments (and, for those who may see it, commission) per day/month/year, by batch or by rate."""
    banks = _banks(user)
    if bank_id:
        banks = banks.filter(pk=bank_id)
    key = "batch_id" if by == "batch" else "commission_rate"
    buckets = _buckets(banks=banks, period=period, key=key, date_from=date_from, date_to=date_to)
    show_commission = sees_commission(user)
    batch_names: dict[int, str] = {}
    if by == "batch":
        ids = {k for _, k in buckets}
        batch_names = {b.pk: f"{b.bank.name} {b.batch_no}" for b in Batch.objects.filter(pk__in=ids)
                       .select_related("bank")}
    fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[period]
    headers = [f"{PERIODS[period]}", BREAKDOWNS[by], "回款笔数", "回款金额"] + (["佣金"] if show_commission else [])
    table = ReportTable(title=f"回款{PERIODS[period]}报表（按{BREAKDOWNS[by]}）", headers=headers, label_cols=2)
    total_a, total_c, total_n = ZERO, ZERO, 0
    for (p, k), (n, a, c) in sorted(buckets.items(), key=lambda item: item[0]):
        if not n and not a:
            continue  # a bucket whose entries were all reversed
        label = batch_names.get(k, str(k)) if by == "batch" else _rate_label(k)  # type: ignore[arg-type]
        line: list[object] = [p.strftime(fmt), label, n, a]
        if show_commission:
            line.append(c)
        table.rows.append(line)
        total_a, total_c, total_n = total_a + a, total_c + c, total_n + n
    table.total = ["合计", "", total_n, total_a] + ([total_c] if show_commission else [])
    return table


def credit_card_batch_report(*, user: User) -> ReportTable:
    """C12: for each batch with credit-card cases, repaid ÷ entrusted of those cases (from BatchProgress)."""
    rollups.refresh()
    rows = (BatchProgress.objects.filter(bank__in=_banks(user), card_cases__gt=0).select_related("batch__bank")
            .order_by("batch_id"))
    table = ReportTable(title="信用卡批次回款率", headers=["银行", "批次", "案件数", "委案金额", "已还金额", "回款率"],
                        label_cols=2)
    te, tr, tn = ZERO, ZERO, 0
    for row in rows:
        e, r = row.card_entrusted.quantize(FEN), row.card_repaid.quantize(FEN)
        table.rows.append([row.batch.bank.name, row.batch.batch_no, row.card_cases, e, r, _percent(r, e)])
        te, tr, tn = te + e, tr + r, tn + row.card_cases
    table.total = ["合计", "", tn, te, tr, _percent(tr, te)]
    return table


def _percent(part: Decimal, whole: Decimal) -> str:
    if not whole:
        return "—"
    return f"{(part * 100 / whole).quantize(Decimal('0.01'))}%"


def progress_report(*, user: User, group: str) -> ReportTable:
    """Work progress per collector / department / branch: held, contacted, visited, repaid count and amount.

    Read from CollectorProgress (a few rows per collector), refreshed first for the groups the actions marked.
    """
    rollups.refresh()
    field_name = {"collector": "collector__full_name", "department": "collector__department__name",
                  "branch": "collector__branch__name"}[group]
    label = {"collector": "业务员", "department": "部门", "branch": "分公司"}[group]
    money = DecimalField(max_digits=18, decimal_places=2)
    keys = [field_name, "collector_id"] if group == "collector" else [field_name]  # two namesakes stay two rows
    qs = (CollectorProgress.objects.filter(bank__in=_banks(user))
          .values(*keys).order_by(*keys)
          .annotate(held_n=Sum("held"), contacted_n=Sum("contacted"), visits=Sum("visited"),
                    repaid_n=Sum("repaid_cases"),
                    repaid=Coalesce(Sum("repaid_amount"), Value(ZERO), output_field=money),
                    entrusted=Coalesce(Sum("entrusted_amount"), Value(ZERO), output_field=money)))
    table = ReportTable(title=f"工作进度（按{label}）",
                        headers=[label, "持有案件", "已电话联系", "已外访", "回款案件数", "回款金额", "委案金额",
                                 "回收率"])
    sums = [0, 0, 0, 0, ZERO, ZERO]
    for row in qs:
        if not row["held_n"]:
            continue
        row["repaid"], row["entrusted"] = row["repaid"].quantize(FEN), row["entrusted"].quantize(FEN)
        values = [row["held_n"], row["contacted_n"], row["visits"], row["repaid_n"], row["repaid"], row["entrusted"]]
        table.rows.append([row[field_name] or "（未设置）", *values, _percent(row["repaid"], row["entrusted"])])
        if group == "collector":
            table.row_collectors.append(row["collector_id"])
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


# --- Per-batch progress (issue 18 item 4): what the clerk looks at before 退案 ---------------------------------

BATCH_STATES = {"open": "未退完的批次", "all": "全部批次"}


@dataclass
class ProgressFigures:
    """Progress of a group of cases (a batch, or one collector's cases in a batch)."""

    cases: int = 0
    entrusted: Decimal = ZERO
    contacted: int = 0
    visited: int = 0
    promised: int = 0
    repaid_cases: int = 0
    repaid: Decimal = ZERO
    settled: int = 0
    returned: int = 0
    retained: int = 0

    @property
    def rate(self) -> str:
        return _percent(self.repaid, self.entrusted)

    @property
    def in_hand(self) -> int:
        """Cases still with the agency: neither returned to the bank nor settled."""
        return self.cases - self.returned - self.settled

    def add(self, other: ProgressFigures) -> None:
        for name in ("cases", "entrusted", "contacted", "visited", "promised", "repaid_cases", "repaid", "settled",
                     "returned", "retained"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def cells(self) -> list[object]:
        return [self.cases, self.entrusted, self.contacted, self.visited, self.promised, self.repaid_cases,
                self.repaid, self.rate, self.settled, self.returned, self.retained, self.in_hand]


PROGRESS_HEADERS = ["案件数", "委案金额", "已电话联系", "已外访", "承诺还款", "回款案件数", "已还金额", "回收率",
                    "已结清", "已退案", "留案", "在催"]


@dataclass
class BatchProgressRow:
    batch_id: int
    bank_name: str
    batch_no: str
    entrust_date: dt.date
    return_date: dt.date
    days_left: int
    figures: ProgressFigures


@dataclass
class CollectorProgressRow:
    collector_id: int | None
    name: str
    department: str
    figures: ProgressFigures


def batch_progress_list(*, user: User, bank_id: int | None = None, state: str = "open",
                        today: dt.date | None = None) -> list[BatchProgressRow]:
    """Every batch `user` may see (clerks: their banks), from the BatchProgress roll-up, nearest return date first.
    `state="open"` leaves out batches whose every case was returned."""
    rollups.refresh()
    today = today or timezone.localdate()
    qs = BatchProgress.objects.filter(bank__in=_banks(user))
    if bank_id:
        qs = qs.filter(bank_id=bank_id)
    if state == "open":
        qs = qs.filter(returned__lt=F("cases"))
    figures = ("cases", "entrusted", "contacted", "visited", "promised", "repaid_cases", "repaid", "settled",
               "returned", "retained")
    rows = []
    # Plain rows, not model instances (three per batch with its bank): the clerk's list of every batch.
    for p in qs.order_by("batch__return_date", "batch_id").values(
            "batch_id", "batch__bank__name", "batch__batch_no", "batch__entrust_date", "batch__return_date", *figures):
        rows.append(BatchProgressRow(batch_id=p["batch_id"], bank_name=p["batch__bank__name"],
                                     batch_no=p["batch__batch_no"], entrust_date=p["batch__entrust_date"],
                                     return_date=p["batch__return_date"],
                                     days_left=(p["batch__return_date"] - today).days,
                                     figures=ProgressFigures(**{name: p[name] for name in figures})))
    return rows


def batch_progress_table(rows: list[BatchProgressRow]) -> ReportTable:
    """The batch list as a report table (the .xlsx export)."""
    table = ReportTable(title="批次进度", headers=["银行", "批次", "委案日期", "退案日期", "距退案（天）",
                                                   *PROGRESS_HEADERS], label_cols=4)
    total = ProgressFigures()
    for r in rows:
        table.rows.append([r.bank_name, r.batch_no, r.entrust_date.isoformat(), r.return_date.isoformat(),
                           r.days_left, *r.figures.cells()])
        total.add(r.figures)
    table.total = ["合计", "", "", "", "", *total.cells()]
    return table


def batch_for_reports(*, user: User, batch_id: int) -> Batch | None:
    """The batch if `user` may see its bank's reports (clerks: their banks), else None."""
    return Batch.objects.filter(pk=batch_id, bank__in=_banks(user)).select_related("bank").first()


def batch_progress_by_collector(*, batch: Batch) -> list[CollectorProgressRow]:
    """Drill-down: the batch's cases per collector holding them now (未分配 for none), counted live in one query
    over the batch's cases: their figures from the covering batch index, and whether each has a live call, visit
    or promise by a probe per case into the small partial indexes of live records (rollups.with_live_work)."""
    money = DecimalField(max_digits=18, decimal_places=2)
    base = (rollups.with_live_work(Case.objects.filter(batch=batch)).values("collector_id").order_by()
            .annotate(n=Count("id"), e=Coalesce(Sum("entrusted_amount"), Value(ZERO), output_field=money),
                      r=Coalesce(Sum("repaid_amount"), Value(ZERO), output_field=money),
                      repaid_n=Count("id", filter=Q(repaid_amount__gt=0)),
                      settled=Count("id", filter=Q(status=CaseStatus.SETTLED)),
                      returned=Count("id", filter=Q(status=CaseStatus.RETURNED)),
                      retained=Count("id", filter=Q(status=CaseStatus.RETAINED)), **rollups.work_counts()))
    base = list(base)
    # Names apart: grouping by them too (joined users and departments) made PostgreSQL sort every case by text.
    people = {u["pk"]: u for u in User.objects.filter(pk__in=[r["collector_id"] for r in base if r["collector_id"]])
              .values("pk", "full_name", "username", "department__name")}
    rows = []
    for r in base:
        holder = r["collector_id"]
        person = people.get(holder, {})
        figures = ProgressFigures(cases=r["n"], entrusted=Decimal(r["e"]).quantize(FEN), contacted=r["contacted"],
                                  visited=r["visits"], promised=r["promised"], repaid_cases=r["repaid_n"],
                                  repaid=Decimal(r["r"]).quantize(FEN), settled=r["settled"],
                                  returned=r["returned"], retained=r["retained"])
        name = person.get("full_name") or person.get("username") or "（未分配）"
        rows.append(CollectorProgressRow(collector_id=holder, name=name,
                                         department=person.get("department__name") or "", figures=figures))
    rows.sort(key=lambda row: (row.collector_id is None, -row.figures.repaid, row.name))
    return rows


def collector_progress_table(*, batch: Batch, rows: list[CollectorProgressRow]) -> ReportTable:
    table = ReportTable(title=f"批次进度 {batch.batch_no}（按业务员）", headers=["业务员", "部门", *PROGRESS_HEADERS],
                        label_cols=2)
    total = ProgressFigures()
    for r in rows:
        table.rows.append([r.name, r.department, *r.figures.cells()])
        total.add(r.figures)
    table.total = ["合计", "", *total.cells()]
    return table
