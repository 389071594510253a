"""The stand-alone collection-history check (by ID number and/or phone). Every look-up is audited."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from assessment.actions.history import history_lookup
from assessment.forms import HistoryCheckForm
from assessment.selectors.history import history_for_viewer
from assessment.views.applicants import require_assessor
from cases.views.cases import AppRequest


@login_required
@require_GET
def history_check_view(request: AppRequest) -> HttpResponse:
    require_assessor(request.user)
    summary = None
    asked = "id_number" in request.GET or "phone" in request.GET
    form = HistoryCheckForm(request.GET if asked else None)
    if asked and form.is_valid():
        summary = history_lookup(id_number=form.cleaned_data["id_number"], phone=form.cleaned_data["phone"],
                                 by=request.user, request=request)
    if summary is not None:
        summary = history_for_viewer(summary=summary, user=request.user)
    context = {"form": form, "history": summary, "tab": "history", "nav_active": "assessment"}
    return render(request, "assessment/history_check.html", context)
