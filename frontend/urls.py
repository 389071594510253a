from __future__ import annotations

from django.urls import path

from frontend import views

app_name = "frontend"
urlpatterns = [
    path("", views.home_view, name="home"),
    # Browsers and tools ask for /favicon.ico whatever the page links: the product's icon, never a 404.
    path("favicon.ico", views.favicon_view, name="favicon"),
]
