"""Django admin: a read-only window for a superuser in an emergency, never a way around the product's pages.

Every write to the product's data goes through its own pages and actions (audit entry, timeline, report roll-ups
marked), so every model registered here is read-only (`ReadOnlyAdmin`): no add, no change, no delete, no bulk
delete. `lock_down()` (called from AccountsConfig.ready, once every app's admin module is loaded) removes the
registrations of third-party apps that would otherwise offer writes (groups, lockout records, 2FA devices: the
product has its own pages for those) and refuses to start when a writable admin was registered.

Must not import `cases` or `realtime`.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from accounts.models import ROLE_FIELDS, AuditEntry, BranchCompany, Department, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows and their fields; offers no way to add, change or delete one."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    """Accounts are kept on 账号管理 (ops:user-list): created, changed, reset and deactivated there, audited."""

    list_display = ("username", "full_name", "role_labels", "branch", "department", "is_active", "last_login")
    list_filter = ("is_active", *ROLE_FIELDS.values(), "branch", "department")
    search_fields = ("username", "full_name", "phone")
    exclude = ("password", "user_permissions", "groups")

    @admin.display(description="角色")
    def role_labels(self, obj: User) -> str:
        return obj.role_labels


@admin.register(BranchCompany)
class BranchCompanyAdmin(ReadOnlyAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "branch", "created_at")
    list_filter = ("branch",)
    search_fields = ("name",)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "action", "object_type", "object_id", "summary", "ip_address")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "summary", "object_id")
    date_hierarchy = "created_at"


# Third-party registrations that would write behind the product's back: Django's groups (roles are the
# is_* columns), django-axes' lockout records (deleting one unlocks an account unaudited) and django-otp's
# devices (the account page resets 2FA, audited).
_UNREGISTER = ("auth.Group", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog", "otp_totp.TOTPDevice")


def lock_down(site: admin.AdminSite) -> None:
    """Leave only read-only admins on `site`; raise ImproperlyConfigured if a writable one is registered."""
    site.disable_action("delete_selected")
    for model in list(site._registry):
        if model._meta.label in _UNREGISTER or model is Group:
            site.unregister(model)
    writable = [m._meta.label for m, a in site._registry.items()
                if not isinstance(a, ReadOnlyAdmin) or a.inlines and not all(
                    issubclass(i, ReadOnlyInline) for i in a.inlines)]
    if writable:
        raise ImproperlyConfigured(f"Django admin must stay read-only; writable registrations: {writable}")
