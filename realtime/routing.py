"""Websocket URL patterns (consumers are added by the realtime work)."""

from __future__ import annotations

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
