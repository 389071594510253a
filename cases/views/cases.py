"""The case list (P1, P7, M1, M2) and the case detail page. Adapters only: parse, scope, render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from accounts.models import User
from accounts.selectors import sees_all_cases, sees_commission
from cases.enums import STATUS_GROUP_LABELS
from cases.forms import CaseFilterForm
from cases.masking import masker_for
from cases.models import Case
from cases.policies import access_case, can_export_all
from cases.selectors.cases import (
    SORT_FIELDS,
    case_contact_list,
    case_continuation_list,
    case_event_list,
    case_is_visible,
    case_list_page,
    case_list_summary,
    case_status_group_counts,
    resolve_sort,
    sort_keys_for,
)


class AppRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False
    sortable: bool = True
    # Filled per request: the ?sort= value a click on the header asks for, and the current direction.
    next_sort: str = ""
    direction: str = ""  # "asc", "desc" or ""


# The case table's columns in display order. `commission_rate` is dropped for collectors (P7),
# `collector` for users who only see their own cases.
CASE_COLUMNS: tuple[Column, ...] = (
    Column("urgency", "提醒"),
    Column("case_no", "案件编号"),
    Column("debtor_name", "客户姓名"),
    Column("id_number", "证件号码", sortable=False),
    Column("bank", "银行"),
    Column("batch", "批次"),
    Column("region", "地区"),
    Column("entrusted_amount", "委案金额", numeric=True),
    Column("repaid_amount", "已还金额", numeric=True),
    Column("balance", "余额", numeric=True),
    Column("commission_rate", "佣金比例", numeric=True),
    Column("overdue_days", "逾期天数", numeric=True),
    Column("return_date", "退案日期"),
    Column("status", "状态"),
    Column("collector", "业务员"),
    Column("owner_clerk", "负责内勤", sortable=False),
)
# Money and days read best largest-first on the first click; text and dates ascending.
_DESC_FIRST = frozenset({"entrusted_amount", "repaid_amount", "balance", "commission_rate", "overdue_days"})


def _columns_for(*, user: User, sort: str) -> list[Column]:
    allowed = sort_keys_for(user)
    current_key, current_desc = sort.removeprefix("-"), sort.startswith("-")
    shown: list[Column] = []
    for col in CASE_COLUMNS:
        if col.key == "commission_rate" and not sees_commission(user):
            continue
        if col.key == "collector" and not (sees_all_cases(user) or user.is_clerk):
            continue
        if not col.sortable or col.key not in allowed or col.key not in SORT_FIELDS:
            shown.append(Column(col.key, col.label, col.numeric, sortable=False))
            continue
        if col.key == current_key:
            direction = "desc" if current_desc else "asc"
            next_sort = col.key if current_desc else f"-{col.key}"
        else:
            direction = ""
            next_sort = f"-{col.key}" if col.key in _DESC_FIRST else col.key
        shown.append(Column(col.key, col.label, col.numeric, True, next_sort, direction))
    return shown


def percent(rate: Decimal) -> str:
    """0.035000 → "3.5%": commission rates are stored as fractions."""
    return f"{(rate * 100).normalize():f}%"


@login_required
@require_GET
def case_list_view(request: AppRequest) -> HttpResponse:
    user = request.user
    form = CaseFilterForm(request.GET, user=user)
    form.is_valid()  # invalid fields are dropped from the filters and shown as errors; the rest applies
    filters = form.to_filters()
    sort = resolve_sort(user=user, sort=filters.sort)
    summary = case_list_summary(user=user, filters=filters)
    page = case_list_page(user=user, filters=filters, number=form.page_number,
                          page_size=settings.CASE_LIST_PAGE_SIZE, matches=summary.count)
    mask = masker_for(user)
    for row in page.rows:
        row.shown_id_number = mask.id_number(row.id_number)  # type: ignore[attr-defined]
        if sees_commission(user):
            row.commission_percent = percent(row.commission_rate)  # type: ignore[attr-defined]
    group_tabs = None
    # M1: managers (and admins, who see every case) get the 已完成/未开始/进行中 tabs with counts.
    if sees_all_cases(user):
        counts = case_status_group_counts(user=user, filters=filters)
        group_tabs = [(key, label, counts[key]) for key, label in STATUS_GROUP_LABELS.items()]
    context = {
        "form": form,
        "page": page,
        "count": summary.count,
        "count_cap": settings.CASE_LIST_COUNT_CAP,
        "totals": summary.totals,
        "group_tabs": group_tabs,
        "current_group": filters.status_group,
        "columns": _columns_for(user=user, sort=sort),
        "show_commission": sees_commission(user),
        # M4: the list's export button downloads exactly what the list shows (same filters, same order).
        "can_export": can_export_all(user=user),
        "has_filters": form.has_filters or bool(filters.status_group),
        # P2: open cases within 30 days of their return date stand out (the first expiry reminder).
        "today": timezone.localdate(),
        "due_soon": timezone.localdate() + dt.timedelta(days=30),
        "nav_active": "cases",
    }
    template = "cases/case_list.html#case-table" if request.htmx else "cases/case_list.html"
    return render(request, template, context)


@dataclass(frozen=True)
class ContactRow:
    name: str
    relation: str
    phone: str
    source: str
    is_debtor: bool


def _figures_context(*, user: User, case: Case) -> dict[str, object]:
    """What the money tiles and status badges of the case page show (the page and its live refresh share it)."""
    return {
        "case": case,
        "days_left": (case.return_date - timezone.localdate()).days,
        "show_commission": sees_commission(user),
        "commission_percent": percent(case.commission_rate) if sees_commission(user) else "",
    }


@login_required
@require_GET
def case_figures_view(request: AppRequest, case_id: int) -> HttpResponse:
    """The case page's money tiles, with its status badges out of band: reloaded after a repayment, a reversal or
    a return, on every page open on the case (the clerk's and the collector's)."""
    case = access_case(user=request.user, case_id=case_id)
    return render(request, "cases/_case_figures.html", {**_figures_context(user=request.user, case=case), "oob": True})


@login_required
@require_GET
def case_detail_view(request: AppRequest, case_id: int) -> HttpResponse:
    user = request.user
    case: Case = access_case(user=user, case_id=case_id)
    # Collectors dial through the system (P6) and see phone, ID and card numbers masked; desk roles see them whole.
    mask = masker_for(user)
    contacts = [
        ContactRow(name=c.name, relation=c.relation, phone=mask.phone(c.phone),
                   source=c.get_source_display(), is_debtor=c.is_debtor)
        for c in case_contact_list(case=case)
    ]
    previous = case.previous_case if case.previous_case_id else None
    if previous is not None and not case_is_visible(user=user, case_id=previous.pk):
        previous = None
    context = {
        **_figures_context(user=user, case=case),
        "id_number": mask.id_number(case.id_number),
        "mobile": mask.phone(case.mobile),
        "card_no": mask.card_no(case.card_no),
        "contacts": contacts,
        "events": case_event_list(case=case),
        "previous_case": previous,
        "continuations": list(case_continuation_list(case=case, user=user)),
        "extra_items": sorted((str(k), v) for k, v in (case.extra or {}).items()),
        "blocked_numbers": _blocked_rows(user=user, case=case, mask=mask),
        "nav_active": "cases",
    }
    return render(request, "cases/case_detail.html", context)


@dataclass(frozen=True)
class BlockedRow:
    pk: int
    shown_number: str
    reason_label: str
    note: str
    created_by: str
    created_at: object
    is_active: bool
    can_unblock: bool
    lifted_by: str
    lifted_at: object
    lift_reason: str


def _blocked_rows(*, user: User, case: Case, mask: object) -> list[BlockedRow]:
    """The case's blocked numbers (marked on it, or on its numbers elsewhere), masked as the case page masks."""
    from cases.policies import can_unblock_number
    from cases.selectors.dialer import blocked_list_for_case

    rows = []
    for b in blocked_list_for_case(case=case):
        owner_case = case if b.case_id == case.pk else (b.case if b.case_id else None)
        rows.append(BlockedRow(
            pk=b.pk, shown_number=mask.phone(b.number), reason_label=b.get_reason_display(),  # type: ignore[attr-defined]
            note=b.note, created_by=b.created_by.display_name if b.created_by else "", created_at=b.created_at,
            is_active=b.is_active, can_unblock=b.is_active and can_unblock_number(user=user, case=owner_case),
            lifted_by=b.lifted_by.display_name if b.lifted_by else "", lifted_at=b.lifted_at,
            lift_reason=b.lift_reason))
    return rows

