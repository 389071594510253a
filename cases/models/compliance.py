"""Calling rules (issue 5 compliance guard): per-bank calling window and caps, blocked numbers, refusals.

The dialer reads these through dialer/domain.py before every originate; a refusal is logged here so
managers see refusals per collector. Numbers the collector typed are offered to the owner clerk as a
NumberSuggestion. Models stay thin: the rules themselves live in dialer/compliance.py (pure).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

# The law's outer bounds (never wider than 08:00–22:00) and the product default (08:00–21:00).
WINDOW_EARLIEST = dt.time(8, 0)
WINDOW_LATEST = dt.time(22, 0)
DEFAULT_WINDOW_START = dt.time(8, 0)
DEFAULT_WINDOW_END = dt.time(21, 0)
DEFAULT_MAX_ANSWERED_PER_DEBTOR = 3
DEFAULT_MAX_UNANSWERED_PER_NUMBER = 6
# Third parties (配偶, 亲属, 同事, 朋友…, issue 17): only after the debtor's own numbers went unanswered N times that
# day, and at most M answered third-party calls per case per day (the industry's self-regulation: a third party is a
# way to reach the debtor, not someone to press).
DEFAULT_THIRD_PARTY_AFTER_UNANSWERED = 3
DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE = 1


class CallPolicy(models.Model):
    bank = models.OneToOneField("cases.Bank", on_delete=models.CASCADE, related_name="call_policy",
                                verbose_name="银行")
    window_start = models.TimeField("允许拨打开始", default=DEFAULT_WINDOW_START)
    window_end = models.TimeField("允许拨打结束", default=DEFAULT_WINDOW_END)
    max_answered_per_debtor = models.PositiveSmallIntegerField("每名债务人每日接通上限",
                                                               default=DEFAULT_MAX_ANSWERED_PER_DEBTOR)
    max_unanswered_per_number = models.PositiveSmallIntegerField("每个号码每日未接通上限",
                                                                 default=DEFAULT_MAX_UNANSWERED_PER_NUMBER)
    third_party_after_unanswered = models.PositiveSmallIntegerField(
        "本人号码未接通几次后可联系第三方", default=DEFAULT_THIRD_PARTY_AFTER_UNANSWERED)
    max_third_party_answered_per_case = models.PositiveSmallIntegerField(
        "每个委案每日第三方接通上限", default=DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE)

    class Meta:
        verbose_name = verbose_name_plural = "拨打规则"
        constraints = [
            models.CheckConstraint(condition=models.Q(window_start__gte=WINDOW_EARLIEST,
                                                      window_end__lte=WINDOW_LATEST,
                                                      window_start__lt=models.F("window_end")),
                                   name="callpolicy_window_within_0800_2200"),
        ]

    def __str__(self) -> str:
        return f"{self.bank_id} {self.window_start:%H:%M}–{self.window_end:%H:%M}"

    def clean(self) -> None:
        if self.window_start < WINDOW_EARLIEST or self.window_end > WINDOW_LATEST:
            raise ValidationError("拨打时段不得早于 08:00 或晚于 22:00")
        if self.window_start >= self.window_end:
            raise ValidationError("拨打时段的开始必须早于结束")


class BlockedNumberReason(models.TextChoices):
    EMPTY = "empty", "空号"
    SUSPENDED = "suspended", "停机"
    DO_NOT_CALL = "do_not_call", "本人要求勿扰"
    WRONG_PERSON = "wrong_person", "非本人"
    # A third party (spouse, colleague…) who said not to call them again (issue 17).
    CONTACT_REFUSED = "contact_refused", "拒绝联系"


class BlockedNumber(models.Model):
    """A number nobody may dial (issue 5, 15): marked from a case's dial list with a reason, in force at once, and
    lifted (never deleted) by the case's owner clerk or a manager, so the history of a number stays readable."""

    number = models.CharField("号码", max_length=32, db_index=True)
    reason = models.CharField("原因", max_length=16, choices=BlockedNumberReason.choices)
    note = models.CharField("说明", max_length=200, blank=True)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name="标记时的委案")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="标记人")
    created_at = models.DateTimeField("标记时间", auto_now_add=True)
    lifted_at = models.DateTimeField("撤销时间", null=True, blank=True)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name="撤销人")
    lift_reason = models.CharField("撤销原因", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "禁拨号码"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], condition=models.Q(lifted_at__isnull=True),
                                    name="blockednumber_one_active_per_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_reason_display()}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class RefusalRule(models.TextChoices):
    WINDOW = "window", "不在允许拨打时段"
    ANSWERED_CAP = "answered_cap", "债务人当日接通次数已达上限"
    UNANSWERED_CAP = "unanswered_cap", "号码当日未接通次数已达上限"
    EMPTY_NUMBER = "empty", "空号"
    SUSPENDED = "suspended", "停机"
    DO_NOT_CALL = "do_not_call", "号码已标记勿扰"
    WRONG_PERSON = "wrong_person", "非本人号码"
    NOT_CONNECTED = "not_connected", "呼叫系统未连接"
    PHONE_OFFLINE = "phone_offline", "业务员话机不在线"
    LINES_BUSY = "lines_busy", "外线全忙"
    NO_EXTENSION = "no_extension", "业务员未设置分机"
    COLLECTOR_BUSY = "collector_busy", "业务员正在通话"
    # The third-party contact rule (issue 17).
    CONTACT_REFUSED = "contact_refused", "联系人拒绝联系"
    THIRD_PARTY_WAIT = "third_party_wait", "本人号码未接通次数不足，暂不能联系第三方"
    THIRD_PARTY_CAP = "third_party_cap", "第三方当日接通次数已达上限"
    # The caller-ID pool (issue 17): every usable number has used up its daily attempts.
    CALLER_ID_FULL = "caller_id_full", "外显号码当日额度已用完"


class CallRefusal(models.Model):
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="call_refusals",
                                  verbose_name="业务员")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             verbose_name="委案")
    number = models.CharField("号码", max_length=32)
    rule = models.CharField("规则", max_length=16, choices=RefusalRule.choices)
    message = models.CharField("提示", max_length=200)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "拒绝拨打记录"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["collector", "created_at"], name="refusal_collector_at_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.number} {self.get_rule_display()}"


class NumberSuggestionStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    ACCEPTED = "accepted", "已添加"
    DECLINED = "declined", "已忽略"


class NumberSuggestion(models.Model):
    """A number a collector edited or typed before dialling, offered to the owner clerk to add to the case."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="number_suggestions",
                             verbose_name="委案")
    number = models.CharField("号码", max_length=32)
    based_on = models.ForeignKey("cases.CaseContact", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name="原号码")
    suggested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name="业务员")
    status = models.CharField("状态", max_length=16, choices=NumberSuggestionStatus.choices,
                              default=NumberSuggestionStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="处理人")
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "待添加号码"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], condition=models.Q(status="pending"),
                                    name="numbersuggestion_one_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.number} {self.get_status_display()}"


class PendingRecording(models.Model):
    """A call's recording still on Asterisk: written with the call record, deleted once stored here.

    Survives restarts, so a failed download is retried (the scheduler asks the dialer) until stored.
    """

    call = models.OneToOneField("cases.CallRecord", on_delete=models.CASCADE, related_name="+",
                                verbose_name="电话记录")
    name = models.CharField("录音名", max_length=128, unique=True)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    last_error = models.CharField("最近错误", max_length=300, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "待取回录音"

    def __str__(self) -> str:
        return self.name


# The outer bounds a bank's calling rules may not exceed (the national limits the agency works under, besides the
# 08:00–22:00 window above); a manager sets each bank's rules inside them on 拨打规则.
LIMIT_MAX_ANSWERED_PER_DEBTOR = 3
LIMIT_MAX_UNANSWERED_PER_NUMBER = 10
LIMIT_MAX_THIRD_PARTY_ANSWERED_PER_CASE = 3
LIMIT_THIRD_PARTY_AFTER_UNANSWERED = 10
