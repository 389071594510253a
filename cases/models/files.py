"""Stored files of a case (photos, signed visit forms, recordings, attachments).

The bytes live in the private storage under MEDIA_ROOT (no public URL: views stream them after
`cases.policies.access_case`); the row keeps what was checked at upload (detected type, size, SHA-256).
A deletion (C15) removes the bytes but keeps the row as a marker, so the timeline can say what was
deleted, by whom and why.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models

from cases.enums import FileKind


def stored_file_path(instance: StoredFile, filename: str) -> str:
    """cases/<case id>/<uuid>.<detected extension>: never the uploader's name, which can be anything."""
    suffix = PurePosixPath(filename).suffix.lower()
    folder = f"cases/{instance.case_id}" if instance.case_id else "unmatched"
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


class StoredFile(models.Model):
    # Nullable for one reason: an inbound call's recording that matches no case yet (P6) is stored
    # before a collector matches it. Every file uploaded from a case page has its case.
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="files",
                             verbose_name="委案")
    # A file belongs to at most one visit, so a foreign key from the file (not a many-to-many): the zip
    # and the timeline fetch a case's files in one query, and deleting a visit finds its files directly.
    visit = models.ForeignKey("cases.VisitRecord", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="files", verbose_name="外访记录")
    kind = models.CharField("类别", max_length=16, choices=FileKind.choices)
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("内容类型", max_length=100, help_text="按文件内容识别，不取浏览器提供的类型")
    type_label = models.CharField("格式", max_length=32, blank=True)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    file = models.FileField("文件", upload_to=stored_file_path, max_length=255, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="上传人")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="删除人")
    delete_reason = models.CharField("删除原因", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "委案文件"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "kind", "created_at"], name="stored_file_case_kind_idx")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_audio(self) -> bool:
        return self.content_type.startswith("audio/")

    @property
    def is_browser_image(self) -> bool:
        """JPEG and PNG show in an <img>; HEIC does not in most browsers, so it is offered as a download."""
        return self.content_type in ("image/jpeg", "image/png")
