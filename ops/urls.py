from __future__ import annotations

from django.urls import path

from ops.views import audit, backups, calendar, health, masterdata, users, vpn

app_name = "ops"
urlpatterns = [
    path("users/", users.user_list_view, name="user-list"),
    path("users/new/", users.user_create_view, name="user-create"),
    path("users/<int:user_id>/", users.user_edit_view, name="user-edit"),
    path("users/<int:user_id>/password-reset/", users.user_password_reset_view, name="user-password-reset"),
    path("users/<int:user_id>/deactivate/", users.user_deactivate_view, name="user-deactivate"),
    path("users/<int:user_id>/reactivate/", users.user_reactivate_view, name="user-reactivate"),
    path("users/<int:user_id>/2fa-reset/", users.user_2fa_reset_view, name="user-2fa-reset"),
    path("scopes/", users.scope_grid_view, name="scope-grid"),
    path("extensions/", users.extension_list_view, name="extension-list"),
    path("audit/", audit.audit_list_view, name="audit-list"),
    path("audit/export.xlsx", audit.audit_export_view, name="audit-export"),
    path("vpn/", vpn.vpn_list_view, name="vpn-list"),
    path("vpn/new/", vpn.vpn_edit_view, name="vpn-create"),
    path("vpn/<int:account_id>/", vpn.vpn_edit_view, name="vpn-edit"),
    path("vpn/<int:account_id>/reveal/", vpn.vpn_reveal_view, name="vpn-reveal"),
    path("vpn/<int:account_id>/delete/", vpn.vpn_delete_view, name="vpn-delete"),
    path("backups/", backups.backup_list_view, name="backup-list"),
    path("backups/start/", backups.backup_start_view, name="backup-start"),
    path("health/", health.health_view, name="health"),
    # 基础资料 (issue 15): banks, branch companies and departments, the yearly holiday calendar.
    path("banks/", masterdata.bank_list_view, name="bank-list"),
    path("banks/<int:bank_id>/", masterdata.bank_edit_view, name="bank-edit"),
    path("org/", masterdata.org_list_view, name="org-list"),
    path("org/branches/<int:branch_id>/", masterdata.branch_edit_view, name="branch-edit"),
    path("org/departments/<int:department_id>/", masterdata.department_edit_view, name="department-edit"),
    path("calendar/", calendar.calendar_view, name="calendar"),
    path("calendar/add/", calendar.holiday_add_view, name="holiday-add"),
    path("calendar/delete/", calendar.holiday_delete_view, name="holiday-delete"),
    path("calendar/template.xlsx", calendar.holiday_template_view, name="holiday-template"),
    path("calendar/import/", calendar.holiday_import_view, name="holiday-import"),
    path("health.json", health.health_json_view, name="health-json"),
]
