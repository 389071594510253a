from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.enums import CaseEventType


class CaseEvent(models.Model):
    """One entry of a case's timeline. Written only by `cases.history`, never changed."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="events", verbose_name="委案",
                             db_index=False)  # case_event_case_time_idx leads with the case
    type = models.CharField("类型", max_length=32, choices=CaseEventType.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name="操作人")
    summary = models.CharField("内容", max_length=500)
    data = models.JSONField("数据", default=dict, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "委案时间线"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "-created_at"], name="case_event_case_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.summary}"
