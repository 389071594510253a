"""M3 (issue 16 item 5): one collector's work across their cases — calls, visits, promises and repayments — for a
date range, as the viewer may see it (case_visible_to: a clerk sees only the work on their banks' cases)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from cases.enums import CONNECTED_CALL_RESULTS
from cases.models import CallRecord, Repayment, RepaymentKind, VisitRecord
from cases.selectors.cases import case_visible_to
from worklist.models import Promise, PromiseStatus

# Each kind reads at most this many rows for one page or export (a year of one collector's calls is ~10,000).
ROW_LIMIT = 20000
KIND_LABELS = {"call": "电话", "visit": "外访", "promise": "承诺还款", "repayment": "回款"}


@dataclass(frozen=True)
class ActivityRow:
    at: dt.datetime
    kind: str
    case_id: int
    case_no: str
    debtor_name: str
    detail: str
    amount: Decimal | None = None
    status: str = ""

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class ActivitySummary:
    calls: int = 0
    connected: int = 0
    visits: int = 0
    promises: int = 0
    promised: Decimal = Decimal("0.00")
    kept: int = 0
    decided: int = 0
    repayments: int = 0
    repaid: Decimal = Decimal("0.00")
    truncated: list[str] = field(default_factory=list)

    @property
    def kept_rate(self) -> str:
        """Kept (in full) of the decided promises, e.g. "66.7%"; "—" before any was decided."""
        return f"{self.kept * 100 / self.decided:.1f}%" if self.decided else "—"


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def collector_activity(*, viewer: User, collector: User, date_from: dt.date, date_to: dt.date,
                       kind: str = "") -> tuple[list[ActivityRow], ActivitySummary]:
    """The collector's work between the two local dates (inclusive), newest first, and its totals."""
    visible = case_visible_to(viewer)
    start, end = _aware(date_from), _aware(date_to + dt.timedelta(days=1))
    rows: list[ActivityRow] = []
    summary = ActivitySummary()
    if kind in ("", "call"):
        calls = (CallRecord.objects.filter(collector=collector, deleted_at=None, case__in=visible,
                                           started_at__gte=start, started_at__lt=end)
                 .select_related("case").order_by("-started_at")[:ROW_LIMIT])
        for c in calls:
            assert c.case is not None
            connected = c.answered_at is not None or c.result in CONNECTED_CALL_RESULTS
            summary.calls += 1
            summary.connected += int(connected)
            what = f"{c.get_direction_display()} · {c.get_result_display() or c.hangup_cause or '—'}"
            if c.duration_s:
                what += f" · {c.duration_s // 60}分{c.duration_s % 60}秒"
            rows.append(ActivityRow(at=c.started_at, kind="call", case_id=c.case_id, case_no=c.case.case_no,
                                    debtor_name=c.case.debtor_name, detail=(what + (f" · {c.note}" if c.note else ""))
                                    [:200]))
        summary.truncated += ["电话"] if len(rows) >= ROW_LIMIT else []
    if kind in ("", "visit"):
        visits = (VisitRecord.objects.filter(collector=collector, deleted_at=None, case__in=visible,
                                             visited_on__gte=date_from, visited_on__lte=date_to)
                  .select_related("case").order_by("-visited_on", "-id")[:ROW_LIMIT])
        for v in visits:
            summary.visits += 1
            rows.append(ActivityRow(at=_aware(v.visited_on), kind="visit", case_id=v.case_id, case_no=v.case.case_no,
                                    debtor_name=v.case.debtor_name,
                                    detail=f"{v.get_result_display()} · {v.address}"[:200]))
    if kind in ("", "promise"):
        promises = (Promise.objects.filter(collector=collector, case__in=visible, made_on__gte=date_from,
                                           made_on__lte=date_to).exclude(status=PromiseStatus.CANCELLED)
                    .select_related("case").order_by("-made_on", "-id")[:ROW_LIMIT])
        for p in promises:
            summary.promises += 1
            summary.promised += p.amount
            if p.status in (PromiseStatus.KEPT, PromiseStatus.PARTLY_KEPT, PromiseStatus.BROKEN):
                summary.decided += 1
                summary.kept += int(p.status == PromiseStatus.KEPT)
            rows.append(ActivityRow(at=_aware(p.made_on), kind="promise", case_id=p.case_id, case_no=p.case.case_no,
                                    debtor_name=p.case.debtor_name, amount=p.amount, status=p.get_status_display(),
                                    detail=f"承诺 {p.due_date:%Y-%m-%d} 还款 · {p.get_status_display()}"
                                           + (f"（已还 ¥{p.paid_amount:,.2f}）" if p.paid_amount else "")))
    if kind in ("", "repayment"):
        # Repayments on the cases the collector works now, recorded in the range (a moved case's money follows
        # the case: the report by collector counts it the same way).
        repayments = (Repayment.objects.filter(case__collector=collector, case__in=visible,
                                               kind=RepaymentKind.NORMAL, reversed_by__isnull=True,
                                               repaid_on__gte=date_from, repaid_on__lte=date_to)
                      .select_related("case").order_by("-repaid_on", "-id")[:ROW_LIMIT])
        for r in repayments:
            summary.repayments += 1
            summary.repaid += r.amount
            rows.append(ActivityRow(at=_aware(r.repaid_on), kind="repayment", case_id=r.case_id,
                                    case_no=r.case.case_no, debtor_name=r.case.debtor_name, amount=r.amount,
                                    detail=f"回款{(' · 流水号 ' + r.bank_ref) if r.bank_ref else ''}"))
    rows.sort(key=lambda r: (r.at, r.kind), reverse=True)
    return rows, summary


def collectors_visible_to(viewer: User) -> list[User]:
    """The collectors whose work `viewer` may open (M3): all for managers and clerks (a clerk's pages show only
    their banks' cases), oneself for a collector."""
    qs = User.objects.filter(Q(is_phone_collector=True) | Q(is_field_collector=True), is_active=True)
    if not (viewer.is_manager or viewer.is_clerk):
        qs = qs.filter(pk=viewer.pk)
    return list(qs.select_related("branch", "department").order_by("full_name", "username"))


