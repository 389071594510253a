"""Who may do what in the pre-loan assessment.

The rule (documented in README):
- Assessors are managers and clerks. They take in applicants, score them, run the collection-history check
  and review. A clerk works only the applicants of the banks an admin gave them (C7); managers every bank.
- Managers alone define, edit and publish scorecards; clerks may read their banks' scorecards.
- System administrators keep the system running but see no applicant's personal data or collection
  history through this module unless they also hold the manager or clerk role. They read the look-ups in
  the audit log.
- Collectors (phone and field) see nothing of the module: no menu entry, 403 on every page.
Missing and out-of-scope objects answer 404 alike.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from assessment.models import Applicant, ApplicantDocument, Assessment, Scorecard, ScorecardVersion
from cases.models import Bank, ClerkBankScope


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_assess(*, user: User) -> bool:
    return _active(user) and (user.is_manager or user.is_clerk)


def can_manage_scorecards(*, user: User) -> bool:
    return _active(user) and user.is_manager


def banks_for_assessor(user: User) -> QuerySet[Bank]:
    """Banks whose applicants `user` handles: every active bank for managers, the scoped ones for clerks."""
    if not can_assess(user=user):
        return Bank.objects.none()
    if user.is_manager:
        return Bank.objects.filter(is_active=True).order_by("code")
    return Bank.objects.filter(clerk_scopes__clerk=user, is_active=True).order_by("code")


def applicants_visible_to(user: User) -> QuerySet[Applicant]:
    if not can_assess(user=user):
        return Applicant.objects.none()
    if user.is_manager:
        return Applicant.objects.all()
    return Applicant.objects.filter(bank_id__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id"))


def can_handle_bank(*, user: User, bank: Bank) -> bool:
    return banks_for_assessor(user).filter(pk=bank.pk).exists()


def access_applicant(*, user: User, applicant_id: int) -> Applicant:
    applicant = (applicants_visible_to(user).select_related("bank", "created_by", "current_assessment")
                 .filter(pk=applicant_id).first())
    if applicant is None:
        raise Http404("申请人不存在或无权查看")
    return applicant


def access_assessment(*, user: User, assessment_id: int) -> Assessment:
    assessment = (Assessment.objects.filter(applicant__in=applicants_visible_to(user), pk=assessment_id)
                  .select_related("applicant", "applicant__bank", "version", "version__scorecard",
                                  "version__scorecard__bank", "scored_by", "reviewed_by")
                  .first())
    if assessment is None:
        raise Http404("评分结果不存在或无权查看")
    return assessment


def access_document(*, user: User, applicant: Applicant, document_id: int) -> ApplicantDocument:
    document = ApplicantDocument.objects.filter(applicant=applicant, pk=document_id).first()
    if document is None:
        raise Http404("资料不存在")
    return document


def can_review(*, user: User, assessment: Assessment) -> bool:
    """A scored, not yet reviewed, current assessment of an applicant the user handles."""
    applicant = assessment.applicant
    return (can_assess(user=user) and not assessment.is_reviewed
            and applicant.current_assessment_id == assessment.pk
            and applicants_visible_to(user).filter(pk=applicant.pk).exists())


def scorecards_visible_to(user: User) -> QuerySet[Scorecard]:
    if can_manage_scorecards(user=user):
        return Scorecard.objects.all()
    if can_assess(user=user):
        return Scorecard.objects.filter(bank_id__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id"))
    return Scorecard.objects.none()


def access_version(*, user: User, version_id: int) -> ScorecardVersion:
    version = (ScorecardVersion.objects.filter(scorecard__in=scorecards_visible_to(user), pk=version_id)
               .select_related("scorecard", "scorecard__bank", "created_by", "published_by").first())
    if version is None:
        raise Http404("评分卡版本不存在或无权查看")
    return version


def access_scorecard(*, user: User, scorecard_id: int) -> Scorecard:
    scorecard = scorecards_visible_to(user).select_related("bank").filter(pk=scorecard_id).first()
    if scorecard is None:
        raise Http404("评分卡不存在或无权查看")
    return scorecard
