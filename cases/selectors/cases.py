"""Reads of cases. `case_visible_to` is the one scoping function every case query starts from.

The case list (P1, P7, M1, M2) is built here: `case_list` applies `CaseFilters` on top of the scope,
`case_page` fetches one page of any list without a COUNT (`case_list_page` the case list's, ids first),
`case_count_capped` counts at most a cap, `case_status_group_counts` the tabs in one query, and
`case_list_totals` sums money only for sets small enough to sum on every page view.
Must not import views, forms or `realtime`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BigIntegerField, ExpressionWrapper, F, Model, OrderBy, Q, QuerySet, Sum
from django.utils import timezone

from accounts.inputs import MAX_PAGE
from accounts.models import User
from accounts.selectors import sees_all_cases, sees_commission
from cases.enums import STATUS_GROUPS, CaseEventType, CaseStatus
from cases.models import Batch, Case, CaseContact, CaseEvent, ClerkBankScope
from cases.selectors.reminders import annotate_urgency
from cases.validators import is_landline, is_mobile, normalize_id_number, normalize_phone, normalize_width

ZERO = Decimal("0.00")


def case_scope_q(user: User) -> Q | None:
    """The filter a role adds to every case query; None means every case.

    A user holding several roles sees the union of what each role sees.
    """
    if sees_all_cases(user):
        return None
    scope = Q(pk__in=[])
    if user.is_clerk:
        # A subquery, not a join through the scopes: a join repeats a collector's case once per clerk
        # of its bank when the user is both clerk and collector, and the planner handles IN better.
        scope |= Q(bank_id__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id"))
    if user.is_collector:
        scope |= Q(collector=user)
    return scope


def case_visible_to(user: User) -> QuerySet[Case]:
    """Every case `user` may see (P7, C7, M1). Inactive or anonymous users see none."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    scope = case_scope_q(user)
    qs = Case.objects.all()
    if scope is not None:
        qs = qs.filter(scope)
    return qs


# ---------------------------------------------------------------------------------------------------------
# The case list

class SearchMode:
    AUTO = "auto"
    NAME = "name"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    CASE_NO = "case_no"


SEARCH_MODES: tuple[tuple[str, str], ...] = (
    (SearchMode.AUTO, "自动识别"),
    (SearchMode.NAME, "客户姓名"),
    (SearchMode.ID_NUMBER, "证件号码"),
    (SearchMode.PHONE, "电话"),
    (SearchMode.CASE_NO, "案件编号"),
)

# Sort key (as it appears in ?sort=) → the column it orders by. The list is a whitelist: anything else
# falls back to the default. `commission_rate` is only offered to users who may see it (P7): sorting by
# a hidden column would still leak its order.
SORT_FIELDS: dict[str, str] = {
    "id": "id",
    "case_no": "case_no",
    "debtor_name": "debtor_name",
    "bank": "bank__code",
    "batch": "batch__batch_no",
    "product_type": "product_type",
    "region": "region",
    "entrusted_amount": "entrusted_amount",
    "repaid_amount": "repaid_amount",
    "balance": "balance",
    "overdue_days": "overdue_days",
    "entrust_date": "entrust_date",
    "return_date": "return_date",
    "status": "status",
    # By person id, not name: it groups each person's cases together (what managers sort for, M3) and
    # walks the (collector, id) index; sorting a million rows by a joined name took 3 s.
    "collector": "collector_id",
    "commission_rate": "commission_rate",
    # Most pressing first: open overdue first call/visit, then the nearest return date (annotate_urgency).
    "urgency": "urgency",
}
COMMISSION_SORTS = frozenset({"commission_rate"})
# Sorting by urgency computes it for every row in scope: fine for a collector's own cases, not for a million.
URGENCY_SORTS = frozenset({"urgency"})
DEFAULT_SORT = "-id"


@dataclass(frozen=True, kw_only=True)
class CaseFilters:
    """What the user asked the case list for. Every field is optional; empty means "no filter"."""

    bank_id: int | None = None
    batch_id: int | None = None
    status: str = ""
    status_group: str = ""
    region: str = ""
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    entrust_from: dt.date | None = None
    entrust_to: dt.date | None = None
    return_from: dt.date | None = None
    return_to: dt.date | None = None
    collector_id: int | None = None
    branch_id: int | None = None
    department_id: int | None = None
    q: str = ""
    search_mode: str = SearchMode.AUTO
    sort: str = DEFAULT_SORT


def sort_keys_for(user: User) -> frozenset[str]:
    """The sort keys `user` may use."""
    keys = frozenset(SORT_FIELDS)
    if not user.is_collector:
        keys -= URGENCY_SORTS
    return keys if sees_commission(user) else keys - COMMISSION_SORTS


def resolve_sort(*, user: User, sort: str) -> str:
    """`sort` if whitelisted for `user` (with an optional leading '-'), else the default."""
    key = sort.removeprefix("-")
    return sort if key in sort_keys_for(user) else DEFAULT_SORT


def _contact_case_ids(phone: str) -> list[int]:
    """Cases with a contact of this number, fetched first: an `IN (subquery)` ORed with `mobile = …` cannot
    use both indexes and scans the whole table (bench: 500 ms → a few ms on a million cases)."""
    if not phone:
        return []
    return list(CaseContact.objects.filter(phone=phone).values_list("case_id", flat=True).distinct()[:1000])


def _case_no_case_ids(case_no: str) -> list[int]:
    """Cases with exactly this case number, fetched first for the same reason: ORed into a name prefix search,
    `case_no = …` turned the index-only count of the name index into a bitmap scan reading every matching row
    (name prefix 王: the status tabs 600 ms → 30 ms). Almost always empty, and then the OR disappears."""
    return list(Case.objects.filter(case_no=case_no).values_list("pk", flat=True)[:1000])


def _search_q(text: str, mode: str) -> Q:
    """The search box: name prefix, ID number, phone or case number, each exact except the name.

    In AUTO mode the shape of the text decides: something shaped like an ID number or a phone is looked
    up as such (and as a case number, since banks' case numbers are often all digits); anything else is
    a name prefix or a case number. Every branch hits an index, so the search stays fast on a million rows.
    """
    raw = normalize_width(text)
    id_number = normalize_id_number(raw)
    phone = normalize_phone(raw)

    def by_phone() -> Q:
        return Q(mobile=phone) | Q(pk__in=_contact_case_ids(phone))

    if mode == SearchMode.NAME:
        return Q(debtor_name__startswith=raw)
    if mode == SearchMode.ID_NUMBER:
        return Q(id_number=id_number)
    if mode == SearchMode.PHONE:
        return by_phone()
    if mode == SearchMode.CASE_NO:
        return Q(case_no=raw)
    by_case_no = Q(pk__in=_case_no_case_ids(raw))
    looks_like_id = len(id_number) in (15, 18) and id_number[:-1].isdigit() and id_number[-1] in "0123456789X"
    if looks_like_id:
        return Q(id_number=id_number) | by_case_no
    if is_mobile(phone) or is_landline(phone):
        return by_phone() | by_case_no
    return Q(debtor_name__startswith=raw) | by_case_no


def _filter_q(filters: CaseFilters, *, skip_status: bool = False) -> Q:
    q = Q()
    if filters.bank_id is not None:
        q &= Q(bank_id=filters.bank_id)
    if filters.batch_id is not None:
        q &= Q(batch_id=filters.batch_id)
    if not skip_status:
        if filters.status:
            q &= Q(status=filters.status)
        if filters.status_group in STATUS_GROUPS:
            q &= Q(status__in=STATUS_GROUPS[filters.status_group])
    if filters.region:
        q &= Q(region__startswith=filters.region)
    if filters.amount_min is not None:
        q &= Q(entrusted_amount__gte=filters.amount_min)
    if filters.amount_max is not None:
        q &= Q(entrusted_amount__lte=filters.amount_max)
    if filters.entrust_from is not None:
        q &= Q(entrust_date__gte=filters.entrust_from)
    if filters.entrust_to is not None:
        q &= Q(entrust_date__lte=filters.entrust_to)
    if filters.return_from is not None:
        q &= Q(return_date__gte=filters.return_from)
    if filters.return_to is not None:
        q &= Q(return_date__lte=filters.return_to)
    if filters.collector_id is not None:
        q &= Q(collector_id=filters.collector_id)
    if filters.branch_id is not None:
        q &= Q(collector__branch_id=filters.branch_id)
    if filters.department_id is not None:
        q &= Q(collector__department_id=filters.department_id)
    if filters.q.strip():
        q &= _search_q(filters.q.strip(), filters.search_mode)
    return q


def _order_by(*, user: User, sort: str) -> list[str]:
    sort = resolve_sort(user=user, sort=sort)
    desc = sort.startswith("-")
    column = SORT_FIELDS[sort.removeprefix("-")]
    # A stable tie-break on id in the same direction, so pages never repeat or skip rows.
    if column == "id":
        return ["-id" if desc else "id"]
    if desc:
        return [f"-{column}", "-id"]
    return [column, "id"]


def _off_working_list_q(*, user: User, filters: CaseFilters) -> Q | None:
    """C9: returned cases leave the working list of the collector who held them (None: nothing to hide).

    They stay visible to that collector read-only (case page, `case_visible_to`), and the list shows them when
    the collector asks for status 已退案 explicitly. A clerk who is also a collector keeps the returned cases
    of their banks, which they see as a clerk.
    """
    if not user.is_collector or sees_all_cases(user) or filters.status == CaseStatus.RETURNED:
        return None
    hidden = Q(status=CaseStatus.RETURNED, collector=user)
    if user.is_clerk:
        hidden &= ~Q(bank_id__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id"))
    return hidden


def _scoped_unordered(*, user: User, filters: CaseFilters, skip_status: bool = False) -> QuerySet[Case]:
    qs = case_visible_to(user).filter(_filter_q(filters, skip_status=skip_status))
    hidden = _off_working_list_q(user=user, filters=filters)
    return qs if hidden is None else qs.exclude(hidden)


def case_list(*, user: User, filters: CaseFilters) -> QuerySet[Case]:
    """The cases `user` may see that match `filters`, sorted, with what a list row shows."""
    return _with_row_fields(_scoped_unordered(user=user, filters=filters),
                            ordering=_order_by(user=user, sort=filters.sort))


def _with_row_fields(qs: QuerySet[Case], *, ordering: list[str], today: dt.date | None = None) -> QuerySet[Case]:
    return (
        annotate_urgency(qs, today=today)
        .select_related("bank", "batch", "collector", "owner_clerk")
        .order_by(*ordering)
    )


M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class CasePage(Generic[M]):
    """One page of any list (cases, complaints, applicants, ...): its rows and where it stands."""

    rows: list[M]
    number: int
    page_size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.page_size + len(self.rows)


def case_page(*, qs: QuerySet[M], number: int, page_size: int) -> CasePage[M]:
    """One page of `qs` without counting it: page_size + 1 rows tell whether a next page exists."""
    number = min(max(number, 1), MAX_PAGE)  # an OFFSET beyond bigint is a database error, not a page
    offset = (number - 1) * page_size
    rows = list(qs[offset:offset + page_size + 1])
    return CasePage(rows=rows[:page_size], number=number, page_size=page_size, has_next=len(rows) > page_size)


def case_list_page(*, user: User, filters: CaseFilters, number: int, page_size: int,
                   matches: CappedCount | None = None) -> CasePage[Case]:
    """One page of `case_list` (the same rows in the same order), in one query of two steps.

    First the page's ids alone, from a query narrow enough for the planner to answer from an index in the
    order shown; then those rows with their joins and urgency. Fetching the full rows directly let PostgreSQL
    walk the primary key backwards through most of a million rows whenever the filter's matches were old
    (a batch, an entrust date: 220–490 ms), and made it join and annotate every row an OFFSET skipped
    (page 200: 107 ms). Both steps now cost a few milliseconds.

    `matches` is the list's capped count when the caller has it (the view counts first). When the filter
    matches at most the cap, the ids in id order are sorted after the filter's own index found them, never
    read off the primary key: the planner assumes matches are spread evenly over the ids and walks the key
    from the newest case, but a date range's matches are old ones and the walk passed 360,000 cases before
    the first (an entrust date + 未开始: 72 ms; sorted after filtering, 2 ms).
    """
    number = min(max(number, 1), MAX_PAGE)  # an OFFSET beyond bigint is a database error, not a page
    offset = (number - 1) * page_size
    ordering = _order_by(user=user, sort=filters.sort)
    today = timezone.localdate()
    narrow = _scoped_unordered(user=user, filters=filters)
    if any(key.removeprefix("-") in URGENCY_SORTS for key in ordering):
        narrow = annotate_urgency(narrow, today=today)
    id_order: list[str | OrderBy] = list(ordering)
    if matches is not None and not matches.capped and ordering in (["id"], ["-id"]):
        # id + 0 orders the same but matches no index: the database finds the rows first, then sorts them.
        unindexed = ExpressionWrapper(F("pk") + 0, output_field=BigIntegerField())
        id_order = [unindexed.desc() if ordering == ["-id"] else unindexed.asc()]
    ids = narrow.order_by(*id_order).values("pk")[offset:offset + page_size + 1]
    rows = list(_with_row_fields(Case.objects.filter(pk__in=ids), ordering=ordering, today=today))
    return CasePage(rows=rows[:page_size], number=number, page_size=page_size, has_next=len(rows) > page_size)


@dataclass(frozen=True)
class CappedCount:
    value: int
    capped: bool  # True: there are more than `value` rows (value == cap)

    def __str__(self) -> str:
        return f"{self.value}+" if self.capped else str(self.value)


def case_count_capped(*, user: User, filters: CaseFilters, cap: int | None = None,
                      skip_status: bool = False) -> CappedCount:
    """How many cases match, counted over a LIMIT cap+1 subquery so a million rows cost no more than cap."""
    cap = settings.CASE_LIST_COUNT_CAP if cap is None else cap
    return count_capped(_scoped_unordered(user=user, filters=filters, skip_status=skip_status), cap=cap)


def count_capped(qs: QuerySet[M], *, cap: int) -> CappedCount:
    """How many rows `qs` has, up to `cap`: counted over a LIMIT cap+1 subquery, so a million matching rows
    cost no more than cap (a list shows "10000+" rather than paying for an exact COUNT on every page)."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return CappedCount(value=min(n, cap), capped=n > cap)


def case_status_group_counts(*, user: User, filters: CaseFilters,
                             cap: int | None = None) -> dict[str, CappedCount]:
    """M1: capped counts of 已完成 / 未开始 / 进行中 under the other filters (the tabs' numbers).

    One query: a capped count per group, each planned on its own (so each walks its best index and stops
    after cap + 1 entries), in one round trip instead of three.
    """
    cap = settings.CASE_LIST_COUNT_CAP if cap is None else cap
    parts: list[str] = []
    params: list[Any] = []
    db = Case.objects.db
    for group in STATUS_GROUPS:
        grouped = CaseFilters(**{**filters.__dict__, "status": "", "status_group": group})
        capped = _scoped_unordered(user=user, filters=grouped).order_by().values("pk")[: cap + 1]
        try:
            sql, group_params = capped.query.sql_with_params()
        except EmptyResultSet:  # a filter that matches nothing (e.g. an empty IN list)
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped_{len(parts)})")
        params.extend(group_params)
    with connections[db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    assert row is not None
    return {group: CappedCount(value=min(int(n), cap), capped=int(n) > cap) for group, n in zip(STATUS_GROUPS, row,
                                                                                                strict=True)}


@dataclass(frozen=True)
class CaseListTotals:
    entrusted_amount: Decimal
    repaid_amount: Decimal
    balance: Decimal


@dataclass(frozen=True)
class CaseListSummary:
    count: CappedCount
    totals: CaseListTotals | None  # None when the count hit the cap


def case_list_summary(*, user: User, filters: CaseFilters, cap: int | None = None) -> CaseListSummary:
    """The capped count and, under the cap, the money totals.

    Two queries on purpose: the capped count reads only ids (an index-only scan: 3–4 ms for a clerk's
    250,000 cases), while summing needs the rows themselves (90 ms for the same 10,001 rows in one combined
    query). Sums are given only when every matching row was counted: a sum over "the first cap rows" would
    be a wrong number, and an uncapped sum over a million rows costs a full scan on every page view.
    """
    count = case_count_capped(user=user, filters=filters, cap=cap)
    totals = None if count.capped else case_list_totals(user=user, filters=filters)
    return CaseListSummary(count=count, totals=totals)


def case_list_totals(*, user: User, filters: CaseFilters) -> CaseListTotals:
    """Sums of 委案金额, 已还金额 and 余额 over every case matching `filters` (see case_list_summary)."""
    sums = _scoped_unordered(user=user, filters=filters).order_by().aggregate(
        entrusted=Sum("entrusted_amount"), repaid=Sum("repaid_amount"), balance=Sum("balance"),
    )
    return CaseListTotals(entrusted_amount=sums["entrusted"] or ZERO, repaid_amount=sums["repaid"] or ZERO,
                          balance=sums["balance"] or ZERO)


# ---------------------------------------------------------------------------------------------------------
# One case

def case_contact_list(*, case: Case) -> QuerySet[CaseContact]:
    """The case's phone numbers, the debtor's own first."""
    return case.contacts.order_by("id")


def case_imported_event(*, case: Case) -> CaseEvent:
    """The 导入 entry that opens every case's timeline, made from its batch (not saved).

    It is the batch's import (who, when, which batch), so it is not stored once per case: an import of
    100,000 rows writes no 100,000 timeline rows.
    """
    batch = case.batch
    return CaseEvent(case=case, type=CaseEventType.IMPORTED, actor=batch.imported_by,
                     summary=f"随批次 {batch.batch_no} 导入", data={"batch_id": batch.pk},
                     created_at=batch.imported_at)


def case_event_list(*, case: Case, limit: int = 200) -> list[CaseEvent]:
    """The case's timeline, newest first: its stored entries, then the 导入 entry when the list has room."""
    events = list(case.events.select_related("actor").order_by("-created_at", "-id")[:limit])
    if len(events) < limit:
        events.append(case_imported_event(case=case))
    return events


def case_is_visible(*, user: User, case_id: int) -> bool:
    return case_visible_to(user).filter(pk=case_id).exists()


def case_continuation_list(*, case: Case, user: User) -> QuerySet[Case]:
    """Later cases that continue `case` (C9), restricted to what `user` may see."""
    return case_visible_to(user).filter(previous_case=case).select_related("batch").order_by("id")


# ---------------------------------------------------------------------------------------------------------
# Batches (the batch list page and the case list's batch filter)

def batch_list_for_user(*, user: User) -> QuerySet[Batch]:
    """The batch list page: every batch for managers/admins, their banks' batches for clerks (C7)."""
    return _batches(user=user, with_own_cases=False)


def batch_list_for_case_filter(*, user: User) -> QuerySet[Batch]:
    """The case list's batch filter: as above, plus for collectors the batches of their own cases."""
    return _batches(user=user, with_own_cases=True)


def _batches(*, user: User, with_own_cases: bool) -> QuerySet[Batch]:
    if not user.is_authenticated or not user.is_active:
        return Batch.objects.none()
    qs = Batch.objects.select_related("bank", "imported_by").order_by("-imported_at", "-id")
    if sees_all_cases(user):
        return qs
    scope = Q(pk__in=[])
    if user.is_clerk:
        scope |= Q(bank_id__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id"))
    if with_own_cases and user.is_collector:
        scope |= Q(pk__in=Case.objects.filter(collector=user).values("batch_id"))
    return qs.filter(scope)
