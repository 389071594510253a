from __future__ import annotations

from django.urls import path

from performance.views import charts

app_name = "performance"
urlpatterns = [
    path("dashboard/charts.json", charts.dashboard_charts_view, name="dashboard-charts"),
]
