"""Monthly targets (issue 18 item 2): a repayment target (and optionally a contact target) per collector,
department or branch company for one calendar month, set by managers."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TargetScope(models.TextChoices):
    COLLECTOR = "collector", "业务员"
    DEPARTMENT = "department", "部门"
    BRANCH = "branch", "分公司"


class Target(models.Model):
    month = models.DateField("月份", help_text="当月 1 日")
    scope = models.CharField("对象类型", max_length=16, choices=TargetScope.choices)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="+", verbose_name="业务员")
    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="+", verbose_name="部门")
    branch = models.ForeignKey("accounts.BranchCompany", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+", verbose_name="分公司")
    repayment_target = models.DecimalField("回款目标（元）", max_digits=16, decimal_places=2)
    contact_target = models.PositiveIntegerField("接通目标（次）", null=True, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name="设置人")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "月度目标"
        constraints = [
            models.CheckConstraint(condition=models.Q(repayment_target__gte=0), name="target_not_negative"),
            models.CheckConstraint(
                condition=(models.Q(scope="collector", collector__isnull=False, department__isnull=True,
                                    branch__isnull=True)
                           | models.Q(scope="department", collector__isnull=True, department__isnull=False,
                                      branch__isnull=True)
                           | models.Q(scope="branch", collector__isnull=True, department__isnull=True,
                                      branch__isnull=False)),
                name="target_one_subject"),
            models.UniqueConstraint(fields=["month", "collector"], condition=models.Q(scope="collector"),
                                    name="target_unique_collector"),
            models.UniqueConstraint(fields=["month", "department"], condition=models.Q(scope="department"),
                                    name="target_unique_department"),
            models.UniqueConstraint(fields=["month", "branch"], condition=models.Q(scope="branch"),
                                    name="target_unique_branch"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.get_scope_display()} {self.repayment_target}"
