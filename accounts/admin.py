"""Django admin for system admins (emergency and, until the account pages exist, day-to-day)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from accounts.actions import audit_record
from accounts.models import ROLE_FIELDS, AuditAction, AuditEntry, BranchCompany, Department, User

_TRACKED = [*ROLE_FIELDS.values(), "is_active", "is_staff", "is_superuser", "branch_id", "department_id"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "role_labels", "branch", "department", "is_active", "last_login")
    list_filter = ("is_active", *ROLE_FIELDS.values(), "branch", "department")
    search_fields = ("username", "full_name", "phone")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("full_name", "phone", "email")}),
        ("组织", {"fields": ("branch", "department")}),
        ("角色", {"fields": tuple(ROLE_FIELDS.values())}),
        ("状态", {"fields": ("is_active", "must_change_password", "is_staff", "is_superuser")}),
        ("时间", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "password1", "password2")}),
        ("组织", {"fields": ("branch", "department")}),
        ("角色", {"fields": tuple(ROLE_FIELDS.values())}),
    )
    readonly_fields = ("last_login", "date_joined")

    @admin.display(description="角色")
    def role_labels(self, obj: User) -> str:
        return obj.role_labels

    def save_model(self, request: HttpRequest, obj: User, form: object, change: bool) -> None:
        before = {}
        if change:
            old = User.objects.get(pk=obj.pk)
            before = {f: getattr(old, f) for f in _TRACKED}
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]
        after = {f: getattr(obj, f) for f in _TRACKED}
        changed = {f: {"before": before.get(f), "after": after[f]} for f in _TRACKED if before.get(f) != after[f]}
        if change and not changed:
            return
        audit_record(
            actor=request.user if isinstance(request.user, User) else None,
            action=AuditAction.PERMISSION_CHANGE if change else AuditAction.USER_CHANGE,
            summary=f"{'修改' if change else '创建'}账号 {obj.username} 的角色与组织",
            object_type="user", object_id=obj.pk, detail={"changes": changed}, request=request,
        )


@admin.register(BranchCompany)
class BranchCompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "branch", "created_at")
    list_filter = ("branch",)
    search_fields = ("name",)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_name", "action", "object_type", "object_id", "summary", "ip_address")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "summary", "object_id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
