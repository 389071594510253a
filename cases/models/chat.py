"""Document requests (C8, P9, R3): a collector asks the case's clerk for customer documents; the two talk in
a chat attached to the request, with file attachments and read receipts.

Must not import `realtime` or views.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DocumentRequestStatus(models.TextChoices):
    OPEN = "open", "待答复"
    ANSWERED = "answered", "已答复"
    CLOSED = "closed", "已关闭"


class RequestedInfo(models.TextChoices):
    """P9: which customer information the collector needs (checkboxes on the form)."""

    ID_COPY = "id_copy", "身份证复印件"
    LOAN_CONTRACT = "loan_contract", "借款合同"
    REPAYMENT_DETAIL = "repayment_detail", "还款明细"
    CALL_LIST = "call_list", "通话清单"
    ADDRESS = "address", "住址信息"
    EMPLOYER = "employer", "单位信息"
    OTHER = "other", "其他"


class DocumentRequest(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="document_requests",
                             verbose_name="委案")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name="申请业务员")
    # The case's owner clerk when the request was opened (C6); see `assignment_note` for the fallback.
    assigned_clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                       verbose_name="负责内勤")
    assignment_note = models.CharField("分派说明", max_length=200, blank=True,
                                       help_text="委案没有（在职的）负责内勤时，说明转给了谁、为什么")
    # RequestedInfo values, in the order of the choices.
    items = models.JSONField("所需资料", default=list)
    items_other = models.CharField("其他资料说明", max_length=200, blank=True)
    reason = models.TextField("用途说明", max_length=1000)
    status = models.CharField("状态", max_length=16, choices=DocumentRequestStatus.choices,
                              default=DocumentRequestStatus.OPEN)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    last_message_at = models.DateTimeField("最近消息时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "资料请求"
        ordering = ["-id"]
        indexes = [
            # The clerk's inbox: own requests not closed, oldest first.
            models.Index(fields=["assigned_clerk", "status", "created_at"], name="docreq_clerk_inbox_idx"),
            models.Index(fields=["requested_by", "status"], name="docreq_requester_idx"),
            models.Index(fields=["status", "created_at"], name="docreq_status_age_idx"),
        ]

    def __str__(self) -> str:
        return f"资料请求 #{self.pk}"

    @property
    def item_labels(self) -> list[str]:
        labels = dict(RequestedInfo.choices)
        out = [str(labels.get(code, code)) for code in self.items if code != RequestedInfo.OTHER]
        if RequestedInfo.OTHER in self.items:
            out.append(f"其他：{self.items_other}" if self.items_other else "其他")
        return out

    @property
    def is_closed(self) -> bool:
        return self.status == DocumentRequestStatus.CLOSED


class ChatMessage(models.Model):
    request = models.ForeignKey(DocumentRequest, on_delete=models.CASCADE, related_name="messages",
                                verbose_name="资料请求")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name="发送人")
    text = models.TextField("内容", max_length=2000, blank=True)
    attachment = models.ForeignKey("cases.StoredFile", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="附件")
    created_at = models.DateTimeField("发送时间", auto_now_add=True)
    # Chosen by the browser per message: a retry after a dropped connection sends the same id and gets
    # the stored message back instead of a duplicate.
    client_msg_id = models.CharField("客户端消息编号", max_length=64, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "资料请求消息"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["author", "client_msg_id"], condition=~models.Q(client_msg_id=""),
                                    name="chatmessage_client_id_unique_per_author"),
            models.CheckConstraint(condition=~models.Q(text="") | models.Q(attachment__isnull=False),
                                   name="chatmessage_text_or_attachment"),
        ]
        indexes = [models.Index(fields=["request", "id"], name="chatmessage_request_seq_idx")]

    def __str__(self) -> str:
        return f"消息 #{self.pk}"


class ChatReadState(models.Model):
    """How far one participant has read a request's chat (read receipts and unread counts)."""

    request = models.ForeignKey(DocumentRequest, on_delete=models.CASCADE, related_name="read_states",
                                verbose_name="资料请求")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name="用户")
    last_read_message_id = models.PositiveBigIntegerField("已读到消息", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "资料请求已读状态"
        constraints = [models.UniqueConstraint(fields=["request", "user"], name="chatreadstate_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} 已读 #{self.request_id} 至 {self.last_read_message_id}"
