"""The assessment tables, one module per area, all re-exported here."""

from assessment.models.applicants import Applicant, ApplicantDocument, ApplicantImport
from assessment.models.assessments import Assessment, AssessmentLine
from assessment.models.scorecards import Bin, Characteristic, GradeRule, Scorecard, ScorecardVersion

__all__ = ["Applicant", "ApplicantDocument", "ApplicantImport", "Assessment", "AssessmentLine", "Bin",
           "Characteristic", "GradeRule", "Scorecard", "ScorecardVersion"]
