from __future__ import annotations

from django.urls import path

from cases.views import batches, cases, imports
from cases.views import dashboards as dashboard_views
from cases.views import reminders as reminder_views

app_name = "cases"
urlpatterns = [
    path("", cases.case_list_view, name="case-list"),
    path("<int:case_id>/", cases.case_detail_view, name="case-detail"),
    path("import/", imports.batch_import_view, name="batch-import"),
    path("import/template.xlsx", imports.batch_template_view, name="batch-template"),
    path("batches/", batches.batch_list_view, name="batch-list"),
    path("reminders/", reminder_views.reminder_list_view, name="reminder-list"),
    path("reminders/<int:reminder_id>/read/", reminder_views.reminder_mark_read_view, name="reminder-read"),
    path("reminders/read-all/", reminder_views.reminder_mark_all_read_view, name="reminder-read-all"),
    path("dashboard/", dashboard_views.dashboard_view, name="dashboard"),
]
