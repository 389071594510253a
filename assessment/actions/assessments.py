"""Scoring and review of applicants, the PDF report and the list export. Must not import views or `realtime`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from assessment.actions.history import history_lookup
from assessment.documents.report import report_context, report_pdf
from assessment.enums import ApplicantStatus, Decision
from assessment.exceptions import (
    AlreadyReviewedError,
    NoPublishedScorecardError,
    NotCurrentAssessmentError,
    OverrideReasonRequiredError,
)
from assessment.models import Applicant, Assessment, AssessmentLine
from assessment.scoring import ApplicantFacts, Context, score
from assessment.selectors.applicants import ApplicantFilters, applicant_export_rows
from assessment.selectors.scorecards import card_spec, published_version_for_bank
from cases.actions.exports import stream_xlsx
from cases.uploads import safe_filename_part

if TYPE_CHECKING:
    from django.http import HttpRequest


def applicant_facts(applicant: Applicant) -> ApplicantFacts:
    return ApplicantFacts(
        birth_date=applicant.birth_date, monthly_income=applicant.monthly_income,
        monthly_debt_payment=applicant.monthly_debt_payment, loan_amount=applicant.loan_amount,
        loan_term_months=applicant.loan_term_months, employment_years=applicant.employment_years,
        overdue_records=applicant.overdue_records,
    )


@transaction.atomic
def assessment_score(*, applicant: Applicant, by: User, request: HttpRequest | None = None) -> Assessment:
    """Score `applicant` with its bank's published scorecard after an (audited) collection-history check.

    Records the version, every characteristic's value, bin and points, the total, grade, recommended
    decision and limit, and the history figures, so the result explains itself later.
    Emits: nothing. Raises: NoPublishedScorecardError; AlreadyReviewedError.
    """
    applicant = Applicant.objects.select_for_update().select_related("bank").get(pk=applicant.pk)
    if applicant.status == ApplicantStatus.REVIEWED:
        raise AlreadyReviewedError
    version = published_version_for_bank(bank=applicant.bank)
    if version is None:
        raise NoPublishedScorecardError(applicant.bank.name)
    history = history_lookup(id_number=applicant.id_number, phone=applicant.phone, by=by, applicant=applicant,
                             request=request)
    as_of = timezone.localdate()
    result = score(card_spec(version=version), Context(applicant=applicant_facts(applicant),
                                                       history=history.facts(), as_of=as_of))
    assessment = Assessment.objects.create(
        applicant=applicant, version=version, scored_by=by, as_of=as_of, base_points=result.base_points,
        total_points=result.total_points, grade=result.grade, recommended_decision=result.decision,
        recommended_limit=result.limit, limit_explanation=result.limit_explanation[:500],
        clean_total_points=result.clean_total_points, clean_grade=result.clean_grade, history=history.to_json(),
    )
    AssessmentLine.objects.bulk_create(
        AssessmentLine(assessment=assessment, position=i, kind=line.kind, label=line.label, value=line.value,
                       value_text=line.value_text, bin_text=line.bin_text, points=line.points,
                       is_history=line.is_history, clean_points=line.clean_points)
        for i, line in enumerate(result.lines)
    )
    applicant.current_assessment, applicant.status = assessment, ApplicantStatus.SCORED
    applicant.save(update_fields=["current_assessment", "status"])
    return assessment


@transaction.atomic
def assessment_review(*, assessment: Assessment, final_decision: str, final_limit: Decimal, reason: str, by: User,
                      request: HttpRequest | None = None) -> Assessment:
    """Record the assessor's decision. Differing from the recommendation (decision or limit) is an override
    and needs a reason; both are audited.

    Emits: nothing.
    Raises: AlreadyReviewedError; NotCurrentAssessmentError; OverrideReasonRequiredError.
    """
    applicant = Applicant.objects.select_for_update().get(pk=assessment.applicant_id)
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.is_reviewed or applicant.status == ApplicantStatus.REVIEWED:
        raise AlreadyReviewedError
    if applicant.current_assessment_id != assessment.pk:
        raise NotCurrentAssessmentError
    if final_decision == Decision.DECLINE:
        final_limit = Decimal("0.00")
    overridden = final_decision != assessment.recommended_decision or final_limit != assessment.recommended_limit
    reason = reason.strip()
    if overridden and not reason:
        raise OverrideReasonRequiredError
    assessment.final_decision, assessment.final_limit = final_decision, final_limit
    assessment.overridden, assessment.override_reason = overridden, reason
    assessment.reviewed_by, assessment.reviewed_at = by, timezone.now()
    assessment.save(update_fields=["final_decision", "final_limit", "overridden", "override_reason", "reviewed_by",
                                   "reviewed_at"])
    applicant.status = ApplicantStatus.REVIEWED
    applicant.save(update_fields=["status"])
    labels = dict(Decision.choices)
    if overridden:
        summary = (f"推翻对 {applicant.name} 的评估建议：{labels[assessment.recommended_decision]} "
                   f"{assessment.recommended_limit:,.2f} 元 → {labels[final_decision]} {final_limit:,.2f} 元；"
                   f"理由：{reason}")
    else:
        summary = f"复核 {applicant.name}：同意建议（{labels[final_decision]} {final_limit:,.2f} 元）"
    audit_record(actor=by, action=AuditAction.ASSESSMENT_OVERRIDE if overridden else AuditAction.ASSESSMENT_REVIEW,
                 object_type="Assessment", object_id=assessment.pk, summary=summary, request=request,
                 detail={"grade": assessment.grade, "recommended": assessment.recommended_decision,
                         "recommended_limit": str(assessment.recommended_limit), "final": final_decision,
                         "final_limit": str(final_limit), "reason": reason})
    return assessment


@dataclass(frozen=True)
class RenderedReport:
    filename: str
    data: bytes


def assessment_report(*, assessment: Assessment, by: User, request: HttpRequest | None = None) -> RenderedReport:
    """The PDF report of `assessment` (every point explained), audited as an export.

    Emits: nothing. Raises: nothing.
    """
    data = report_pdf(report_context(assessment=assessment, viewer=by))
    applicant = assessment.applicant
    audit_record(actor=by, action=AuditAction.EXPORT, object_type="Assessment", object_id=assessment.pk,
                 summary=f"导出 {applicant.name} 的贷前评估报告（PDF）", request=request)
    name = safe_filename_part(applicant.name)
    return RenderedReport(filename=f"贷前评估报告_{name}_{assessment.scored_at:%Y%m%d}_{assessment.pk}.pdf",
                          data=data)


EXPORT_HEADER = ["申请编号", "姓名", "证件号码", "手机号码", "性别", "申请银行", "申请金额", "申请期限（月）", "月收入",
                 "贷款用途", "状态", "录入时间", "评分时间", "评分卡版本", "总分", "等级", "建议决定", "建议额度",
                 "无催收记录时等级", "催收历史委案数", "复核人", "最终决定", "最终额度", "推翻建议", "推翻理由"]


def assessments_export_stream(*, user: User, filters: ApplicantFilters,
                              request: HttpRequest | None = None) -> Iterator[bytes]:
    """The filtered applicant list with their current scores as a streamed .xlsx (text cells formula-neutralised
    by `stream_xlsx`). Audited when the stream starts.

    Emits: nothing. Raises: nothing.
    """
    audit_record(actor=user, action=AuditAction.EXPORT, object_type="applicants", request=request,
                 summary="导出贷前评估列表（Excel）",
                 detail={"filters": {k: str(v) for k, v in asdict(filters).items() if v not in (None, "")}})
    rows = applicant_export_rows(user=user, filters=filters)
    yield from stream_xlsx(sheet="贷前评估", header=EXPORT_HEADER, rows=rows)
