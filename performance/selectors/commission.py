"""Collector commission statements (提成, issue 18 item 3), computed from the repayments credited to each
collector. Must not import views or actions.

Which entries a month's statement holds: the collector's entries (repayments and reversals) whose repayment day
falls in the month, plus entries of earlier days recorded during the month (a late bank notice, a reversal),
minus every entry already settled in an approved (locked) statement. A reversal of an entry settled in a locked
statement is charged back at the rate that entry earned; other entries are netted within their scheme.

Which scheme: the batch's scheme in force on the repayment day, else the bank's; none → 0 (named on the line).
Tiers apply the rate of the highest tier reached (thresholds inclusive) to the whole month's net amount under
the scheme; a recovery-rate tier compares that net amount with the entrusted amount of the collector's cases
under the scheme.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from accounts.models import User
from accounts.selectors import collector_list
from cases.models import Case, Repayment, RepaymentKind
from performance.models import CollectorStatement, CommissionScheme, SchemeKind, StatementLine

ZERO = Decimal("0.00")
FEN = Decimal("0.01")


def can_manage_commission(user: User) -> bool:
    """Schemes are set and statements approved by managers."""
    return bool(user.is_authenticated and user.is_active and user.is_manager)


def can_view_statements(user: User) -> bool:
    """Every collector's statements: managers and system admins (collectors see only their own)."""
    return bool(user.is_authenticated and user.is_active and (user.is_manager or user.is_sysadmin))


def can_view_statement_of(user: User, collector_id: int) -> bool:
    return can_view_statements(user) or (user.is_authenticated and user.is_active and user.pk == collector_id)


def percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(FEN)}%"


@dataclass
class Line:
    repayment_id: int
    case_id: int
    case_no: str
    debtor_name: str
    repaid_on: dt.date
    kind: str  # 回款 / 冲正 / 冲正（已结算）
    scheme_id: int | None
    scheme_name: str
    rate: Decimal
    amount: Decimal
    commission: Decimal = ZERO

    @property
    def rate_label(self) -> str:
        return percent(self.rate)


@dataclass
class SchemeGroup:
    scheme_id: int | None
    name: str
    kind: str
    net: Decimal
    basis: str  # how the rate was found, in Chinese
    rate: Decimal

    @property
    def rate_label(self) -> str:
        return percent(self.rate)


@dataclass
class Statement:
    collector_id: int
    collector_name: str
    month: dt.date
    lines: list[Line] = field(default_factory=list)
    groups: list[SchemeGroup] = field(default_factory=list)
    locked: bool = False
    approved_by: str = ""
    approved_at: dt.datetime | None = None

    @property
    def cases(self) -> int:
        return len({line.case_id for line in self.lines})

    @property
    def entries(self) -> int:
        return sum(1 for line in self.lines if line.amount > 0)

    @property
    def recovered(self) -> Decimal:
        """Net amount recovered: repayments less reversals."""
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def reversals(self) -> Decimal:
        return sum((line.amount for line in self.lines if line.amount < 0), ZERO)

    @property
    def commission(self) -> Decimal:
        return sum((line.commission for line in self.lines), ZERO)


def _month_bounds(month: dt.date) -> tuple[dt.date, dt.date, dt.datetime, dt.datetime]:
    start = month.replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (start, following - dt.timedelta(days=1), timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
            timezone.make_aware(dt.datetime.combine(following, dt.time.min), tz))


def _tier_rate(scheme: CommissionScheme, value: Decimal) -> Decimal:
    reached = [t for t in scheme.tiers.all() if value >= t.threshold]
    return max(reached, key=lambda t: t.threshold).rate if reached else ZERO


def _scheme_for(schemes: list[CommissionScheme], *, bank_id: int, batch_id: int,
                day: dt.date) -> CommissionScheme | None:
    def in_force(s: CommissionScheme) -> bool:
        return s.effective_from <= day and (s.effective_to is None or day <= s.effective_to)

    for s in schemes:
        if s.batch_id == batch_id and in_force(s):
            return s
    for s in schemes:
        if s.batch_id is None and s.bank_id == bank_id and in_force(s):
            return s
    return None


def _open_entries(*, month: dt.date, collector_ids: list[int] | None) -> list[dict[str, object]]:
    """Unsettled entries of the month's drafts. An entry belongs to its repayment day's month, or, once that
    month is locked for its collector, to the month after the collector's latest locked one (approvals go month
    by month): those are the entries recorded after that approval for earlier days."""
    start, end, _, _ = _month_bounds(month)
    latest: dict[int, CollectorStatement] = {}
    statements = CollectorStatement.objects.filter(month__lt=start).order_by("month")
    if collector_ids is not None:
        statements = statements.filter(collector_id__in=collector_ids)
    for st in statements.only("collector_id", "month", "approved_at"):
        latest[st.collector_id] = st
    previous = (start - dt.timedelta(days=1)).replace(day=1)
    late_after = {cid: st.approved_at for cid, st in latest.items() if st.month == previous}
    unsettled = ~Exists(StatementLine.objects.filter(repayment=OuterRef("pk")))
    qs = Repayment.objects.filter(collector__isnull=False)
    if collector_ids is not None:
        qs = qs.filter(collector_id__in=collector_ids)
    fields = ("id", "collector_id", "case_id", "case__case_no", "case__debtor_name", "case__bank_id",
              "case__batch_id", "repaid_on", "amount", "kind", "reverses_id")
    # The month's own entries without their recording time: parsing 36,000 timestamps took a quarter of a second.
    rows = list(qs.filter(unsettled, repaid_on__gte=start, repaid_on__lte=end).order_by("repaid_on", "id")
                .values(*fields))
    if late_after:
        late = (qs.filter(unsettled, collector_id__in=list(late_after), repaid_on__lt=start,
                          created_at__gte=min(late_after.values()))
                .order_by("repaid_on", "id").values(*fields, "created_at"))
        rows = [r for r in late if r["created_at"] >= late_after[r["collector_id"]]] + rows  # type: ignore[operator]
    return rows


def _settled_rates(reversed_ids: set[int]) -> dict[int, tuple[int | None, Decimal]]:
    """Original repayment id → (scheme, rate) it earned in a locked statement."""
    if not reversed_ids:
        return {}
    return {r["repayment_id"]: (r["scheme_id"], r["rate"]) for r in StatementLine.objects.filter(
        repayment_id__in=reversed_ids).values("repayment_id", "scheme_id", "rate")}


def draft_statements(*, month: dt.date, collector_ids: list[int] | None = None) -> dict[int, Statement]:
    """Statements of the month not yet approved, computed now, for these collectors (all for None)."""
    month = month.replace(day=1)
    names = {u.pk: u.display_name for u in (collector_list(active_only=False) if collector_ids is None
                                             else User.objects.filter(pk__in=collector_ids))}
    entries = _open_entries(month=month, collector_ids=collector_ids)
    schemes = list(CommissionScheme.objects.prefetch_related("tiers"))
    by_id = {s.pk: s for s in schemes}
    settled = _settled_rates({e["reverses_id"] for e in entries if e["reverses_id"]})  # type: ignore[misc]
    out: dict[int, Statement] = {}
    groups: dict[tuple[int, int | None], list[Line]] = defaultdict(list)
    scheme_of: dict[tuple[object, object, object], CommissionScheme | None] = {}  # (bank, batch, day) → scheme
    for e in entries:
        cid = int(e["collector_id"])  # type: ignore[call-overload]
        st = out.get(cid)
        if st is None:
            st = out[cid] = Statement(collector_id=cid, collector_name=names.get(cid, str(cid)), month=month)
        amount = Decimal(e["amount"])  # type: ignore[arg-type]
        common = {"repayment_id": e["id"], "case_id": e["case_id"], "case_no": e["case__case_no"],
                  "debtor_name": e["case__debtor_name"], "repaid_on": e["repaid_on"], "amount": amount}
        original = e["reverses_id"]
        if original in settled:
            scheme_id, rate = settled[original]  # type: ignore[index]
            scheme = by_id.get(scheme_id) if scheme_id else None
            st.lines.append(Line(**common, kind="冲正（已结算）", scheme_id=scheme_id,  # type: ignore[arg-type]
                                 scheme_name=scheme.name if scheme else "无方案", rate=rate,
                                 commission=(amount * rate).quantize(FEN, rounding=ROUND_HALF_UP)))
            continue
        key = (e["case__bank_id"], e["case__batch_id"], e["repaid_on"])
        if key not in scheme_of:
            scheme_of[key] = _scheme_for(schemes, bank_id=e["case__bank_id"], batch_id=e["case__batch_id"],  # type: ignore[arg-type]
                                         day=e["repaid_on"])  # type: ignore[arg-type]
        scheme = scheme_of[key]
        line = Line(**common, kind="冲正" if e["kind"] == RepaymentKind.REVERSAL else "回款",  # type: ignore[arg-type]
                    scheme_id=scheme.pk if scheme else None, scheme_name=scheme.name if scheme else "无方案",
                    rate=ZERO)
        st.lines.append(line)
        groups[(cid, line.scheme_id)].append(line)
    entrusted = _entrusted_under_rate_schemes(schemes, {cid for cid, sid in groups
                                                        if sid and by_id[sid].kind == SchemeKind.RATE_TIERS})
    for (cid, sid), lines in groups.items():
        net = sum((line.amount for line in lines), ZERO)
        scheme = by_id.get(sid) if sid else None
        if scheme is None:
            rate, basis, kind = ZERO, "该银行/批次没有生效的提成方案", "—"
        elif scheme.kind == SchemeKind.FLAT:
            rate, basis, kind = scheme.rate or ZERO, "固定比例", scheme.get_kind_display()
        elif scheme.kind == SchemeKind.AMOUNT_TIERS:
            rate, basis, kind = _tier_rate(scheme, net), f"本月回收 {net:,.2f} 元", scheme.get_kind_display()
        else:
            base = entrusted.get((cid, scheme.pk), ZERO)
            # The tier is chosen on the exact ratio and the shown figure rounded down: 4,999.99 of 20,000 is
            # 24.99995%, short of a 25% tier, and must not read as 25.00%.
            recovery = net * 100 / base if base else ZERO
            rate = _tier_rate(scheme, recovery)
            shown = recovery.quantize(FEN, rounding=ROUND_DOWN)
            basis, kind = f"回收率 {shown}%（{net:,.2f} ÷ 委案 {base:,.2f}）", scheme.get_kind_display()
        for line in lines:
            line.rate = rate
            line.commission = (line.amount * rate).quantize(FEN, rounding=ROUND_HALF_UP)
        out[cid].groups.append(SchemeGroup(scheme_id=sid, name=scheme.name if scheme else "无方案", kind=kind,
                                           net=net, basis=basis, rate=rate))
    return out


def _entrusted_under_rate_schemes(schemes: list[CommissionScheme],
                                  collector_ids: set[int]) -> dict[tuple[int, int], Decimal]:
    out: dict[tuple[int, int], Decimal] = {}
    if not collector_ids:
        return out
    for s in schemes:
        if s.kind != SchemeKind.RATE_TIERS:
            continue
        scope = Q(batch_id=s.batch_id) if s.batch_id else Q(bank_id=s.bank_id)
        for row in (Case.objects.filter(scope, collector_id__in=collector_ids).values("collector_id").order_by()
                    .annotate(e=Sum("entrusted_amount"))):
            out[(row["collector_id"], s.pk)] = Decimal(row["e"] or 0).quantize(FEN)
    return out


def locked_statement(*, collector_id: int, month: dt.date) -> Statement | None:
    row = (CollectorStatement.objects.filter(collector_id=collector_id, month=month.replace(day=1))
           .select_related("collector", "approved_by").first())
    if row is None:
        return None
    st = Statement(collector_id=collector_id, collector_name=row.collector.display_name, month=row.month,
                   locked=True, approved_by=row.approved_by.display_name, approved_at=row.approved_at)
    for line in (row.lines.select_related("repayment__case", "scheme").order_by("repayment__repaid_on",
                                                                                  "repayment_id")):
        r = line.repayment
        st.lines.append(Line(repayment_id=r.pk, case_id=r.case_id, case_no=r.case.case_no,
                             debtor_name=r.case.debtor_name, repaid_on=r.repaid_on,
                             kind="回款" if r.amount > 0 else "冲正", scheme_id=line.scheme_id,
                             scheme_name=line.scheme.name if line.scheme else "无方案", rate=line.rate,
                             amount=line.amount, commission=line.commission))
    return st


def statement_for(*, collector_id: int, month: dt.date) -> Statement:
    """The month's statement: the locked one once approved, else the draft computed now."""
    locked = locked_statement(collector_id=collector_id, month=month)
    if locked is not None:
        return locked
    draft = draft_statements(month=month, collector_ids=[collector_id]).get(collector_id)
    if draft is None:
        user = User.objects.filter(pk=collector_id).first()
        draft = Statement(collector_id=collector_id, collector_name=user.display_name if user else str(collector_id),
                          month=month.replace(day=1))
    return draft


@dataclass
class StatementSummary:
    collector_id: int
    name: str
    department: str
    cases: int
    entries: int
    recovered: Decimal
    reversals: Decimal
    commission: Decimal
    locked: bool


def statement_summaries(*, month: dt.date) -> list[StatementSummary]:
    """Every collector's statement of the month (locked figures as approved, the rest computed now)."""
    month = month.replace(day=1)
    people = list(collector_list(active_only=False).filter(
        Q(is_active=True) | Q(pk__in=Repayment.objects.filter(repaid_on__gte=month).values("collector_id"))))
    locked = {s.collector_id: s for s in CollectorStatement.objects.filter(month=month)}
    drafts = draft_statements(month=month, collector_ids=[p.pk for p in people if p.pk not in locked])
    out = []
    for p in people:
        dept = f"{p.branch.name if p.branch else ''} {p.department.name if p.department else ''}".strip()
        if p.pk in locked:
            s = locked[p.pk]
            out.append(StatementSummary(collector_id=p.pk, name=p.display_name, department=dept, cases=s.cases,
                                        entries=s.entries, recovered=s.recovered, reversals=s.reversals,
                                        commission=s.commission, locked=True))
        else:
            d = drafts.get(p.pk)
            out.append(StatementSummary(
                collector_id=p.pk, name=p.display_name, department=dept, cases=d.cases if d else 0,
                entries=d.entries if d else 0, recovered=d.recovered if d else ZERO,
                reversals=d.reversals if d else ZERO, commission=d.commission if d else ZERO, locked=False))
    return out


def scheme_list() -> list[CommissionScheme]:
    return list(CommissionScheme.objects.select_related("bank", "batch__bank", "created_by").prefetch_related("tiers"))
