from __future__ import annotations

from django.apps import AppConfig


class ProgressiveConfig(AppConfig):
    name = "progressive"
    verbose_name = "连续外呼"

    def ready(self) -> None:
        from progressive import signals  # noqa: F401  (connects the receivers)
