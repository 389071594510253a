"""Tables of the collector's day (issue 16): promises to pay, agreed callbacks, and per-bank settings of the
promise matching and of the work queue's order.

Sits above `cases` (reaches it through its models, actions and selectors); `cases` never imports it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models


class PromiseStatus(models.TextChoices):
    OPEN = "open", "待兑现"
    KEPT = "kept", "已兑现"
    PARTLY_KEPT = "partly_kept", "部分兑现"
    BROKEN = "broken", "已违约"
    CANCELLED = "cancelled", "已撤销"


# A promise still waiting for its money; the others are decided (cancelled: its call or visit was deleted).
FINAL_PROMISE_STATUSES: tuple[str, ...] = (PromiseStatus.KEPT, PromiseStatus.PARTLY_KEPT, PromiseStatus.BROKEN,
                                           PromiseStatus.CANCELLED)


class PromiseSource(models.TextChoices):
    CALL = "call", "电话"
    VISIT = "visit", "外访"


class Promise(models.Model):
    """One promise to pay (承诺还款) made on a call, a call's outcome or a visit.

    Matched against the case's live repayments (worklist.actions.promises_match_case): kept when the repayments
    on or after the day it was made and on or before its date + the bank's grace days reach its amount less the
    bank's tolerance; partly kept or broken once that window has passed without.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="promises", verbose_name="委案")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="promises_taken", verbose_name="承诺记录人")
    source = models.CharField("来源", max_length=8, choices=PromiseSource.choices)
    call = models.OneToOneField("cases.CallRecord", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="promise", verbose_name="电话记录")
    visit = models.OneToOneField("cases.VisitRecord", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="promise", verbose_name="外访记录")
    contact_label = models.CharField("承诺人", max_length=100, blank=True)
    made_on = models.DateField("承诺日期")
    due_date = models.DateField("承诺还款日期")
    amount = models.DecimalField("承诺金额", max_digits=14, decimal_places=2)
    # The bank's terms when the promise was made (BankWorkSettings): a later change does not move old promises.
    tolerance = models.DecimalField("金额容差", max_digits=10, decimal_places=2, default=Decimal("0.00"))
    window_end = models.DateField("兑现截止日期", help_text="承诺还款日期加宽限天数")
    paid_amount = models.DecimalField("已匹配回款", max_digits=14, decimal_places=2, default=Decimal("0.00"))
    status = models.CharField("状态", max_length=16, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    decided_on = models.DateField("兑现/违约日期", null=True, blank=True)
    created_at = models.DateTimeField("记录时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "承诺还款"
        ordering = ["-due_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(condition=models.Q(due_date__gte=models.F("made_on")),
                                   name="promise_due_not_before_made"),
        ]
        indexes = [
            models.Index(fields=["case", "due_date"], name="promise_case_due_idx"),
            models.Index(fields=["status", "window_end"], name="promise_status_window_idx"),
            models.Index(fields=["status", "due_date"], name="promise_status_due_idx"),
            models.Index(fields=["collector", "made_on"], name="promise_collector_made_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.due_date} ¥{self.amount} {self.get_status_display()}"


class CallbackStatus(models.TextChoices):
    PENDING = "pending", "待回电"
    DONE = "done", "已回电"
    CANCELLED = "cancelled", "已取消"


class Callback(models.Model):
    """An agreed callback (约定回电): the collector calls the debtor back at `due_at`."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="callbacks", verbose_name="委案")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="callbacks",
                                  verbose_name="业务员")
    due_at = models.DateTimeField("约定时间")
    # The call on which it was agreed (the call outcome form), so saving that call again neither repeats it nor
    # counts as making it.
    call = models.OneToOneField("cases.CallRecord", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name="约定于通话")
    phone = models.CharField("回电号码", max_length=32, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    status = models.CharField("状态", max_length=16, choices=CallbackStatus.choices, default=CallbackStatus.PENDING)
    fired_at = models.DateTimeField("已提醒时间", null=True, blank=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="约定人")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "约定回电"
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="callback_status_due_idx"),
            models.Index(fields=["collector", "status", "due_at"], name="callback_collector_idx"),
            models.Index(fields=["case", "status"], name="callback_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.due_at:%Y-%m-%d %H:%M} {self.get_status_display()}"


class BankWorkSettings(models.Model):
    """Per bank (合作银行): the promise matching's tolerance and grace, and the work queue's weights by reason.

    A bank without a row uses the defaults below (DEFAULTS in worklist.queue).
    """

    bank = models.OneToOneField("cases.Bank", on_delete=models.CASCADE, related_name="work_settings",
                                verbose_name="银行")
    tolerance_amount = models.DecimalField("金额容差（元）", max_digits=10, decimal_places=2, default=Decimal("10.00"),
                                           help_text="回款比承诺少不超过此金额仍算兑现")
    grace_days = models.PositiveSmallIntegerField("宽限天数", default=2, help_text="承诺日期后多少天内的回款仍算兑现")
    weight_callback = models.PositiveSmallIntegerField("约定回电", default=100)
    weight_promise_broken = models.PositiveSmallIntegerField("承诺违约", default=90)
    weight_promise_due = models.PositiveSmallIntegerField("承诺到期", default=80)
    weight_first_call = models.PositiveSmallIntegerField("首次电话超期", default=70)
    weight_expiry_3 = models.PositiveSmallIntegerField("3天内到期", default=65)
    weight_first_visit = models.PositiveSmallIntegerField("首次外访超期", default=60)
    weight_expiry_7 = models.PositiveSmallIntegerField("7天内到期", default=50)
    weight_new = models.PositiveSmallIntegerField("新分配", default=40)
    weight_retry = models.PositiveSmallIntegerField("未接通重拨", default=30)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="修改人")

    class Meta:
        verbose_name = verbose_name_plural = "银行工作设置"

    def __str__(self) -> str:
        return f"{self.bank_id} 工作设置"
