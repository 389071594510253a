"""Applicant pages: the assessment list (filters, pages, export), intake form, Excel intake, one applicant
with its scores and documents, scoring. Adapters only: parse, check a policy, call, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from assessment.actions.applicants import (
    applicant_create,
    applicant_document_download,
    applicant_document_upload,
    applicant_import_file,
)
from assessment.actions.assessments import assessment_score, assessments_export_stream
from assessment.enums import DEFINITIONS, Decision
from assessment.exceptions import DuplicateIntakeFileError
from assessment.forms import ApplicantFilterForm, ApplicantForm, ApplicantImportForm, DocumentForm, ReviewForm
from assessment.identity import age_on
from assessment.imports.excel import COLUMNS
from assessment.imports.template import build_applicant_template
from assessment.policies import access_applicant, access_document, can_assess, can_review
from assessment.selectors.applicants import (
    applicant_list,
    assessment_lines,
    assessment_list_for_applicant,
    document_list,
)
from assessment.selectors.history import HistorySummary, history_for_viewer
from assessment.selectors.scorecards import published_version_for_bank
from cases.exceptions import DomainError, ImportRejectedError, UploadRejectedError
from cases.imports.rows import RowError
from cases.selectors.cases import case_page, count_capped
from cases.uploads import iter_stored
from cases.views.cases import AppRequest
from cases.views.streaming import attachment_response, streamed_response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
APPLICANT_COUNT_CAP = 10_000  # the list says "10,000+" beyond this rather than counting every row
MAX_ERRORS_SHOWN = 500
DOC_TITLES = ("身份证", "收入证明", "银行流水", "工作证明", "房产证明", "征信报告", "其他")


def require_assessor(user: User) -> None:
    if not can_assess(user=user):
        raise PermissionDenied("只有管理人员和内勤可以使用贷前评估")


def _preselect_only_bank(form: ApplicantForm | ApplicantImportForm) -> None:
    """A clerk who handles one bank does not have to pick it."""
    banks = form.fields["bank"].queryset  # type: ignore[attr-defined]
    if banks.count() == 1:
        form.initial["bank"] = banks.first()


@login_required
@require_GET
def applicant_list_view(request: AppRequest) -> HttpResponse:
    require_assessor(request.user)
    form = ApplicantFilterForm(request.GET, user=request.user)
    form.is_valid()
    filters = form.to_filters()
    qs = applicant_list(user=request.user, filters=filters)
    page = case_page(qs=qs, number=form.page_number, page_size=PAGE_SIZE)
    count = count_capped(qs, cap=APPLICANT_COUNT_CAP)
    context = {"form": form, "page": page, "count": count.value, "capped": count.capped, "tab": "list",
               "nav_active": "assessment", "today": timezone.localdate()}
    return render(request, "assessment/applicant_list.html", context)


@login_required
@require_GET
def assessment_export_view(request: AppRequest) -> StreamingHttpResponse:
    require_assessor(request.user)
    form = ApplicantFilterForm(request.GET, user=request.user)
    form.is_valid()
    stream = assessments_export_stream(user=request.user, filters=form.to_filters(), request=request)
    return attachment_response(request, stream, content_type=XLSX,
                               filename=f"贷前评估-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def applicant_create_view(request: AppRequest) -> HttpResponse:
    require_assessor(request.user)
    if request.method == "POST":
        form = ApplicantForm(request.POST, user=request.user)
        if form.is_valid():
            applicant = applicant_create(bank=form.cleaned_data["bank"], data=form.to_input(), by=request.user)
            messages.success(request, f"已录入申请人 {applicant.name}，可以上传资料并评分")
            return redirect("assessment:applicant-detail", applicant_id=applicant.pk)
    else:
        form = ApplicantForm(user=request.user)
        _preselect_only_bank(form)
    return render(request, "assessment/applicant_form.html", {"form": form, "tab": "new", "nav_active": "assessment"})


@login_required
@require_http_methods(["GET", "POST"])
def applicant_import_view(request: AppRequest) -> HttpResponse:
    require_assessor(request.user)
    errors: list[RowError] = []
    intake = None
    refusal = filename = ""
    if request.method == "POST":
        form = ApplicantImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            filename = upload.name
            try:
                intake = applicant_import_file(bank=form.cleaned_data["bank"], file=upload, filename=upload.name,
                                               by=request.user, request=request)
            except ImportRejectedError as error:
                errors = error.errors
            except DuplicateIntakeFileError as error:
                refusal = str(error)
    else:
        form = ApplicantImportForm(user=request.user)
        _preselect_only_bank(form)
    context = {"form": form, "intake": intake, "errors": errors[:MAX_ERRORS_SHOWN], "error_count": len(errors),
               "errors_hidden": max(len(errors) - MAX_ERRORS_SHOWN, 0), "refusal": refusal, "filename": filename,
               "file_errors": [e for e in errors if e.row_number == 0], "columns": COLUMNS,
               "max_upload_mb": settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024), "tab": "import",
               "nav_active": "assessment"}
    return render(request, "assessment/applicant_import.html", context, status=400 if errors or refusal else 200)


@login_required
@require_GET
def applicant_template_view(request: AppRequest) -> HttpResponse:
    require_assessor(request.user)
    response = HttpResponse(build_applicant_template(), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "申请人导入模板.xlsx")
    return response


def detail_context(request: AppRequest, applicant_id: int, *, review_form: ReviewForm | None = None,
                   document_form: DocumentForm | None = None) -> dict[str, object]:
    user = request.user
    applicant = access_applicant(user=user, applicant_id=applicant_id)
    current = applicant.current_assessment
    lines = assessment_lines(assessment=current) if current else []
    if current is not None and review_form is None:
        review_form = ReviewForm(initial={"final_decision": current.recommended_decision,
                                          "final_limit": current.recommended_limit})
    return {
        "p": applicant, "age": age_on(applicant.birth_date, timezone.localdate()),
        "current": current, "lines": lines, "definitions": DEFINITIONS,
        "history": history_for_viewer(summary=HistorySummary.from_json(current.history), user=request.user)
        if current else None,
        "history_lines": [x for x in lines if x.is_history],
        "assessments": assessment_list_for_applicant(applicant=applicant),
        "documents": document_list(applicant=applicant), "doc_titles": DOC_TITLES,
        "document_form": document_form or DocumentForm(),
        "review_form": review_form, "can_review": current is not None and can_review(user=user, assessment=current),
        "published": published_version_for_bank(bank=applicant.bank), "decline": Decision.DECLINE,
        "nav_active": "assessment", "tab": "list",
    }


@login_required
@require_GET
def applicant_detail_view(request: AppRequest, applicant_id: int) -> HttpResponse:
    require_assessor(request.user)
    return render(request, "assessment/applicant_detail.html", detail_context(request, applicant_id))


@login_required
@require_POST
def applicant_score_view(request: AppRequest, applicant_id: int) -> HttpResponse:
    require_assessor(request.user)
    applicant = access_applicant(user=request.user, applicant_id=applicant_id)
    try:
        scored = assessment_score(applicant=applicant, by=request.user, request=request)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"评分完成：{scored.total_points} 分，等级 {scored.grade}，"
                                  f"建议{scored.get_recommended_decision_display()}")
    return redirect("assessment:applicant-detail", applicant_id=applicant.pk)


@login_required
@require_POST
def document_upload_view(request: AppRequest, applicant_id: int) -> HttpResponse:
    require_assessor(request.user)
    applicant = access_applicant(user=request.user, applicant_id=applicant_id)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = applicant_document_upload(applicant=applicant, title=form.cleaned_data["title"],
                                                 upload=form.cleaned_data["file"], by=request.user)
        except UploadRejectedError as error:
            form.add_error("file", str(error))
        else:
            messages.success(request, f"已上传《{document.title}》（{document.type_label}）")
            return redirect("assessment:applicant-detail", applicant_id=applicant.pk)
    context = detail_context(request, applicant_id, document_form=form)
    return render(request, "assessment/applicant_detail.html", context, status=400)


@login_required
@require_GET
def document_download_view(request: AppRequest, applicant_id: int, document_id: int) -> StreamingHttpResponse:
    require_assessor(request.user)
    applicant = access_applicant(user=request.user, applicant_id=applicant_id)
    document = access_document(user=request.user, applicant=applicant, document_id=document_id)
    applicant_document_download(document=document, by=request.user, request=request)
    response = streamed_response(request, iter_stored(document.file.name), content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(True, document.original_name)
    response["Content-Length"] = str(document.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
