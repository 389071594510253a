"""Roll-ups the reports read (C12, M6), so a report page never scans the raw repayments or the cases.

- RepaymentDaily / RepaymentMonthly: one row per day (month) × batch × commission rate, kept by the repayment
  actions with F() additions in the same transaction as the entry, so they are exact to the fen at commit.
- CollectorProgress (per collector × bank) and BatchProgress (per batch: all its cases and its credit-card ones):
  recomputed from the cases, calls and visits of the groups marked in RollupDirty by the actions that change them
  (assignment, call, visit, record deletion, repayment) and of every batch imported since; the report
  selectors refresh the marked groups before they read (cases/rollups.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

ZERO = Decimal("0.00")


class _RepaymentSums(models.Model):
    """Repayments of one batch at one commission rate, summed over a period (the subclass's date field)."""

    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, related_name="+", verbose_name="银行")
    batch = models.ForeignKey("cases.Batch", on_delete=models.PROTECT, related_name="+", verbose_name="批次")
    commission_rate = models.DecimalField("佣金比例", max_digits=8, decimal_places=6)
    amount = models.DecimalField("回款金额", max_digits=16, decimal_places=2, default=ZERO)
    commission = models.DecimalField("佣金", max_digits=16, decimal_places=2, default=ZERO)
    count = models.IntegerField("笔数", default=0)

    class Meta:
        abstract = True


class RepaymentDaily(_RepaymentSums):
    day = models.DateField("日期")

    class Meta:
        verbose_name = verbose_name_plural = "回款日汇总"
        constraints = [models.UniqueConstraint(fields=["day", "batch", "commission_rate"],
                                               name="repayment_daily_unique")]
        indexes = [models.Index(fields=["bank", "day"], name="repayment_daily_bank_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.batch_id} {self.commission_rate} {self.amount}"


class RepaymentMonthly(_RepaymentSums):
    """The daily roll-up summed per calendar month: month and year reports read ~30× fewer rows."""

    month = models.DateField("月份", help_text="当月 1 日")

    class Meta:
        verbose_name = verbose_name_plural = "回款月汇总"
        constraints = [models.UniqueConstraint(fields=["month", "batch", "commission_rate"],
                                               name="repayment_monthly_unique")]
        indexes = [models.Index(fields=["bank", "month"], name="repayment_monthly_bank_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.batch_id} {self.commission_rate} {self.amount}"


class CollectorProgress(models.Model):
    """Work progress of one collector on one bank's cases (the cases they hold now, any status)."""

    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                  verbose_name="业务员")
    bank = models.ForeignKey("cases.Bank", on_delete=models.CASCADE, related_name="+", verbose_name="银行")
    held = models.IntegerField("持有案件", default=0)
    contacted = models.IntegerField("已电话联系", default=0)
    visited = models.IntegerField("已外访", default=0)
    repaid_cases = models.IntegerField("回款案件数", default=0)
    repaid_amount = models.DecimalField("回款金额", max_digits=16, decimal_places=2, default=ZERO)
    entrusted_amount = models.DecimalField("委案金额", max_digits=16, decimal_places=2, default=ZERO)

    class Meta:
        verbose_name = verbose_name_plural = "业务员工作进度汇总"
        constraints = [models.UniqueConstraint(fields=["collector", "bank"], name="collector_progress_unique")]

    def __str__(self) -> str:
        return f"{self.collector_id} {self.bank_id} {self.held}"


class BatchProgress(models.Model):
    """A batch's progress (issue 18: the clerk returns work to the bank batch by batch) and its credit-card
    cases (C12). Every batch has a row once counted (zeros when it has no credit-card case), so a batch without
    one is a batch imported since the last refresh."""

    batch = models.OneToOneField("cases.Batch", on_delete=models.CASCADE, primary_key=True, related_name="+",
                                 verbose_name="批次")
    bank = models.ForeignKey("cases.Bank", on_delete=models.CASCADE, related_name="+", verbose_name="银行")
    cases = models.IntegerField("案件数", default=0)
    entrusted = models.DecimalField("委案金额", max_digits=16, decimal_places=2, default=ZERO)
    contacted = models.IntegerField("已电话联系", default=0)
    visited = models.IntegerField("已外访", default=0)
    promised = models.IntegerField("承诺还款", default=0)
    repaid_cases = models.IntegerField("回款案件数", default=0)
    repaid = models.DecimalField("已还金额", max_digits=16, decimal_places=2, default=ZERO)
    settled = models.IntegerField("已结清", default=0)
    returned = models.IntegerField("已退案", default=0)
    retained = models.IntegerField("留案", default=0)
    card_cases = models.IntegerField("信用卡案件数", default=0)
    card_entrusted = models.DecimalField("信用卡委案金额", max_digits=16, decimal_places=2, default=ZERO)
    card_repaid = models.DecimalField("信用卡已还金额", max_digits=16, decimal_places=2, default=ZERO)

    class Meta:
        verbose_name = verbose_name_plural = "批次回款汇总"

    def __str__(self) -> str:
        return f"{self.batch_id} {self.card_repaid}/{self.card_entrusted}"


class RollupKind(models.TextChoices):
    COLLECTOR = "collector", "业务员"
    BATCH = "batch", "批次"
    CASE = "case", "委案金额"  # a repayment: its collector's amounts, the collector resolved when the refresh runs
    CASE_WORK = "case_work", "委案作业"  # a call, visit or deleted record: its collector's every figure


class RollupDirty(models.Model):
    """A group whose progress figures changed: written in the changing action's transaction (insert only, no
    unique key, so writers never wait on each other), deleted by the refresh that recomputed the group."""

    kind = models.CharField("类别", max_length=16, choices=RollupKind.choices)
    key = models.BigIntegerField("编号")

    class Meta:
        verbose_name = verbose_name_plural = "待刷新汇总"

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
