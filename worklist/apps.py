from __future__ import annotations

from django.apps import AppConfig


class WorklistConfig(AppConfig):
    name = "worklist"
    verbose_name = "今日工作与承诺还款"

    def ready(self) -> None:
        from worklist import signals  # noqa: F401  (connects the receivers)
