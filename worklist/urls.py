from __future__ import annotations

from django.urls import path

from worklist import views

app_name = "worklist"

urlpatterns = [
    path("", views.work_queue_view, name="queue"),
    path("cases/<int:case_id>/promises/", views.case_promises_view, name="case-promises"),
    path("cases/<int:case_id>/callbacks/", views.callback_create_view, name="callback-create"),
    path("callbacks/<int:callback_id>/cancel/", views.callback_cancel_view, name="callback-cancel"),
    path("settings/", views.work_settings_view, name="settings"),
    path("promises/", views.promise_stats_view, name="promise-stats"),
    path("collectors/", views.collector_list_view, name="collector-list"),
    path("collectors/<int:collector_id>/", views.collector_activity_view, name="collector-activity"),
    path("collectors/<int:collector_id>/export.xlsx", views.collector_activity_export_view,
         name="collector-activity-export"),
]
