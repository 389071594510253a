"""Tables of progressive dialling (连续外呼, issue 17 item 1): a collector's dialling session and its log.

A session is the collector's list of cases (from 今日工作 or a filtered case list) with a cursor; the dialer
(dialer/pacing.py, dialer/handlers.py) rings the collector's phone first and then the next allowed number of the
next case whenever the collector is free. Everything the dialer needs to go on after a restart is here, never in
its memory. Sits above `cases`; `cases` never imports it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

DEFAULT_WRAP_UP_S = 30
MIN_WRAP_UP_S = 5
MAX_WRAP_UP_S = 600
EXTEND_STEP_S = 30


class SessionStatus(models.TextChoices):
    ACTIVE = "active", "进行中"
    PAUSED = "paused", "已暂停"
    STOPPED = "stopped", "已结束"


OPEN_SESSION_STATUSES: tuple[str, ...] = (SessionStatus.ACTIVE, SessionStatus.PAUSED)


class SessionSource(models.TextChoices):
    QUEUE = "queue", "今日工作"
    CASES = "cases", "案件列表"


class DialSession(models.Model):
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="dial_sessions",
                                  verbose_name="业务员")
    source = models.CharField("来源", max_length=8, choices=SessionSource.choices, default=SessionSource.QUEUE)
    status = models.CharField("状态", max_length=8, choices=SessionStatus.choices, default=SessionStatus.ACTIVE)
    # The cases in the order they are dialled (the queue's order when the session started).
    case_ids = models.JSONField("案件", default=list)
    position = models.PositiveIntegerField("当前案件序号", default=0)
    number_index = models.PositiveIntegerField("当前号码序号", default=0)
    wrap_up_s = models.PositiveSmallIntegerField("整理时间（秒）", default=DEFAULT_WRAP_UP_S)
    # The call the dialer placed and that is not over yet ("" when none): reconciled after a dialer restart.
    current_call_uuid = models.CharField("当前呼叫", max_length=64, blank=True)
    current_case = models.ForeignKey("cases.Case", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name="当前委案")
    # The connected call whose outcome the next call waits for (until saved, or until ready_at).
    awaiting_call = models.ForeignKey("cases.CallRecord", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", verbose_name="待登记结果的通话")
    ready_at = models.DateTimeField("下一通不早于", null=True, blank=True)
    extended = models.BooleanField("已延长整理", default=False)
    pause_reason = models.CharField("暂停原因", max_length=100, blank=True)
    calls = models.PositiveIntegerField("已拨", default=0)
    connected = models.PositiveIntegerField("接通", default=0)
    skipped = models.PositiveIntegerField("跳过", default=0)
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=100, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "连续外呼"
        ordering = ["-started_at", "-id"]
        constraints = [
            # One open session per collector: their phone takes one call at a time.
            models.UniqueConstraint(fields=["collector"], condition=models.Q(status__in=["active", "paused"]),
                                    name="dial_session_one_open_per_collector"),
        ]
        indexes = [models.Index(fields=["status"], name="dial_session_status_idx")]

    def __str__(self) -> str:
        return f"连续外呼 #{self.pk} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_SESSION_STATUSES

    @property
    def total(self) -> int:
        return len(self.case_ids)

    @property
    def remaining(self) -> int:
        return max(0, len(self.case_ids) - self.position)


class EntryKind(models.TextChoices):
    DIALLED = "dialled", "已拨"
    REFUSED = "refused", "规则不允许，跳过"
    CASE_SKIPPED = "case_skipped", "业务员跳过"
    CASE_DONE = "case_done", "无可拨号码"


class SessionEntry(models.Model):
    """One step of a session: a number dialled, a number the compliance guard refused (with its rule and
    message, as the collector read it), or a case skipped."""

    session = models.ForeignKey(DialSession, on_delete=models.CASCADE, related_name="entries", verbose_name="连续外呼")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             verbose_name="委案")
    contact = models.ForeignKey("cases.CaseContact", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name="联系人")
    number = models.CharField("号码", max_length=32, blank=True)
    kind = models.CharField("类型", max_length=16, choices=EntryKind.choices)
    rule = models.CharField("规则", max_length=32, blank=True)
    message = models.CharField("说明", max_length=200, blank=True)
    call_uuid = models.CharField("呼叫标识", max_length=64, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "连续外呼记录"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.rule}".strip()
