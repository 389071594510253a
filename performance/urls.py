from __future__ import annotations

from django.urls import path

from performance.views import charts, commission, targets

app_name = "performance"
urlpatterns = [
    path("dashboard/charts.json", charts.dashboard_charts_view, name="dashboard-charts"),
    path("targets/", targets.target_edit_view, name="targets"),
    path("targets/import/", targets.target_import_view, name="target-import"),
    path("targets/template.xlsx", targets.target_template_view, name="target-template"),
    path("ranking/", targets.ranking_view, name="ranking"),
    path("commission/schemes/", commission.scheme_list_view, name="schemes"),
    path("commission/schemes/<int:scheme_id>/end/", commission.scheme_end_view, name="scheme-end"),
    path("commission/statements/", commission.statement_list_view, name="statements"),
    path("commission/statements/mine/", commission.statement_mine_view, name="statement-mine"),
    path("commission/statements/<int:collector_id>/", commission.statement_detail_view, name="statement-detail"),
    path("commission/statements/<int:collector_id>/approve/", commission.statement_approve_view,
         name="statement-approve"),
]
