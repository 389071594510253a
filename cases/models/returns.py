"""Retention requests (C10, P10): a collector asks to keep an expiring case; the owner clerk decides."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RetentionStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已同意"
    DECLINED = "declined", "已拒绝"


class RetentionRequest(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="retention_requests",
                             verbose_name="委案")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name="申请人")
    reason = models.CharField("留案理由", max_length=500)
    status = models.CharField("状态", max_length=16, choices=RetentionStatus.choices,
                              default=RetentionStatus.PENDING, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="审批人")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=500, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "留案申请"
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open request per case at a time.
            models.UniqueConstraint(fields=["case"], condition=models.Q(status="pending"),
                                    name="retention_one_pending_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_status_display()}"
