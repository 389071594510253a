"""Reads of the managers' live dashboard (M7): today's numbers per branch company, department, collector.

Built from the daily counter rows (one per collector per day) and the open overdue-work reminders, so
its cost follows the number of staff, not the number of cases.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from accounts.selectors import collector_list, sees_all_cases
from cases.enums import ReminderKind
from cases.models import DailyCollectorStats, DocumentRequest, Reminder
from cases.models.chat import DocumentRequestStatus
from cases.models.stats import COUNTER_FIELDS

# Columns of the dashboard in display order: (key, label). `repaid_amount` is money.
DASHBOARD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("cases_worked", "处理案件"),
    ("calls_made", "外呼"),
    ("calls_connected", "接通"),
    ("calls_inbound", "呼入"),
    ("visits", "外访"),
    ("new_assignments", "新分配"),
    ("overdue_calls", "首呼超期"),
    ("overdue_visits", "首访超期"),
    ("doc_requests_waiting", "待答资料"),
    ("repaid_amount", "今日回款"),
)
INT_COLUMNS: tuple[str, ...] = tuple(k for k, _ in DASHBOARD_COLUMNS if k != "repaid_amount")
_OVERDUE_COLUMN = {ReminderKind.FIRST_CALL_OVERDUE: "overdue_calls",
                   ReminderKind.FIRST_VISIT_OVERDUE: "overdue_visits"}


def can_view_dashboard(*, user: User) -> bool:
    """M7: managers (and system admins, who see every case) watch the live dashboard."""
    return bool(user.is_authenticated and user.is_active and sees_all_cases(user))


@dataclass
class Counters:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(INT_COLUMNS, 0))
    repaid_amount: Decimal = Decimal("0.00")

    def add(self, other: Counters) -> None:
        for key, value in other.values.items():
            self.values[key] = self.values.get(key, 0) + value
        self.repaid_amount += other.repaid_amount

    def cells(self) -> list[tuple[str, str, int | Decimal, str]]:
        """(column key, label, value, value as shown) in display order. Formatted here, once, with thousands
        separators (1,234,567.89): template filters per cell made a 300-collector page cost ~0.7 s to render."""
        out: list[tuple[str, str, int | Decimal, str]] = []
        for key, label in DASHBOARD_COLUMNS:
            if key == "repaid_amount":
                out.append((key, label, self.repaid_amount, f"{self.repaid_amount:,.2f}"))
            else:
                value = self.values.get(key, 0)
                out.append((key, label, value, f"{value:,}"))
        return out


@dataclass
class CollectorRow:
    id: int
    name: str
    counters: Counters


@dataclass
class DepartmentBlock:
    id: int | None
    name: str
    counters: Counters = field(default_factory=Counters)
    collectors: list[CollectorRow] = field(default_factory=list)


@dataclass
class BranchBlock:
    id: int | None
    name: str
    counters: Counters = field(default_factory=Counters)
    departments: list[DepartmentBlock] = field(default_factory=list)


@dataclass
class Dashboard:
    day: dt.date
    total: Counters
    branches: list[BranchBlock]
    columns: tuple[tuple[str, str], ...] = DASHBOARD_COLUMNS
    # Lines in use come from the dialer (later work); None shows "—".
    lines_in_use: int | None = None
    lines_total: int | None = None


def dashboard_stats_for_day(*, day: dt.date | None = None, branch_id: int | None = None) -> Dashboard:
    day = day or timezone.localdate()
    collectors = list(collector_list(branch_id=branch_id).values(
        "pk", "full_name", "username", "branch_id", "branch__name", "department_id", "department__name"))
    ids = [c["pk"] for c in collectors]
    per: dict[int, Counters] = defaultdict(Counters)
    for row in DailyCollectorStats.objects.filter(day=day, collector_id__in=ids).values(
            "collector_id", "repaid_amount", *COUNTER_FIELDS):
        counters = per[row["collector_id"]]
        for key in COUNTER_FIELDS:
            counters.values[key] = row[key]
        counters.repaid_amount = row["repaid_amount"]
    overdue = (
        Reminder.objects.filter(kind__in=list(_OVERDUE_COLUMN), resolved_at=None, user_id__in=ids)
        .values("user_id", "kind").annotate(n=Count("id"))
    )
    for row in overdue:
        per[row["user_id"]].values[_OVERDUE_COLUMN[row["kind"]]] = row["n"]
    # C8: requests a collector opened that still wait for the clerk's answer (index requested_by, status).
    waiting = (
        DocumentRequest.objects.filter(requested_by_id__in=ids, status=DocumentRequestStatus.OPEN)
        .values("requested_by_id").annotate(n=Count("id"))
    )
    for row in waiting:
        per[row["requested_by_id"]].values["doc_requests_waiting"] = row["n"]

    total = Counters()
    branches: dict[int | None, BranchBlock] = {}
    departments: dict[tuple[int | None, int | None], DepartmentBlock] = {}
    for c in collectors:  # plain rows, not model instances: 300 collectors on every page view
        counters = per[c["pk"]]
        branch_id, department_id = c["branch_id"], c["department_id"]
        branch = branches.get(branch_id)
        if branch is None:
            branch = branches[branch_id] = BranchBlock(id=branch_id,
                                                       name=c["branch__name"] if branch_id else "未设分公司")
        dept_key = (branch_id, department_id)
        dept = departments.get(dept_key)
        if dept is None:
            dept = departments[dept_key] = DepartmentBlock(
                id=department_id, name=c["department__name"] if department_id else "未设部门")
            branch.departments.append(dept)
        dept.collectors.append(CollectorRow(id=c["pk"], name=c["full_name"] or c["username"], counters=counters))
        dept.counters.add(counters)
        branch.counters.add(counters)
        total.add(counters)
    return Dashboard(day=day, total=total, branches=list(branches.values()))
