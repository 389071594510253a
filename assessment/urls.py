from __future__ import annotations

from django.urls import path

from assessment.views import applicants, assessments, history, scorecards

app_name = "assessment"
urlpatterns = [
    path("", applicants.applicant_list_view, name="applicant-list"),
    path("export.xlsx", applicants.assessment_export_view, name="assessment-export"),
    path("new/", applicants.applicant_create_view, name="applicant-create"),
    path("import/", applicants.applicant_import_view, name="applicant-import"),
    path("import/template.xlsx", applicants.applicant_template_view, name="applicant-template"),
    path("<int:applicant_id>/", applicants.applicant_detail_view, name="applicant-detail"),
    path("<int:applicant_id>/score/", applicants.applicant_score_view, name="applicant-score"),
    path("<int:applicant_id>/documents/", applicants.document_upload_view, name="document-upload"),
    path("<int:applicant_id>/documents/<int:document_id>/", applicants.document_download_view,
         name="document-download"),
    path("scores/<int:assessment_id>/", assessments.assessment_detail_view, name="assessment-detail"),
    path("scores/<int:assessment_id>/review/", assessments.assessment_review_view, name="assessment-review"),
    path("scores/<int:assessment_id>/report.pdf", assessments.assessment_report_view, name="assessment-report"),
    path("history/", history.history_check_view, name="history-check"),
    path("scorecards/", scorecards.scorecard_list_view, name="scorecard-list"),
    path("scorecards/new/", scorecards.scorecard_create_view, name="scorecard-create"),
    path("scorecards/<int:scorecard_id>/new-version/", scorecards.version_new_view, name="version-new"),
    path("scorecards/versions/<int:version_id>/", scorecards.version_detail_view, name="version-detail"),
    path("scorecards/versions/<int:version_id>/settings/", scorecards.version_settings_view, name="version-settings"),
    path("scorecards/versions/<int:version_id>/publish/", scorecards.version_publish_view, name="version-publish"),
    path("scorecards/versions/<int:version_id>/characteristics/new/", scorecards.characteristic_create_view,
         name="characteristic-create"),
    path("scorecards/versions/<int:version_id>/characteristics/<int:characteristic_id>/",
         scorecards.characteristic_edit_view, name="characteristic-edit"),
    path("scorecards/versions/<int:version_id>/characteristics/<int:characteristic_id>/delete/",
         scorecards.characteristic_delete_view, name="characteristic-delete"),
]
