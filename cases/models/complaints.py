"""Complaints (投诉, C13) recorded by clerks on a case."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.enums import ComplaintReason


class Complaint(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="complaints",
                             verbose_name="委案")
    content = models.TextField("投诉内容")
    reason = models.CharField("投诉原因", max_length=16, choices=ComplaintReason.choices, db_index=True)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="complaints_against", verbose_name="被投诉业务员")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="记录人")
    created_at = models.DateTimeField("记录时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "投诉"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["collector", "created_at"], name="complaint_collector_idx")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.content[:20]}"
