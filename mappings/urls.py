from __future__ import annotations

from django.urls import path

from mappings import views

app_name = "mappings"
urlpatterns = [
    path("", views.bank_file_upload_view, name="upload"),
    path("uploads/<int:upload_id>/", views.bank_file_review_view, name="review"),
    path("uploads/<int:upload_id>/mapping/", views.mapping_edit_view, name="edit"),
    path("mappings/", views.mapping_list_view, name="mapping-list"),
    path("mappings/<int:mapping_id>/", views.mapping_detail_view, name="mapping-detail"),
]
