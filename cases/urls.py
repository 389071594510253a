from __future__ import annotations

from django.urls import path

from cases.views import batches, cases, imports

app_name = "cases"
urlpatterns = [
    path("", cases.case_list_view, name="case-list"),
    path("<int:case_id>/", cases.case_detail_view, name="case-detail"),
    path("import/", imports.batch_import_view, name="batch-import"),
    path("import/template.xlsx", imports.batch_template_view, name="batch-template"),
    path("batches/", batches.batch_list_view, name="batch-list"),
]
