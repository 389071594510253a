"""Call records (P4, P6): typed by hand today, written by the dialer later through the same action.

Designed for the dialer now: the ARI channel id / call uuid is unique so a dialer retry writes the same
row twice at most once; `case` is nullable because an inbound call may match no case yet; timings are
separate columns (started, answered, ended) so a dialer can fill them as the call progresses.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cases.enums import CallDirection, CallResult, CallSource


class CallRecord(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="calls",
                             verbose_name="委案")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="call_records", verbose_name="业务员")
    direction = models.CharField("方向", max_length=8, choices=CallDirection.choices, default=CallDirection.OUTBOUND)
    number = models.CharField("号码", max_length=32)
    contact = models.ForeignKey("cases.CaseContact", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="calls", verbose_name="联系人")
    source = models.CharField("来源", max_length=8, choices=CallSource.choices, default=CallSource.MANUAL)
    started_at = models.DateTimeField("开始时间")
    answered_at = models.DateTimeField("接通时间", null=True, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    duration_s = models.PositiveIntegerField("通话时长（秒）", null=True, blank=True)
    hangup_cause = models.CharField("挂断原因", max_length=64, blank=True)
    result = models.CharField("结果", max_length=16, choices=CallResult.choices, blank=True)
    promise_date = models.DateField("承诺还款日期", null=True, blank=True)
    promise_amount = models.DecimalField("承诺还款金额", max_digits=14, decimal_places=2, null=True, blank=True)
    note = models.TextField("备注", blank=True)
    # A callback time agreed on the call (issue 16, from the call outcome form): the worklist app turns it into
    # its 约定回电 record, as it does with the promise above.
    callback_at = models.DateTimeField("约定回电时间", null=True, blank=True)
    recording = models.ForeignKey("cases.StoredFile", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name="录音")
    # The dialer's handle on the call (ARI channel id or its own call uuid): idempotent writes.
    # Our own number on the call (issue 17, 外显号码池): outbound, the caller ID the customer saw; inbound, the pool
    # number the customer dialled (a call back to that number). "" for manual records and calls before the pool.
    caller_id = models.CharField("外显号码", max_length=32, blank=True, default="")
    call_uuid = models.CharField("呼叫标识", max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField("记录时间", auto_now_add=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="删除人")
    delete_reason = models.CharField("删除原因", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "电话记录"
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["case", "started_at"], name="call_case_started_idx"),
            models.Index(fields=["collector", "started_at"], name="call_collector_started_idx"),
            # The dashboard's calls per hour (issue 18): one day of every collector's calls.
            models.Index(fields=["started_at"], name="call_started_idx"),
            # A pool number's calls on the caller-ID page (issue 17).
            models.Index(fields=["caller_id", "started_at"], name="call_caller_id_started_idx"),
            # Progress figures ask per case "is there a live call (a promise)?": a probe into this small partial
            # index answers from the index alone (the batch drill-down: 5,000 cases in ~10 ms, not a scan of
            # every call).
            models.Index(fields=["case", "result"], name="call_live_case_idx", condition=models.Q(deleted_at=None)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(result="promise") | (models.Q(promise_date__isnull=False)
                                                         & models.Q(promise_amount__gt=0)),
                name="call_promise_has_date_and_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.number} {self.get_result_display()}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def source_label(self) -> str:
        """How the call came about: 系统拨号 (placed by the dialer), 系统来电 (taken by it), 手工记录."""
        if self.source == CallSource.DIALER and self.direction == CallDirection.INBOUND:
            return "系统来电"
        return self.get_source_display()

    @property
    def party_label(self) -> str:
        """Who was on the other end: the contact's relation, 本人 for the debtor's own mobile, else "—"."""
        if self.contact_id and self.contact is not None:
            return self.contact.relation or "联系人"
        case = self.case if self.case_id else None
        if case is not None and case.mobile and self.number:
            from cases.validators import phone_key

            if phone_key(case.mobile) == phone_key(self.number):
                return "本人"
        return "—"
