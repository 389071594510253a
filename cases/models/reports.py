"""Daily roll-up of repayments (C12, M6): one row per day × batch × commission rate, kept by the actions.

Reports read this table, never the raw repayments: a million repayments become a few thousand rows.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models


class RepaymentDaily(models.Model):
    day = models.DateField("日期")
    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, related_name="+", verbose_name="银行")
    batch = models.ForeignKey("cases.Batch", on_delete=models.PROTECT, related_name="+", verbose_name="批次")
    commission_rate = models.DecimalField("佣金比例", max_digits=8, decimal_places=6)
    amount = models.DecimalField("回款金额", max_digits=16, decimal_places=2, default=Decimal("0.00"))
    commission = models.DecimalField("佣金", max_digits=16, decimal_places=2, default=Decimal("0.00"))
    count = models.IntegerField("笔数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "回款日汇总"
        constraints = [models.UniqueConstraint(fields=["day", "batch", "commission_rate"],
                                               name="repayment_daily_unique")]
        indexes = [models.Index(fields=["bank", "day"], name="repayment_daily_bank_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.batch_id} {self.commission_rate} {self.amount}"
