"""Reads of applicants and their assessments: the filtered list (server-side pages), export rows, one
applicant's scorings. Every query starts from `assessment.policies.applicants_visible_to`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from assessment.enums import DEFINITIONS, ApplicantStatus, Decision, Sex
from assessment.models import Applicant, ApplicantDocument, Assessment, AssessmentLine
from assessment.policies import applicants_visible_to
from cases.validators import normalize_id_number, normalize_width


@dataclass(frozen=True, kw_only=True)
class ApplicantFilters:
    bank_id: int | None = None
    grade: str = ""
    decision: str = ""  # the final decision once reviewed, the recommended one before
    status: str = ""
    date_from: dt.date | None = None  # intake date, Asia/Shanghai
    date_to: dt.date | None = None
    q: str = ""  # name prefix or ID number


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def applicant_list(*, user: User, filters: ApplicantFilters) -> QuerySet[Applicant]:
    qs = applicants_visible_to(user)
    if filters.bank_id is not None:
        qs = qs.filter(bank_id=filters.bank_id)
    if filters.grade:
        qs = qs.filter(current_assessment__grade=filters.grade)
    if filters.decision:
        # final_decision is "" (not NULL) before review: pick the right column explicitly.
        qs = qs.filter(Q(current_assessment__final_decision=filters.decision)
                       | Q(current_assessment__final_decision="",
                           current_assessment__recommended_decision=filters.decision))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.date_from is not None:
        qs = qs.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to is not None:
        qs = qs.filter(created_at__lt=_day_start(filters.date_to + dt.timedelta(days=1)))
    text = normalize_width(filters.q)
    if text:
        number = normalize_id_number(text)
        if number[:-1].isdigit() and len(number) in (15, 18):
            qs = qs.filter(id_number=number)
        else:
            qs = qs.filter(name__startswith=text)
    return qs.select_related("bank", "current_assessment", "current_assessment__version").order_by("-id")


_STATUS = dict(ApplicantStatus.choices)
_DECISION = dict(Decision.choices)
_SEX = dict(Sex.choices)


def applicant_export_rows(*, user: User, filters: ApplicantFilters) -> Iterator[list[object]]:
    qs = applicant_list(user=user, filters=filters).select_related("current_assessment__reviewed_by")
    for a in qs.iterator(chunk_size=1000):
        s = a.current_assessment
        history_cases = len((s.history or {}).get("cases", [])) if s else None
        yield [
            a.pk, a.name, a.id_number, a.phone, _SEX.get(a.sex, ""), a.bank.name, a.loan_amount, a.loan_term_months,
            a.monthly_income, a.purpose, _STATUS.get(a.status, a.status),
            f"{timezone.localtime(a.created_at):%Y-%m-%d %H:%M}",
            f"{timezone.localtime(s.scored_at):%Y-%m-%d %H:%M}" if s else "",
            s.version.number if s else "", s.total_points if s else "", s.grade if s else "",
            _DECISION.get(s.recommended_decision, "") if s else "", s.recommended_limit if s else "",
            s.clean_grade if s else "", history_cases if s else "",
            s.reviewed_by.display_name if s and s.reviewed_by else "",
            _DECISION.get(s.final_decision, "") if s else "", s.final_limit if s and s.final_limit is not None else "",
            ("是" if s.overridden else "否") if s and s.is_reviewed else "", s.override_reason if s else "",
        ]


def assessment_list_for_applicant(*, applicant: Applicant) -> list[Assessment]:
    qs = applicant.assessments.select_related("version", "scored_by", "reviewed_by")
    return list(qs.order_by("-scored_at", "-id"))


def assessment_lines(*, assessment: Assessment) -> list[AssessmentLine]:
    """The lines in order, each with `.definition` (how its value is computed) for the page's tooltips."""
    lines = list(assessment.lines.order_by("position"))
    for line in lines:
        line.definition = DEFINITIONS.get(line.kind, "")  # type: ignore[attr-defined]
    return lines


def document_list(*, applicant: Applicant) -> list[ApplicantDocument]:
    return list(applicant.documents.select_related("uploaded_by").order_by("id"))
