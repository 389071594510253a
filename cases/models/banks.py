from __future__ import annotations

from django.conf import settings
from django.db import models


class Bank(models.Model):
    """A client (合作银行) that entrusts cases to the agency."""

    code = models.CharField("简码", max_length=16, unique=True,
                            help_text="大写字母或数字，例如 ZSYH；用于命令行导入")
    name = models.CharField("银行名称", max_length=64, unique=True)
    is_active = models.BooleanField("合作中", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "合作银行"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ClerkBankScope(models.Model):
    """C7: a clerk may handle this bank's cases. Set by system admins."""

    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bank_scopes",
                              verbose_name="内勤")
    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="clerk_scopes", verbose_name="银行")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="授权人")
    created_at = models.DateTimeField("授权时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "内勤负责银行"
        constraints = [models.UniqueConstraint(fields=["clerk", "bank"], name="clerk_bank_scope_unique")]

    def __str__(self) -> str:
        return f"{self.clerk} → {self.bank}"
