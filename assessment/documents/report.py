"""The assessment report (贷前评估报告) as PDF: context (queries) then rendering (pure, WeasyPrint).

The report explains every point: each characteristic with its definition, value, the bin it fell in and
its points, base points, total, grade cut-offs, the limit calculation, the history check's figures, and the
review (override and reason). Rendering goes through `cases.documents.pdf.render_pdf` (fonts: Noto CJK).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from assessment.enums import Decision
from assessment.models import Assessment, AssessmentLine, GradeRule
from assessment.scoring import definition
from assessment.selectors.history import HistorySummary, history_for_viewer
from cases.documents.pdf import render_pdf

_DECISION = dict(Decision.choices)


@dataclass(frozen=True)
class ReportLine:
    label: str
    definition: str
    value_text: str
    bin_text: str
    points: int
    is_history: bool
    clean_points: int


@dataclass(frozen=True)
class ReportContext:
    assessment: Assessment
    lines: list[ReportLine]
    grades: list[GradeRule]
    history: HistorySummary
    recommended_decision: str
    final_decision: str
    printed_at: str
    points_sum: int


def report_context(*, assessment: Assessment, viewer: User) -> ReportContext:
    """What the report shows to `viewer`: the history is the viewer's own view of it (`history_for_viewer`), so a
    clerk's PDF names no case of a bank they do not handle, as on the page."""
    lines: list[AssessmentLine] = list(assessment.lines.order_by("position"))
    grades = list(GradeRule.objects.filter(version_id=assessment.version_id).order_by("grade"))
    return ReportContext(
        assessment=assessment,
        lines=[ReportLine(label=x.label, definition=definition(x.kind), value_text=x.value_text, bin_text=x.bin_text,
                          points=x.points, is_history=x.is_history, clean_points=x.clean_points) for x in lines],
        grades=grades,
        history=history_for_viewer(summary=HistorySummary.from_json(assessment.history), user=viewer),
        recommended_decision=_DECISION.get(assessment.recommended_decision, ""),
        final_decision=_DECISION.get(assessment.final_decision, ""),
        printed_at=f"{timezone.localtime():%Y-%m-%d %H:%M}",
        points_sum=sum(x.points for x in lines),
    )


def report_pdf(ctx: ReportContext) -> bytes:
    html = render_to_string("documents/assessment_report.html", {"r": ctx, "a": ctx.assessment,
                                                                 "p": ctx.assessment.applicant})
    return render_pdf(html, base_url=str(settings.BASE_DIR))
