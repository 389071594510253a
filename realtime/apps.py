from __future__ import annotations

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "实时推送"

    def ready(self) -> None:
        from realtime import access

        access.connect()  # live updates end with the session or the account's access
