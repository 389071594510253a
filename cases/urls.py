from __future__ import annotations

from django.urls import path

from cases.views import assignments as assignment_views
from cases.views import batches, cases, imports
from cases.views import call_rules as call_rules_views
from cases.views import chat as chat_views
from cases.views import complaints as complaint_views
from cases.views import dashboards as dashboard_views
from cases.views import dialer as dialer_views
from cases.views import documents as document_views
from cases.views import exports as export_views
from cases.views import files as file_views
from cases.views import reminders as reminder_views
from cases.views import repayments as repayment_views
from cases.views import reports as report_views
from cases.views import returns as return_views
from cases.views import templates as template_views
from cases.views import work as work_views

app_name = "cases"
urlpatterns = [
    path("", cases.case_list_view, name="case-list"),
    path("<int:case_id>/", cases.case_detail_view, name="case-detail"),
    path("<int:case_id>/figures/", cases.case_figures_view, name="case-figures"),
    path("import/", imports.batch_import_view, name="batch-import"),
    path("import/template.xlsx", imports.batch_template_view, name="batch-template"),
    path("batches/", batches.batch_list_view, name="batch-list"),
    path("reminders/", reminder_views.reminder_list_view, name="reminder-list"),
    path("reminders/<int:reminder_id>/read/", reminder_views.reminder_mark_read_view, name="reminder-read"),
    path("reminders/read-all/", reminder_views.reminder_mark_all_read_view, name="reminder-read-all"),
    path("dashboard/", dashboard_views.dashboard_view, name="dashboard"),
    # Document requests with chat (C8, P9, R3)
    path("docreq/", chat_views.docreq_inbox_view, name="docreq-inbox"),
    path("docreq/mine/", chat_views.docreq_mine_view, name="docreq-mine"),
    path("<int:case_id>/docreq/new/", chat_views.docreq_create_view, name="docreq-create"),
    path("<int:case_id>/docreq/", chat_views.docreq_case_panel_view, name="docreq-case-panel"),
    path("docreq/<int:request_id>/", chat_views.docreq_detail_view, name="docreq-detail"),
    path("docreq/<int:request_id>/messages/", chat_views.docreq_message_create_view, name="docreq-message-create"),
    path("docreq/<int:request_id>/status/", chat_views.docreq_status_view, name="docreq-status"),
    path("docreq/<int:request_id>/files/<int:message_id>/", chat_views.docreq_attachment_view,
         name="docreq-attachment"),
    # Assignment (C3, C4, C6)
    path("assign/", assignment_views.assign_view, name="assign"),
    path("assign/collectors/", assignment_views.assign_collectors_view, name="assign-collectors"),
    path("assign/preview/", assignment_views.assign_preview_view, name="assign-preview"),
    path("assign/confirm/", assignment_views.assign_confirm_view, name="assign-confirm"),
    path("assign/reassign/", assignment_views.reassign_view, name="reassign"),
    path("assign/swap/", assignment_views.swap_view, name="swap"),
    path("assign/handover/", assignment_views.orphan_list_view, name="orphans"),
    path("assign/clerks/", assignment_views.clerk_allocation_view, name="clerk-allocation"),
    path("call-rules/", call_rules_views.call_rules_view, name="call-rules"),
    path("assign/handover/<int:user_id>/", assignment_views.handover_view, name="handover"),
    path("assign/collectors/<int:user_id>/history/", assignment_views.collector_assignment_history_view,
         name="collector-assignments"),
    path("<int:case_id>/assignments/", assignment_views.case_assignment_history_view, name="case-assignments"),
    # Case work (P4, P5, P11, C13, C14, C15)
    path("<int:case_id>/work/", work_views.case_work_view, name="case-work"),
    path("<int:case_id>/work/calls/", work_views.call_record_create_view, name="call-create"),
    path("<int:case_id>/work/calls/<int:call_id>/outcome/", work_views.call_outcome_view, name="call-outcome"),
    path("<int:case_id>/work/visits/", work_views.visit_record_create_view, name="visit-create"),
    path("<int:case_id>/work/files/", work_views.case_file_upload_view, name="file-upload"),
    path("<int:case_id>/work/complaints/", work_views.complaint_create_view, name="complaint-create"),
    path("<int:case_id>/work/<str:what>/<int:object_id>/delete/", work_views.work_delete_view, name="work-delete"),
    path("<int:case_id>/files/<int:file_id>/", file_views.case_file_view, name="case-file"),
    path("<int:case_id>/download/", file_views.case_bundle_view, name="case-bundle"),
    path("<int:case_id>/visit-form.<str:fmt>", document_views.visit_form_view, name="visit-form"),
    path("complaints/", complaint_views.complaint_list_view, name="complaint-list"),
    path("templates/", template_views.bank_template_list_view, name="template-list"),
    path("templates/<int:template_id>/", template_views.bank_template_download_view, name="template-download"),
    path("templates/<int:template_id>/delete/", template_views.bank_template_delete_view, name="template-delete"),
    # Dialer (issue 5): click-to-call, suggested numbers, unmatched recordings, lines board.
    path("<int:case_id>/dial/", dialer_views.dial_numbers_view, name="dial-numbers"),
    path("<int:case_id>/blocked-numbers/", dialer_views.number_block_view, name="number-block"),
    path("<int:case_id>/blocked-numbers/<int:blocked_id>/unblock/", dialer_views.number_unblock_view,
         name="number-unblock"),
    path("<int:case_id>/dial/call/", dialer_views.dial_view, name="call-dial"),
    path("calls/hangup/", dialer_views.hangup_view, name="call-hangup"),
    path("<int:case_id>/numbers/", dialer_views.number_suggestions_view, name="number-suggestions"),
    path("<int:case_id>/numbers/<int:suggestion_id>/", dialer_views.number_suggestion_decide_view,
         name="number-suggestion-decide"),
    path("recordings/unmatched/", dialer_views.recording_unmatched_view, name="recording-unmatched"),
    path("calls/missed/", dialer_views.missed_calls_view, name="missed-calls"),
    path("recordings/unmatched/<int:call_id>/", dialer_views.recording_unmatched_file_view,
         name="recording-unmatched-file"),
    path("lines/", dialer_views.lines_board_view, name="lines-board"),
    path("lines/listen/", dialer_views.listen_in_view, name="listen-in"),
    # Money (issue 6): repayments on the case page (C5)
    path("<int:case_id>/repayments/", repayment_views.repayment_panel_view, name="repayment-panel"),
    path("<int:case_id>/repayments/new/", repayment_views.repayment_create_view, name="repayment-create"),
    path("<int:case_id>/repayments/<int:repayment_id>/reverse/", repayment_views.repayment_reverse_view,
         name="repayment-reverse"),
    path("repayments/file/", repayment_views.repayment_file_view, name="repayment-file"),
    path("repayments/file/confirm/", repayment_views.repayment_file_confirm_view, name="repayment-file-confirm"),
    # Return and retention (C9, C10, P10)
    path("returns/", return_views.return_list_view, name="return-list"),
    path("returns/bulk/", return_views.cases_return_bulk_view, name="case-return-bulk"),
    path("returns/retain-bulk/", return_views.cases_retain_bulk_view, name="case-retain-bulk"),
    path("<int:case_id>/return/", return_views.case_return_view, name="case-return"),
    path("<int:case_id>/return/undo/", return_views.case_return_undo_view, name="case-return-undo"),
    path("<int:case_id>/retain/", return_views.case_retain_view, name="case-retain"),
    path("<int:case_id>/retention/", return_views.return_panel_view, name="return-panel"),
    path("<int:case_id>/retention/request/", return_views.retention_request_create_view, name="retention-request"),
    path("retention/<int:request_id>/decide/", return_views.retention_decide_view, name="retention-decide"),
    # Reports (C12, M6)
    path("reports/", report_views.report_view, name="reports"),
    path("reports/batches/", report_views.batch_progress_view, name="batch-progress"),
    path("reports/batches/<int:batch_id>/", report_views.batch_progress_detail_view, name="batch-progress-detail"),
    path("export/cases.xlsx", export_views.cases_export_view, name="cases-export"),
    # All business data (M5) and the exports page
    path("export/", export_views.exports_view, name="exports"),
    path("export/business-data.zip", export_views.business_data_export_view, name="business-export"),
]
