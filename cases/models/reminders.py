"""Reminders (C11, P2, P3) and the admin-kept holiday arrangements the working-day calendar reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.enums import ReminderKind


class Reminder(models.Model):
    """One reminder to one user about one case, created exactly once per (kind, cycle).

    `cycle` tells apart the occasions a kind can recur on: the return date for expiry reminders (a
    retention moves it, and the countdown starts again), the assignment time for first-call/visit ones.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders",
                             verbose_name="接收人")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="reminders", verbose_name="委案")
    kind = models.CharField("类型", max_length=32, choices=ReminderKind.choices)
    cycle = models.CharField("周期", max_length=40)
    due_at = models.DateTimeField("应提醒时间")
    text = models.CharField("内容", max_length=200)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    # Overdue-work reminders are resolved once the call or visit happens (the dashboard counts open ones).
    resolved_at = models.DateTimeField("已处理时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "提醒"
        ordering = ["-due_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "case", "kind", "cycle"], name="reminder_once_per_cycle"),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="reminder_user_unread_idx"),
            models.Index(fields=["kind", "resolved_at"], name="reminder_kind_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id} → {self.user_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class HolidayArrangement(models.Model):
    """One day of the State Council's yearly arrangement, entered by an admin.

    Overrides the chinese-calendar package for that date, so a year the package does not know yet (it
    holds data up to 2026) can be entered without a code change.
    """

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是否工作日", help_text="法定节假日不勾选；调休上班的周末勾选")
    name = models.CharField("名称", max_length=32, blank=True, help_text="例如 国庆节、春节调休上班")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "节假日安排"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_workday else '休息'} {self.name}".strip()
