from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "系统运维"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register the ops event types in realtime's registry in every process (web, dialer, scheduler),
        # so consumers forward them; and the deploy checks.
        from ops import checks, events  # noqa: F401
