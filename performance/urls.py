from __future__ import annotations

from django.urls import path

from performance.views import charts, targets

app_name = "performance"
urlpatterns = [
    path("dashboard/charts.json", charts.dashboard_charts_view, name="dashboard-charts"),
    path("targets/", targets.target_edit_view, name="targets"),
    path("targets/import/", targets.target_import_view, name="target-import"),
    path("targets/template.xlsx", targets.target_template_view, name="target-template"),
    path("ranking/", targets.ranking_view, name="ranking"),
]
