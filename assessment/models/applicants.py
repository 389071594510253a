"""Applicants (申请人): one loan application each, typed in or imported from Excel, with their documents."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models

from assessment.enums import ApplicantStatus, IntakeSource, Sex


class ApplicantImport(models.Model):
    """One Excel bulk intake. The same file (by SHA-256) cannot be imported twice for a bank by accident."""

    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, related_name="+", verbose_name="银行")
    filename = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64)
    row_count = models.PositiveIntegerField("人数")
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="导入人")
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "申请人导入"
        ordering = ["-imported_at"]
        constraints = [models.UniqueConstraint(fields=["bank", "sha256"], name="applicant_import_file_once")]

    def __str__(self) -> str:
        return f"{self.filename}（{self.row_count} 人）"


class Applicant(models.Model):
    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, related_name="applicants",
                             verbose_name="申请银行")
    name = models.CharField("姓名", max_length=64)
    id_number = models.CharField("证件号码", max_length=18)
    phone = models.CharField("手机号码", max_length=11)
    # Derived from the ID number at intake (GB 11643: birth date in digits 7–14, sex in digit 17).
    birth_date = models.DateField("出生日期")
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    employer = models.CharField("工作单位", max_length=128, blank=True)
    employment_years = models.DecimalField("工作年限（年）", max_digits=4, decimal_places=1, default=0)
    monthly_income = models.DecimalField("月收入", max_digits=14, decimal_places=2)
    total_debt = models.DecimalField("现有负债总额", max_digits=14, decimal_places=2, default=0)
    monthly_debt_payment = models.DecimalField("现有月还款额", max_digits=14, decimal_places=2, default=0)
    loan_amount = models.DecimalField("申请金额", max_digits=14, decimal_places=2)
    loan_term_months = models.PositiveSmallIntegerField("申请期限（月）")
    purpose = models.CharField("贷款用途", max_length=128, blank=True)
    collateral = models.CharField("抵押/担保", max_length=255, blank=True)
    overdue_records = models.PositiveSmallIntegerField("现有逾期记录（次）", default=0)

    status = models.CharField("状态", max_length=16, choices=ApplicantStatus.choices,
                              default=ApplicantStatus.PENDING)
    # The latest scoring; earlier ones stay in `assessments` and keep explaining themselves.
    current_assessment = models.ForeignKey("assessment.Assessment", on_delete=models.SET_NULL, null=True,
                                           blank=True, related_name="+", verbose_name="当前评分")
    source = models.CharField("来源", max_length=8, choices=IntakeSource.choices, default=IntakeSource.FORM)
    intake = models.ForeignKey(ApplicantImport, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="applicants", verbose_name="导入文件")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="录入人")
    created_at = models.DateTimeField("录入时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "申请人"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["id_number"], name="applicant_idnumber_idx"),
            models.Index(fields=["bank", "status"], name="applicant_bank_status_idx"),
            models.Index(fields=["name"], name="applicant_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(loan_amount__gt=0), name="applicant_loan_positive"),
            models.CheckConstraint(condition=models.Q(loan_term_months__gt=0), name="applicant_term_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.bank}）"


def applicant_document_path(instance: ApplicantDocument, filename: str) -> str:
    """assessment/<applicant id>/<uuid>.<detected extension>: never the uploader's file name."""
    suffix = PurePosixPath(filename).suffix.lower()
    return f"assessment/{instance.applicant_id}/{uuid.uuid4().hex}{suffix}"


class ApplicantDocument(models.Model):
    applicant = models.ForeignKey(Applicant, on_delete=models.PROTECT, related_name="documents",
                                  verbose_name="申请人")
    title = models.CharField("资料名称", max_length=64)
    original_name = models.CharField("原文件名", max_length=255)
    content_type = models.CharField("内容类型", max_length=100, help_text="按文件内容识别")
    type_label = models.CharField("格式", max_length=32)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    file = models.FileField("文件", upload_to=applicant_document_path, max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="上传人")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "申请资料"
        ordering = ["applicant", "id"]

    def __str__(self) -> str:
        return f"{self.title} {self.original_name}"
