"""Users and their roles, branch companies, departments, and the append-only audit log.

This module sits at the bottom of the layering: it never imports `cases` or `realtime`.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class Role(models.TextChoices):
    CLERK = "clerk", "内勤"
    PHONE_COLLECTOR = "phone_collector", "电话催收业务员"
    FIELD_COLLECTOR = "field_collector", "现场催收业务员"
    MANAGER = "manager", "管理人员"
    SYSADMIN = "sysadmin", "系统管理员"


# Role → the boolean column that holds it. Booleans (not a role table) keep the scoping filters
# that run on every list a single indexed column each.
ROLE_FIELDS: dict[Role, str] = {
    Role.CLERK: "is_clerk",
    Role.PHONE_COLLECTOR: "is_phone_collector",
    Role.FIELD_COLLECTOR: "is_field_collector",
    Role.MANAGER: "is_manager",
    Role.SYSADMIN: "is_sysadmin",
}


class BranchCompany(models.Model):
    name = models.CharField("分公司", max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "分公司"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    branch = models.ForeignKey(BranchCompany, on_delete=models.PROTECT, related_name="departments",
                               verbose_name="分公司")
    name = models.CharField("部门", max_length=64)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "部门"
        ordering = ["branch__name", "name"]
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="department_unique_per_branch")]

    def __str__(self) -> str:
        return f"{self.branch.name} / {self.name}"


class AppUserManager(UserManager["User"]):
    def collectors(self) -> models.QuerySet[User]:
        return self.filter(models.Q(is_phone_collector=True) | models.Q(is_field_collector=True))


class User(AbstractUser):
    full_name = models.CharField("姓名", max_length=64, blank=True)
    phone = models.CharField("手机号码", max_length=20, blank=True)
    branch = models.ForeignKey(BranchCompany, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="staff", verbose_name="分公司")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="staff", verbose_name="部门")
    is_clerk = models.BooleanField("内勤", default=False, db_index=True)
    is_phone_collector = models.BooleanField("电话催收业务员", default=False, db_index=True)
    is_field_collector = models.BooleanField("现场催收业务员", default=False, db_index=True)
    is_manager = models.BooleanField("管理人员", default=False, db_index=True)
    is_sysadmin = models.BooleanField("系统管理员", default=False, db_index=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)
    # The collector's phone extension as Asterisk names it (e.g. "PJSIP/8001"); the dialer rings it.
    sip_endpoint = models.CharField("分机", max_length=64, blank=True, db_index=True,
                                    help_text="例如 PJSIP/8001；电话催收业务员的坐席分机")

    objects = AppUserManager()

    class Meta:
        verbose_name = verbose_name_plural = "用户"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def roles(self) -> list[Role]:
        return [role for role, field in ROLE_FIELDS.items() if getattr(self, field)]

    @property
    def role_labels(self) -> str:
        return "、".join(role.label for role in self.roles)

    def has_role(self, role: Role) -> bool:
        return bool(getattr(self, ROLE_FIELDS[role]))

    @property
    def is_collector(self) -> bool:
        return self.is_phone_collector or self.is_field_collector


class AuditAction(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出"
    IMPORT = "import", "导入"
    PERMISSION_CHANGE = "permission_change", "权限变更"
    USER_CHANGE = "user_change", "账号变更"
    EXPORT = "export", "导出"
    DOWNLOAD = "download", "下载"
    DELETE = "delete", "删除"
    VIEW_SENSITIVE = "view_sensitive", "查看敏感信息"
    # Calls (issue 13): a number typed instead of a listed one, the clerk's decision on it, a manager listening in.
    NUMBER_TYPED = "number_typed", "拨打手输号码"
    NUMBER_DECIDED = "number_decided", "处理业务员新号码"
    LISTEN_IN = "listen_in", "监听通话"
    # Pre-loan assessment (issue 8): collection-history look-ups (PIPL), reviews, overrides, scorecards.
    HISTORY_CHECK = "history_check", "查询催收历史"
    ASSESSMENT_REVIEW = "assessment_review", "评估复核"
    ASSESSMENT_OVERRIDE = "assessment_override", "推翻评估建议"
    SCORECARD_PUBLISH = "scorecard_publish", "发布评分卡"
    # Money (C5): every repayment recorded, every reversing correction, every bank repayment file confirmed.
    REPAYMENT = "repayment", "登记回款"
    REPAYMENT_REVERSAL = "repayment_reversal", "回款冲正"
    REPAYMENT_FILE = "repayment_file", "导入回款文件"
    # Returns (C9): a case handed back to the bank, and a mistaken return undone (reason required).
    CASE_RETURN = "case_return", "确认退案"
    CASE_RETURN_UNDO = "case_return_undo", "撤销退案"
    # Running the agency from its own pages (issue 15): master data, the yearly calendar, calling rules, blocked
    # numbers and moving a clerk's cases to another clerk.
    MASTER_DATA = "master_data", "基础资料变更"
    CALENDAR_CHANGE = "calendar_change", "节假日安排变更"
    CALL_RULES = "call_rules", "拨打规则变更"
    NUMBER_BLOCK = "number_block", "标记禁拨号码"
    NUMBER_UNBLOCK = "number_unblock", "撤销禁拨号码"
    CLERK_ALLOCATION = "clerk_allocation", "内勤调配"
    # Performance (issue 18): monthly targets, collector commission schemes, statements approved and locked.
    TARGET_SET = "target_set", "设置目标"
    COMMISSION_SCHEME = "commission_scheme", "提成方案"
    STATEMENT_APPROVE = "statement_approve", "审批提成表"
    # The caller-ID pool (issue 17): numbers added, rested, reactivated, and rested automatically.
    CALLER_NUMBER = "caller_number", "外显号码变更"


class AuditEntry(models.Model):
    """One line of the audit log. Rows are written once and never changed or deleted by the product."""

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name="操作人")
    # The name at the time, so the entry still reads right after the account is renamed or removed.
    actor_name = models.CharField("操作人姓名", max_length=150, blank=True)
    action = models.CharField("操作", max_length=32, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    summary = models.CharField("摘要", max_length=500)
    detail = models.JSONField("详情", default=dict, blank=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    user_agent = models.CharField("浏览器", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.summary}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("审计日志不可修改")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("审计日志不可删除")
