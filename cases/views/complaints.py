"""The complaints list (C13): managers (and clerks, for their banks) filter by bank, collector, reason, date."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.inputs import page_number
from cases.forms_work import ComplaintFilterForm
from cases.policies import can_list_complaints
from cases.selectors.cases import case_page
from cases.selectors.work import (
    ComplaintFilters,
    bank_template_banks_for,
    complaint_collector_choices,
    complaint_list,
)
from cases.views.cases import AppRequest


def _int(value: object) -> int | None:
    return getattr(value, "pk", None)


@login_required
@require_GET
def complaint_list_view(request: AppRequest) -> HttpResponse:
    user = request.user
    if not can_list_complaints(user=user):
        raise PermissionDenied
    form = ComplaintFilterForm(request.GET or None, banks=bank_template_banks_for(user).order_by("code"),
                               collectors=complaint_collector_choices())
    filters = ComplaintFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = ComplaintFilters(bank_id=_int(data["bank"]), collector_id=_int(data["collector"]),
                                   reason=data["reason"], date_from=data["date_from"], date_to=data["date_to"])
    number = page_number(request.GET.get("page"))
    page = case_page(qs=complaint_list(user=user, filters=filters), number=number,
                     page_size=settings.CASE_LIST_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "nav_active": "complaints"}
    template = "cases/complaint_list.html#complaint-table" if request.htmx else "cases/complaint_list.html"
    return render(request, template, context)
