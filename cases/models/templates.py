"""Per-bank templates (P11): forms and letters clerks upload for collectors to download."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models

from cases.enums import TemplateKind


def bank_template_path(instance: BankTemplate, filename: str) -> str:
    return f"templates/{instance.bank_id}/{uuid.uuid4().hex}{PurePosixPath(filename).suffix.lower()}"


class BankTemplate(models.Model):
    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, related_name="templates", verbose_name="银行")
    title = models.CharField("标题", max_length=100)
    kind = models.CharField("格式", max_length=8, choices=TemplateKind.choices, help_text="按文件内容识别")
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("内容类型", max_length=100)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    file = models.FileField("文件", upload_to=bank_template_path, max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="上传人")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "银行模板"
        ordering = ["bank__code", "title", "-created_at"]

    def __str__(self) -> str:
        return f"{self.bank} {self.title}"
