"""Import mappings (issue 19): how one bank's own spreadsheet layout is read into the standard template's
fields, saved per bank, named and versioned; and each upload of a bank file with the version it was imported by.

A version is never changed once saved: editing a mapping saves a new version, so a batch's version always says
how that batch was read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mappings.imports.fields import CASES, REPAYMENTS


class MappingKind(models.TextChoices):
    CASES = CASES, "委案文件"
    REPAYMENTS = REPAYMENTS, "回款文件"


class ImportMapping(models.Model):
    """One named layout of one bank's files (e.g. 招商银行信用卡委案清单)."""

    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, related_name="import_mappings",
                             verbose_name="银行")
    kind = models.CharField("文件类型", max_length=16, choices=MappingKind.choices, default=MappingKind.CASES)
    name = models.CharField("映射名称", max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="创建人")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "导入映射"
        ordering = ["bank", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["bank", "kind", "name"], name="mapping_name_unique_per_bank")]

    def __str__(self) -> str:
        return self.name


class MappingVersion(models.Model):
    """One saved state of a mapping: the file's headers it was made for and the column rules (JSON, see
    mappings.imports.spec.MappingSpec). Never edited after it is saved."""

    mapping = models.ForeignKey(ImportMapping, on_delete=models.CASCADE, related_name="versions",
                                verbose_name="映射")
    number = models.PositiveIntegerField("版本号")
    headers = models.JSONField("文件表头", default=list)
    header_rows = models.PositiveSmallIntegerField("表头行数", default=1)
    spec = models.JSONField("列的对应与规则", default=dict)
    note = models.CharField("修改说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="保存人")
    created_at = models.DateTimeField("保存时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "导入映射版本"
        ordering = ["mapping", "-number"]
        constraints = [models.UniqueConstraint(fields=["mapping", "number"], name="mapping_version_unique")]

    def __str__(self) -> str:
        return f"{self.mapping.name} 第 {self.number} 版"

    @property
    def label(self) -> str:
        return f"{self.mapping.name}（第 {self.number} 版）"


class UploadStatus(models.TextChoices):
    PENDING = "pending", "待确认"
    IMPORTED = "imported", "已导入"


class BankFileUpload(models.Model):
    """A bank file a clerk uploaded for import through a mapping: kept (private storage, by SHA-256) until it is
    imported, then it records the batch and the mapping version that read it."""

    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, related_name="+", verbose_name="银行")
    kind = models.CharField("文件类型", max_length=16, choices=MappingKind.choices, default=MappingKind.CASES)
    filename = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    stored_name = models.CharField("存储位置", max_length=255)
    size = models.PositiveBigIntegerField("大小（字节）", default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="上传人")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    status = models.CharField("状态", max_length=16, choices=UploadStatus.choices, default=UploadStatus.PENDING)
    version = models.ForeignKey(MappingVersion, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="uploads", verbose_name="导入所用映射版本",
                                help_text="为空表示按标准模板导入")
    batch = models.OneToOneField("cases.Batch", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="bank_file", verbose_name="导入的批次")
    imported_at = models.DateTimeField("导入时间", null=True, blank=True)
    result = models.CharField("结果", max_length=255, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "银行文件上传"
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.filename
