"""Reminders (C11, P2, P3) and the admin-kept holiday arrangements the working-day calendar reads."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.enums import ReminderKind, ReminderTopic


def expiry_text(days_left: int) -> str:
    """P2's wording, with the days actually left."""
    if days_left <= 0:
        return "此案件今天到期，请抓紧进行工作"
    return f"此案件还有{days_left}天到期，请抓紧进行工作"


class Reminder(models.Model):
    """One reminder to one user about one case and topic, announced exactly once per (kind, cycle).

    `cycle` tells apart the occasions a kind can recur on: the return date for expiry reminders (a
    retention moves it, and the countdown starts again), the assignment time for first-call/visit ones.
    A new (kind, cycle) of the same topic replaces the row (unread and open again) instead of adding one.
    `resolved_at` is set when the reason went away (retained, returned, called, visited, settled, kept): the
    unread badge counts only unread reminders that are still open.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders",
                             verbose_name="接收人")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="reminders", verbose_name="委案")
    kind = models.CharField("类型", max_length=32, choices=ReminderKind.choices)
    topic = models.CharField("主题", max_length=16, choices=ReminderTopic.choices, default=ReminderTopic.EXPIRY)
    cycle = models.CharField("周期", max_length=40)
    due_at = models.DateTimeField("应提醒时间")
    text = models.CharField("内容", max_length=200)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    # Resolved once its reason went away (the dashboard counts open overdue-work ones).
    resolved_at = models.DateTimeField("已处理时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "提醒"
        ordering = ["-due_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "case", "topic"], name="reminder_one_per_topic"),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="reminder_user_unread_idx"),
            models.Index(fields=["kind", "resolved_at"], name="reminder_kind_open_idx"),
            models.Index(fields=["case", "resolved_at"], name="reminder_case_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id} → {self.user_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def needs_action(self) -> bool:
        return self.read_at is None and self.resolved_at is None

    @property
    def current_text(self) -> str:
        """The body as of today: an open expiry reminder counts the days left now (its cycle is the return date),
        so a reminder read a few days after it came does not still say the days it had then."""
        if self.topic == "expiry" and self.resolved_at is None:
            try:
                return_date = dt.date.fromisoformat(self.cycle)
            except ValueError:
                return self.text
            return expiry_text((return_date - timezone.localdate()).days)
        return self.text


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
