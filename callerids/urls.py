from __future__ import annotations

from django.urls import path

from callerids import views

app_name = "callerids"

urlpatterns = [
    path("", views.caller_number_list_view, name="number-list"),
    path("add/", views.caller_number_add_view, name="number-add"),
    path("<int:number_id>/", views.caller_number_detail_view, name="number-detail"),
    path("<int:number_id>/rest/", views.caller_number_rest_view, name="number-rest"),
    path("<int:number_id>/reactivate/", views.caller_number_reactivate_view, name="number-reactivate"),
]
