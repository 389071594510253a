"""One scoring: its page (for earlier scorings), the review, the PDF report. Adapters only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from assessment.actions.assessments import assessment_report, assessment_review
from assessment.enums import DEFINITIONS
from assessment.forms import ReviewForm
from assessment.policies import access_assessment, can_review
from assessment.selectors.applicants import assessment_lines
from assessment.selectors.history import HistorySummary, history_for_viewer
from assessment.views.applicants import detail_context, require_assessor
from cases.exceptions import DomainError
from cases.views.cases import AppRequest


@login_required
@require_GET
def assessment_detail_view(request: AppRequest, assessment_id: int) -> HttpResponse:
    require_assessor(request.user)
    assessment = access_assessment(user=request.user, assessment_id=assessment_id)
    context = {"a": assessment, "p": assessment.applicant, "lines": assessment_lines(assessment=assessment),
               "history": history_for_viewer(summary=HistorySummary.from_json(assessment.history), user=request.user),
               "definitions": DEFINITIONS,
               "nav_active": "assessment", "tab": "list"}
    return render(request, "assessment/assessment_detail.html", context)


@login_required
@require_POST
def assessment_review_view(request: AppRequest, assessment_id: int) -> HttpResponse:
    require_assessor(request.user)
    assessment = access_assessment(user=request.user, assessment_id=assessment_id)
    applicant_id = assessment.applicant_id
    form = ReviewForm(request.POST)
    if not can_review(user=request.user, assessment=assessment):
        messages.error(request, "该评分结果已复核或不是最新一次评分，不能复核")
        return redirect("assessment:applicant-detail", applicant_id=applicant_id)
    if form.is_valid():
        try:
            done = assessment_review(assessment=assessment, final_decision=form.cleaned_data["final_decision"],
                                     final_limit=form.cleaned_data["final_limit"], reason=form.cleaned_data["reason"],
                                     by=request.user, request=request)
        except DomainError as error:
            form.add_error("reason" if "理由" in str(error) else None, str(error))
        else:
            verb = "已推翻系统建议并记录理由" if done.overridden else "已同意系统建议"
            messages.success(request, f"复核完成：{verb}（{done.get_final_decision_display()}，"
                                      f"{done.final_limit:,.2f} 元）")
            return redirect("assessment:applicant-detail", applicant_id=applicant_id)
    context = detail_context(request, applicant_id, review_form=form)
    return render(request, "assessment/applicant_detail.html", context, status=400)


@login_required
@require_GET
def assessment_report_view(request: AppRequest, assessment_id: int) -> HttpResponse:
    require_assessor(request.user)
    assessment = access_assessment(user=request.user, assessment_id=assessment_id)
    report = assessment_report(assessment=assessment, by=request.user, request=request)
    return HttpResponse(report.data, content_type="application/pdf",
                        headers={"Content-Disposition": content_disposition_header(True, report.filename),
                                 "Cache-Control": "private, no-store"})
