"""Websocket URL patterns."""

from __future__ import annotations

from django.urls import URLPattern, path

from realtime.consumers.chat import ChatConsumer
from realtime.consumers.live import LiveConsumer
from realtime.embedded import EmbeddedServicesMiddleware

websocket_urlpatterns: list[URLPattern] = [
    path("ws/live/", EmbeddedServicesMiddleware(LiveConsumer.as_asgi())),
    # django-stubs types path() for views only; Channels routes ASGI applications with it.
    path("ws/chat/<int:request_id>/", ChatConsumer.as_asgi()),  # type: ignore[arg-type]
]
