"""Reads of monthly targets and the rankings against them (issue 18 item 2). Must not import views or actions.

A month's actual figures come from the dashboard's daily counters (DailyCollectorStats: repayments credited to
the collector holding the case when they were recorded, connected outbound calls), so the ranking moves with
the dashboard and costs a few hundred rows whatever the number of cases.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from accounts.models import User
from accounts.selectors import collector_list, sees_all_cases
from cases.models import DailyCollectorStats
from performance.models import Target, TargetScope

ZERO = Decimal("0.00")
FEN = Decimal("0.01")


def can_manage_targets(user: User) -> bool:
    """Targets are set by managers."""
    return bool(user.is_authenticated and user.is_active and user.is_manager)


def can_view_ranking(user: User) -> bool:
    """The ranking is the dashboard's: managers and system admins."""
    return bool(user.is_authenticated and user.is_active and sees_all_cases(user))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def target_list(*, month: dt.date) -> list[Target]:
    return list(Target.objects.filter(month=month_start(month)).select_related("collector", "department", "branch"))


def month_target_total(*, month: dt.date) -> Decimal | None:
    """The agency's repayment target of `month`: the branch companies' targets when set, else the departments',
    else the collectors' (a manager sets them top-down or bottom-up); None when no target is set."""
    sums = dict(Target.objects.filter(month=month_start(month)).values("scope").order_by()
                .annotate(t=Sum("repayment_target")).values_list("scope", "t"))
    return _agency_target(sums)


def _agency_target(sums: dict[str, Decimal | None]) -> Decimal | None:
    """scope → sum of its repayment targets (None when all blank) → the agency's target (month_target_total)."""
    for scope in (TargetScope.BRANCH, TargetScope.DEPARTMENT, TargetScope.COLLECTOR):
        total = sums.get(scope)
        if total is not None:
            return Decimal(total).quantize(FEN)
    return None


@dataclass
class RankRow:
    key: int | None
    name: str
    group: str  # the department (for a collector) or branch (for a department) it is ranked within
    actual: Decimal
    target: Decimal | None
    contacts: int
    contact_target: int | None
    rank: int = 0
    leader: RankRow | None = None  # a department's first collector (the dashboard's 部门第一)

    @property
    def progress(self) -> Decimal | None:
        """Per cent of the repayment target reached (two places), None without a target."""
        if not self.target:
            return None
        return (self.actual * 100 / self.target).quantize(FEN)

    @property
    def contact_progress(self) -> Decimal | None:
        if not self.contact_target:
            return None
        return (Decimal(self.contacts) * 100 / self.contact_target).quantize(FEN)

    @property
    def gap(self) -> Decimal | None:
        """Still to recover to reach the target (0 once reached)."""
        if self.target is None:
            return None
        return max(self.target - self.actual, ZERO)


def competition_rank(rows: list[RankRow]) -> None:
    """Rank by amount recovered, highest first; ties share a rank and the next rank skips (1, 1, 3)."""
    rows.sort(key=lambda r: (-r.actual, r.name))
    for i, row in enumerate(rows):
        row.rank = rows[i - 1].rank if i and rows[i - 1].actual == row.actual else i + 1


@dataclass
class Ranking:
    month: dt.date
    collectors: dict[str, list[RankRow]]  # department label → its collectors, ranked within it
    departments: list[RankRow]
    branches: list[RankRow]
    total: RankRow


def month_actuals(*, month: dt.date, until: dt.date | None = None) -> dict[int, tuple[Decimal, int]]:
    """collector id → (repaid amount, connected outbound calls) of `month` (up to `until`)."""
    start, end = month_start(month), month_end(month)
    if until is not None:
        end = min(end, until)
    rows = (DailyCollectorStats.objects.filter(day__gte=start, day__lte=end).values("collector_id").order_by()
            .annotate(a=Sum("repaid_amount"), c=Sum("calls_connected")))
    return {r["collector_id"]: (Decimal(r["a"] or 0).quantize(FEN), int(r["c"] or 0)) for r in rows}


def ranking_for_month(*, month: dt.date) -> Ranking:
    """Every active collector's month against their target, ranked within their department; departments ranked
    within the agency and branch companies likewise. A department or branch without its own target is measured
    against the sum of its members' targets.

    Plain rows, no model instances: the dashboard reloads this on every counter change (300 collectors).
    """
    month = month_start(month)
    actual = month_actuals(month=month)
    targets = list(Target.objects.filter(month=month).values(
        "scope", "collector_id", "department_id", "branch_id", "repayment_target", "contact_target"))
    by_collector = {t["collector_id"]: t for t in targets if t["scope"] == TargetScope.COLLECTOR}
    by_department = {t["department_id"]: t for t in targets if t["scope"] == TargetScope.DEPARTMENT}
    by_branch = {t["branch_id"]: t for t in targets if t["scope"] == TargetScope.BRANCH}
    scope_sums: dict[str, Decimal | None] = {}
    for t in targets:
        if t["repayment_target"] is not None:
            scope_sums[t["scope"]] = (scope_sums.get(t["scope"]) or ZERO) + t["repayment_target"]

    collectors: dict[str, list[RankRow]] = defaultdict(list)
    dept_rows: dict[int | None, RankRow] = {}
    dept_members: dict[int | None, list[RankRow]] = {}
    branch_rows: dict[int | None, RankRow] = {}
    dept_member_targets: dict[int | None, list[Decimal]] = defaultdict(list)
    branch_member_targets: dict[int | None, list[Decimal]] = defaultdict(list)
    total = RankRow(key=None, name="全公司", group="", actual=ZERO, target=None, contacts=0, contact_target=None)
    people = collector_list().values("pk", "full_name", "username", "branch_id", "branch__name", "department_id",
                                     "department__name")
    for c in people:
        amount, contacts = actual.get(c["pk"], (ZERO, 0))
        t = by_collector.get(c["pk"])
        branch_name = c["branch__name"] if c["branch_id"] else "未设分公司"
        dept_label = f"{branch_name} / {c['department__name'] if c['department_id'] else '未设部门'}"
        collectors[dept_label].append(RankRow(
            key=c["pk"], name=c["full_name"] or c["username"], group=dept_label, actual=amount,
            target=t["repayment_target"] if t else None, contacts=contacts,
            contact_target=t["contact_target"] if t else None))
        d = dept_rows.get(c["department_id"])
        if d is None:
            d = dept_rows[c["department_id"]] = RankRow(
                key=c["department_id"], name=dept_label, group=branch_name, actual=ZERO, target=None, contacts=0,
                contact_target=None)
            dept_members[c["department_id"]] = collectors[dept_label]
        b = branch_rows.get(c["branch_id"])
        if b is None:
            b = branch_rows[c["branch_id"]] = RankRow(
                key=c["branch_id"], name=branch_name, group="", actual=ZERO, target=None, contacts=0,
                contact_target=None)
        for row in (d, b, total):
            row.actual += amount
            row.contacts += contacts
        if t is not None:
            dept_member_targets[c["department_id"]].append(t["repayment_target"])
            branch_member_targets[c["branch_id"]].append(t["repayment_target"])
    for key, row in dept_rows.items():
        own = by_department.get(key)
        row.target = own["repayment_target"] if own else (sum(dept_member_targets[key], ZERO) or None)
        row.contact_target = own["contact_target"] if own else None
    for key, row in branch_rows.items():
        own = by_branch.get(key)
        row.target = own["repayment_target"] if own else (sum(branch_member_targets[key], ZERO) or None)
        row.contact_target = own["contact_target"] if own else None
    total.target = _agency_target(scope_sums)
    for rows in collectors.values():
        competition_rank(rows)
    for key, row in dept_rows.items():
        row.leader = dept_members[key][0] if dept_members[key] else None
    departments, branches = list(dept_rows.values()), list(branch_rows.values())
    competition_rank(departments)
    competition_rank(branches)
    return Ranking(month=month, collectors=dict(sorted(collectors.items())), departments=departments,
                   branches=branches, total=total)
