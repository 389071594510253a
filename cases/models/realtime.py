"""Stored per-user events (the outbox behind R1): what a user must not miss is written here before it is sent.

The row id is the sequence number the browser remembers; on reconnect it asks for everything after it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UserEvent(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name="用户")
    type = models.CharField("事件类型", max_length=64)
    payload = models.JSONField("内容", default=dict)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "用户事件"
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "id"], name="userevent_user_seq_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type} → {self.user_id}"
