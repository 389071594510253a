"""Counters behind the managers' live dashboard (M7): one row per collector per day, bumped by actions.

The dashboard reads these few hundred rows instead of scanning cases, calls or visits.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

# The integer counters of DailyCollectorStats; `repaid_amount` is the one Decimal counter.
# 外呼 (calls_made) and 接通 (calls_connected) count outbound calls only, so 接通 never exceeds 外呼; an inbound call
# counts in 呼入 (calls_inbound). A deleted call or visit is taken off the counters of its day.
COUNTER_FIELDS: tuple[str, ...] = ("cases_worked", "calls_made", "calls_connected", "calls_inbound", "visits",
                                   "new_assignments")


class DailyCollectorStats(models.Model):
    day = models.DateField("日期")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                  verbose_name="业务员")
    cases_worked = models.PositiveIntegerField("处理案件数", default=0)
    calls_made = models.PositiveIntegerField("外呼次数", default=0)
    calls_connected = models.PositiveIntegerField("接通次数", default=0)
    calls_inbound = models.PositiveIntegerField("呼入次数", default=0)
    visits = models.PositiveIntegerField("外访次数", default=0)
    new_assignments = models.PositiveIntegerField("新分配案件", default=0)
    repaid_amount = models.DecimalField("当日回款", max_digits=14, decimal_places=2, default=Decimal("0.00"))
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "业务员每日统计"
        ordering = ["-day", "collector_id"]
        constraints = [models.UniqueConstraint(fields=["day", "collector"], name="daily_stats_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.collector_id}"


class DailyCaseWork(models.Model):
    """A case was worked on this day: makes `cases_worked` count distinct cases, not actions."""

    day = models.DateField("日期")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+", verbose_name="委案")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                                  verbose_name="业务员")

    class Meta:
        verbose_name = verbose_name_plural = "每日处理案件"
        constraints = [models.UniqueConstraint(fields=["day", "case"], name="daily_case_work_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.case_id}"
