"""Collector commission (提成, issue 18 item 3): schemes per bank or batch, and monthly statements that a
manager approves and thereby locks.

This is what the agency pays its collectors, not the bank's commission to the agency (Case.commission_rate,
Repayment.commission), which a collector never sees (P7).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

ZERO = Decimal("0.00")


class SchemeKind(models.TextChoices):
    FLAT = "flat", "固定比例"
    AMOUNT_TIERS = "amount_tiers", "按回收金额阶梯"
    RATE_TIERS = "rate_tiers", "按回收率阶梯"


class CommissionScheme(models.Model):
    name = models.CharField("方案名称", max_length=64)
    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name="银行")
    batch = models.ForeignKey("cases.Batch", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name="批次")
    kind = models.CharField("计算方式", max_length=16, choices=SchemeKind.choices, default=SchemeKind.FLAT)
    rate = models.DecimalField("提成比例", max_digits=7, decimal_places=6, null=True, blank=True,
                               help_text="固定比例时使用，例如 0.02 表示 2%")
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True, help_text="含当日；留空表示长期有效")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="创建人")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "提成方案"
        ordering = ["-effective_from", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(bank__isnull=False) | models.Q(batch__isnull=False),
                                   name="scheme_has_bank_or_batch"),
            models.CheckConstraint(condition=models.Q(effective_to__isnull=True)
                                   | models.Q(effective_to__gte=models.F("effective_from")),
                                   name="scheme_dates_in_order"),
        ]

    def __str__(self) -> str:
        return self.name


class CommissionTier(models.Model):
    """From `threshold` on (inclusive: 元 recovered in the month, or % recovery rate) the whole month's recovered
    amount under the scheme earns `rate`."""

    scheme = models.ForeignKey(CommissionScheme, on_delete=models.CASCADE, related_name="tiers",
                               verbose_name="方案")
    threshold = models.DecimalField("起点", max_digits=16, decimal_places=2)
    rate = models.DecimalField("提成比例", max_digits=7, decimal_places=6)

    class Meta:
        verbose_name = verbose_name_plural = "提成阶梯"
        ordering = ["scheme", "threshold"]
        constraints = [models.UniqueConstraint(fields=["scheme", "threshold"], name="tier_unique_threshold")]

    def __str__(self) -> str:
        return f"≥{self.threshold} {self.rate}"


class CollectorStatement(models.Model):
    """A collector's approved (and so locked) commission statement of one month."""

    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name="业务员")
    month = models.DateField("月份", help_text="当月 1 日")
    cases = models.PositiveIntegerField("案件数", default=0)
    entries = models.PositiveIntegerField("回款笔数", default=0)
    recovered = models.DecimalField("回收金额", max_digits=16, decimal_places=2, default=ZERO)
    reversals = models.DecimalField("冲正金额", max_digits=16, decimal_places=2, default=ZERO)
    commission = models.DecimalField("提成金额", max_digits=16, decimal_places=2, default=ZERO)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="审批人")
    approved_at = models.DateTimeField("审批时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "提成表"
        ordering = ["-month", "collector_id"]
        constraints = [models.UniqueConstraint(fields=["collector", "month"], name="statement_unique_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.collector_id} {self.commission}"


class StatementLine(models.Model):
    """One repayment (or reversal) settled in a locked statement: it is never counted again."""

    statement = models.ForeignKey(CollectorStatement, on_delete=models.PROTECT, related_name="lines",
                                  verbose_name="提成表")
    repayment = models.OneToOneField("cases.Repayment", on_delete=models.PROTECT, related_name="+",
                                     verbose_name="回款")
    scheme = models.ForeignKey(CommissionScheme, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name="方案")
    rate = models.DecimalField("提成比例", max_digits=7, decimal_places=6)
    amount = models.DecimalField("回款金额", max_digits=14, decimal_places=2)
    commission = models.DecimalField("提成", max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "提成明细"

    def __str__(self) -> str:
        return f"{self.repayment_id} {self.commission}"
