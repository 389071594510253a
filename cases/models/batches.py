from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from cases.enums import ProductType


class Batch(models.Model):
    """One import of one bank's file (委案批次). The batch number is read from the file (C1)."""

    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, related_name="batches", verbose_name="银行")
    batch_no = models.CharField("批次号", max_length=64)
    product_type = models.CharField("产品类型", max_length=16, choices=ProductType.choices,
                                    default=ProductType.OTHER,
                                    help_text="全部案件同一类型时为该类型，否则为“其他”")
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    related_name="imported_batches", verbose_name="导入人")
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    entrust_date = models.DateField("委案日期", help_text="批次中最早的委案日期")
    return_date = models.DateField("退案日期", help_text="批次中最晚的退案日期")
    case_count = models.PositiveIntegerField("案件数", default=0)
    total_amount = models.DecimalField("委案总金额", max_digits=16, decimal_places=2, default=Decimal("0.00"))
    continuation_count = models.PositiveIntegerField("续案数", default=0)
    source_filename = models.CharField("导入文件", max_length=255, blank=True)
    source_sha256 = models.CharField("文件 SHA-256", max_length=64, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "委案批次"
        ordering = ["-imported_at"]
        constraints = [models.UniqueConstraint(fields=["bank", "batch_no"], name="batch_unique_per_bank")]

    def __str__(self) -> str:
        return f"{self.batch_no}"
