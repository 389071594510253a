from __future__ import annotations

from django.urls import path

from progressive import views

app_name = "progressive"

urlpatterns = [
    path("start/", views.session_start_view, name="session-start"),
    path("bar/", views.session_bar_view, name="session-bar"),
    path("board/", views.session_board_view, name="session-board"),
    path("<int:session_id>/<slug:action>/", views.session_control_view, name="session-control"),
]
