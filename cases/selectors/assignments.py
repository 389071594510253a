"""Reads for assignment (C3, C4, C6): the assignable selection, collectors' loads, departed users' cases,
and the assignment history per case and per collector.

Must not import views, forms, actions or `realtime`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from accounts.models import User
from cases.enums import OPEN_STATUSES, CaseEventType, CaseStatus
from cases.models import Assignment, Case, CaseEvent, ClerkBankScope
from cases.policies import cases_assignable_by
from cases.selectors.cases import CaseFilters, case_list

ZERO = Decimal("0.00")

# Cases a collector is still working on: what a move, a swap or a hand-over carries over.
UNFINISHED_STATUSES: tuple[str, ...] = tuple(s for s in OPEN_STATUSES if s != CaseStatus.UNASSIGNED)


def assignment_candidate_list(*, user: User, filters: CaseFilters) -> QuerySet[Case]:
    """The case list's selection narrowed to what `user` may assign: open cases of their banks.

    Closed cases (已结清、已退案) never appear, so "all N matching" can always be assigned.
    """
    return (case_list(user=user, filters=filters) & cases_assignable_by(user)).filter(status__in=OPEN_STATUSES)


@dataclass(frozen=True)
class SelectionRow:
    id: int
    amount: Decimal
    collector_id: int | None


def assignment_selection(*, qs: QuerySet[Case]) -> list[SelectionRow]:
    """Id, 委案金额 and current collector of every case in `qs`, in one query (10k rows in a few ms)."""
    return [SelectionRow(pk, amount, collector_id)
            for pk, amount, collector_id in qs.order_by().values_list("pk", "entrusted_amount", "collector_id")]


@dataclass(frozen=True)
class Load:
    count: int = 0
    amount: Decimal = ZERO


def collector_loads(*, collector_ids: list[int]) -> dict[int, Load]:
    """Unfinished cases and their money per collector (what each already holds), in one grouped query."""
    if not collector_ids:
        return {}
    rows = (Case.objects.filter(collector_id__in=collector_ids, status__in=UNFINISHED_STATUSES).order_by()
            .values("collector_id").annotate(n=Count("pk"), amount=Sum("entrusted_amount")))
    return {r["collector_id"]: Load(count=r["n"], amount=r["amount"] or ZERO) for r in rows}


def collector_loads_for(*, user: User) -> dict[int, Load]:
    """Per collector, the unfinished cases `user` may move (the 调整 page's collector choices)."""
    rows = (cases_assignable_by(user).filter(status__in=UNFINISHED_STATUSES).exclude(collector=None).order_by()
            .values("collector_id").annotate(n=Count("pk"), amount=Sum("entrusted_amount")))
    return {r["collector_id"]: Load(count=r["n"], amount=r["amount"] or ZERO) for r in rows}


def unfinished_cases_of(*, user: User, collector: User) -> QuerySet[Case]:
    """A collector's unfinished cases that `user` may move, largest first, with what a list row shows."""
    return (cases_assignable_by(user).filter(collector=collector, status__in=UNFINISHED_STATUSES)
            .select_related("bank", "batch").order_by("-entrusted_amount", "id"))


def unfinished_load(*, user: User, collector: User) -> tuple[Load, Load]:
    """(what `user` may move, everything) of a collector's unfinished cases."""
    mine = cases_assignable_by(user).filter(collector=collector, status__in=UNFINISHED_STATUSES).order_by()
    every = Case.objects.filter(collector=collector, status__in=UNFINISHED_STATUSES).order_by()
    a = mine.aggregate(n=Count("pk"), amount=Sum("entrusted_amount"))
    b = every.aggregate(n=Count("pk"), amount=Sum("entrusted_amount"))
    return (Load(a["n"] or 0, a["amount"] or ZERO), Load(b["n"] or 0, b["amount"] or ZERO))


@dataclass(frozen=True)
class DepartedHolder:
    """A deactivated user who still holds unfinished cases (the 离职交接 list)."""

    user: User
    count: int          # cases `viewer` may hand over
    amount: Decimal
    total_count: int    # all their unfinished cases, every bank


def departed_holder_list(*, user: User) -> list[DepartedHolder]:
    """Every inactive user still holding unfinished cases, with how many `user` can hand over.

    Listed even when `user` can hand over none of them (other banks), so nobody's cases are forgotten:
    the page says whose clerk must act.
    """
    base = Case.objects.filter(collector__is_active=False, status__in=UNFINISHED_STATUSES).order_by()
    totals = {r["collector_id"]: r["n"] for r in base.values("collector_id").annotate(n=Count("pk"))}
    if not totals:
        return []
    mine = {
        r["collector_id"]: (r["n"], r["amount"] or ZERO)
        for r in (cases_assignable_by(user).filter(collector__is_active=False, status__in=UNFINISHED_STATUSES)
                  .order_by().values("collector_id").annotate(n=Count("pk"), amount=Sum("entrusted_amount")))
    }
    users = User.objects.filter(pk__in=list(totals)).select_related("branch", "department").order_by(
        "full_name", "username")
    return [DepartedHolder(user=u, count=mine.get(u.pk, (0, ZERO))[0], amount=mine.get(u.pk, (0, ZERO))[1],
                           total_count=totals[u.pk]) for u in users]


def departed_holder_count(*, user: User) -> int:
    """How many departed users still hold unfinished cases `user` can hand over (the nav badge)."""
    return (cases_assignable_by(user).filter(collector__is_active=False, status__in=UNFINISHED_STATUSES)
            .order_by().values("collector_id").distinct().count())


@dataclass(frozen=True)
class DepartedOwner:
    """A deactivated clerk who is still owner clerk of open cases (C6): the collectors' contact is gone."""

    user: User
    count: int          # cases `viewer` may take over (their banks; every bank for managers)
    amount: Decimal
    total_count: int    # all their open cases, every bank
    clerks: list[User]  # active clerks who could take over the viewer's part (managers choose among them)


def departed_owner_list(*, user: User) -> list[DepartedOwner]:
    """Every inactive clerk still owner clerk of open cases, with how many `user` can give a new owner.

    Listed even when `user` can take over none of them (other banks), so no case is left without a clerk.
    """
    base = Case.objects.filter(owner_clerk__is_active=False, status__in=OPEN_STATUSES).order_by()
    totals = {r["owner_clerk_id"]: r["n"] for r in base.values("owner_clerk_id").annotate(n=Count("pk"))}
    if not totals:
        return []
    mine_qs = cases_assignable_by(user).filter(owner_clerk__is_active=False, status__in=OPEN_STATUSES).order_by()
    mine = {r["owner_clerk_id"]: (r["n"], r["amount"] or ZERO)
            for r in mine_qs.values("owner_clerk_id").annotate(n=Count("pk"), amount=Sum("entrusted_amount"))}
    banks: dict[int, set[int]] = {}
    for owner_id, bank_id in mine_qs.values_list("owner_clerk_id", "bank_id").distinct():
        banks.setdefault(owner_id, set()).add(bank_id)
    scopes: dict[int, set[int]] = {}
    for clerk_id, bank_id in ClerkBankScope.objects.filter(clerk__is_active=True, clerk__is_clerk=True).values_list(
            "clerk_id", "bank_id"):
        scopes.setdefault(clerk_id, set()).add(bank_id)
    clerks = list(User.objects.filter(pk__in=list(scopes)).order_by("full_name", "username"))
    users = User.objects.filter(pk__in=list(totals)).select_related("branch", "department").order_by(
        "full_name", "username")
    return [DepartedOwner(user=u, count=mine.get(u.pk, (0, ZERO))[0], amount=mine.get(u.pk, (0, ZERO))[1],
                          total_count=totals[u.pk],
                          clerks=[c for c in clerks if banks.get(u.pk) and banks[u.pk] <= scopes[c.pk]])
            for u in users]


def owned_open_cases_of(*, user: User, owner: User) -> QuerySet[Case]:
    """Open cases whose owner clerk is `owner` that `user` may give a new owner clerk."""
    return cases_assignable_by(user).filter(owner_clerk=owner, status__in=OPEN_STATUSES)


def assignment_list_for_case(*, case: Case) -> QuerySet[Assignment]:
    """Every period a collector held the case, newest first."""
    return case.assignments.select_related("collector", "assigned_by").order_by("-started_at", "-id")


def assignment_list_for_collector(*, user: User, collector: User, limit: int = 500) -> list[Assignment]:
    """The periods `collector` held cases `user` may assign, newest first (capped)."""
    return list(
        Assignment.objects.filter(collector=collector, case__in=cases_assignable_by(user))
        .select_related("case", "case__bank", "assigned_by").order_by("-started_at", "-id")[:limit]
    )


# --- 内勤调配 (issue 15): moving an active clerk's owned cases to another clerk ----------------------------

@dataclass(frozen=True)
class OwnedGroup:
    bank_name: str
    batch_no: str
    count: int
    collectors: str


def clerk_owned_cases(*, clerk: User, bank_id: int | None = None, batch_id: int | None = None,
                      case_nos: Sequence[str] = ()) -> QuerySet[Case]:
    """Open cases `clerk` owns, narrowed to a bank, a batch or listed case numbers."""
    qs = Case.objects.filter(owner_clerk=clerk, status__in=OPEN_STATUSES)
    if bank_id is not None:
        qs = qs.filter(bank_id=bank_id)
    if batch_id is not None:
        qs = qs.filter(batch_id=batch_id)
    if case_nos:
        qs = qs.filter(case_no__in=list(case_nos))
    return qs


def clerk_owned_summary(*, cases: QuerySet[Case]) -> list[OwnedGroup]:
    """The selection by bank and batch, with the collectors who will hear of the new owner clerk."""
    groups: dict[tuple[str, str], tuple[int, set[str]]] = {}
    for bank, batch, collector, username in cases.values_list("bank__name", "batch__batch_no", "collector__full_name",
                                                               "collector__username"):
        count, names = groups.get((bank, batch), (0, set()))
        if collector or username:
            names.add(collector or username)
        groups[(bank, batch)] = (count + 1, names)
    return [OwnedGroup(bank_name=bank, batch_no=batch, count=count, collectors="、".join(sorted(names)))
            for (bank, batch), (count, names) in sorted(groups.items())]


def clerks_with_owned_cases() -> list[tuple[User, int]]:
    """Active clerks and how many open cases each owns."""
    counts = dict(Case.objects.filter(status__in=OPEN_STATUSES, owner_clerk__isnull=False)
                  .values("owner_clerk_id").annotate(n=Count("id")).values_list("owner_clerk_id", "n"))
    return [(u, counts.get(u.pk, 0)) for u in User.objects.filter(is_active=True, is_clerk=True)
            .order_by("full_name", "username")]


def owner_changes_for_case(*, case: Case) -> list[CaseEvent]:
    """Every change of the case's owner clerk (hand-overs and 内勤调配), newest first."""
    return list(CaseEvent.objects.filter(case=case, type=CaseEventType.OWNER_CHANGED).select_related("actor")
                .order_by("-created_at", "-id"))
