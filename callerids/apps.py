from __future__ import annotations

from django.apps import AppConfig


class CallerIdsConfig(AppConfig):
    name = "callerids"
    verbose_name = "外显号码池"
