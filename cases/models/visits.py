"""Field visit records (P4, P5). Photos, the signed form and the recording are StoredFiles pointing here."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.enums import VisitResult


class VisitRecord(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="visits", verbose_name="委案")
    # Who went (often a field collector) and who typed it in (P5: the phone collector enters the result).
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits_made",
                                  verbose_name="外访人员")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="visits_entered", verbose_name="录入人")
    visited_on = models.DateField("外访日期")
    address = models.CharField("外访地址", max_length=255)
    met_person = models.CharField("见到何人", max_length=64, blank=True)
    result = models.CharField("外访结果", max_length=16, choices=VisitResult.choices)
    promise_date = models.DateField("承诺还款日期", null=True, blank=True)
    promise_amount = models.DecimalField("承诺还款金额", max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.TextField("情况说明", blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="删除人")
    delete_reason = models.CharField("删除原因", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "外访记录"
        ordering = ["-visited_on", "-id"]
        indexes = [
            models.Index(fields=["case", "visited_on"], name="visit_case_day_idx"),
            models.Index(fields=["collector", "visited_on"], name="visit_collector_day_idx"),
            # "Is there a live visit (a promise) on this case?", as for calls (call_live_case_idx).
            models.Index(fields=["case", "result"], name="visit_live_case_idx", condition=models.Q(deleted_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.address} {self.get_result_display()}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
