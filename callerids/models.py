"""The caller-ID pool (外显号码池, issue 17): numbers per trunk and per bank with a daily attempt cap, and one row per
number and day with its attempts and answered calls (the answer-rate trend, and the exact daily cap: an attempt is
counted when the number is taken, under a row lock, so concurrent calls cannot pass the cap).

Models stay thin: the choice is callerids/choice.py (pure), the writes callerids/actions.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

DEFAULT_DAILY_CAP = 150
# Automatic resting: a number answered at less than FLAG_RATIO of the rest of the pool's rate today, once it has made
# FLAG_MIN_ATTEMPTS calls today (and the rest of the pool as many), is taken for flagged by carriers or handset apps
# (骚扰/催收 labels make answer rates collapse) and rested until an admin reactivates it.
FLAG_RATIO = 0.5
FLAG_MIN_ATTEMPTS = 20


class CallerNumberState(models.TextChoices):
    ACTIVE = "active", "使用中"
    RESTED = "rested", "休息中"
    FLAGGED = "flagged", "疑似被标记"


class CallerNumber(models.Model):
    number = models.CharField("号码", max_length=32, unique=True, help_text="运营商分配的外显号码，只写数字")
    trunk = models.CharField("中继", max_length=64, default="trunk")
    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name="专用银行",
                             help_text="留空为公共号码；银行有专用号码时，其委案只用专用号码外呼")
    daily_cap = models.PositiveIntegerField("每日外呼上限", default=DEFAULT_DAILY_CAP)
    state = models.CharField("状态", max_length=16, choices=CallerNumberState.choices,
                             default=CallerNumberState.ACTIVE)
    state_reason = models.CharField("状态说明", max_length=200, blank=True)
    state_changed_at = models.DateTimeField("状态时间", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("添加时间", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="添加人")

    class Meta:
        verbose_name = verbose_name_plural = "外显号码"
        ordering = ["trunk", "bank_id", "number"]
        constraints = [models.CheckConstraint(condition=models.Q(daily_cap__gte=1), name="callernumber_cap_positive")]

    def __str__(self) -> str:
        return self.number


class CallerNumberDay(models.Model):
    caller_number = models.ForeignKey(CallerNumber, on_delete=models.CASCADE, related_name="days",
                                      verbose_name="外显号码")
    day = models.DateField("日期")  # Asia/Shanghai
    attempts = models.PositiveIntegerField("外呼次数", default=0)
    answered = models.PositiveIntegerField("接通次数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "外显号码每日统计"
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["caller_number", "day"], name="callernumberday_one_per_day")]

    def __str__(self) -> str:
        return f"{self.caller_number_id} {self.day} {self.answered}/{self.attempts}"

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.attempts if self.attempts else None
