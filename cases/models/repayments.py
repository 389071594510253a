"""Repayments (回款, C5): append-only entries on a case; a correction is a reversing entry, never an edit."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RepaymentKind(models.TextChoices):
    NORMAL = "normal", "回款"
    REVERSAL = "reversal", "冲正"


class Repayment(models.Model):
    """One line of the bank's repayment notice, or the reversal of one.

    `amount` is signed: a normal entry is positive, its reversal carries the same amount negated, so the
    case's repaid total and every report are plain sums.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="repayments",
                             verbose_name="委案")
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)
    # Commission of this entry (amount × the case's rate at the time, rounded to the fen); the reversal
    # negates its original's figure exactly, so commission totals reconcile to the fen.
    commission = models.DecimalField("佣金", max_digits=14, decimal_places=2)
    commission_rate = models.DecimalField("佣金比例", max_digits=8, decimal_places=6)
    repaid_on = models.DateField("还款日期", db_index=True)
    bank_ref = models.CharField("银行流水号", max_length=64, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    kind = models.CharField("类型", max_length=16, choices=RepaymentKind.choices, default=RepaymentKind.NORMAL)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversed_by", verbose_name="冲正的回款")
    overpayment = models.BooleanField("允许超额还款", default=False)
    # Set when the entry came from a bank repayment file (its sha256), so a file is never recorded twice.
    source_sha256 = models.CharField("来源文件", max_length=64, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="登记人")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    # The collector credited (提成, issue 18): the one holding the case when the entry was recorded; a reversal
    # is charged to the collector the original was credited to.
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name="业务员")

    class Meta:
        verbose_name = verbose_name_plural = "回款"
        ordering = ["-repaid_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="normal", amount__gt=0, reverses__isnull=True)
                           | models.Q(kind="reversal", amount__lt=0, reverses__isnull=False)),
                name="repayment_sign_matches_kind"),
        ]
        # A 流水号 is recorded once per case among the live entries (not reversed). A reversed entry keeps its
        # 流水号, and the bank's correct figure is then recorded under it again, so a database constraint (which
        # cannot see the reversal, a row of its own) cannot hold the rule: cases.actions.repayments checks it
        # under the case's row lock, which every repayment write takes.
        indexes = [models.Index(fields=["case", "repaid_on"], name="repayment_case_day_idx"),
                   models.Index(fields=["collector", "repaid_on"], name="repayment_collector_day_idx"),
                   models.Index(fields=["created_at"], name="repayment_created_idx"),
                   models.Index(fields=["case", "bank_ref"], name="repayment_case_ref_idx",
                                condition=~models.Q(bank_ref=""))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.repaid_on}"
