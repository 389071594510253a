"""Django admin for banks, clerk bank scopes (audited), batches and cases (read-mostly)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases.models import Bank, Batch, Case, ClerkBankScope, HolidayArrangement


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "created_at")
    search_fields = ("code", "name")


@admin.register(ClerkBankScope)
class ClerkBankScopeAdmin(admin.ModelAdmin):
    """C7: which banks each clerk handles. Every grant and withdrawal is audited."""

    list_display = ("clerk", "bank", "granted_by", "created_at")
    list_filter = ("bank",)
    search_fields = ("clerk__username", "clerk__full_name")
    autocomplete_fields = ("clerk",)
    readonly_fields = ("granted_by", "created_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "clerk":
            kwargs["queryset"] = User.objects.filter(is_clerk=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ClerkBankScope, form: object, change: bool) -> None:
        obj.granted_by = _actor(request)
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]
        audit_record(actor=_actor(request), action=AuditAction.PERMISSION_CHANGE,
                     summary=f"授权内勤 {obj.clerk} 负责银行 {obj.bank}", object_type="clerk_bank_scope",
                     object_id=obj.pk, detail={"clerk_id": obj.clerk_id, "bank_id": obj.bank_id}, request=request)

    def delete_model(self, request: HttpRequest, obj: ClerkBankScope) -> None:
        audit_record(actor=_actor(request), action=AuditAction.PERMISSION_CHANGE,
                     summary=f"取消内勤 {obj.clerk} 负责银行 {obj.bank}", object_type="clerk_bank_scope",
                     object_id=obj.pk, detail={"clerk_id": obj.clerk_id, "bank_id": obj.bank_id}, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ClerkBankScope]) -> None:
        for obj in queryset.select_related("clerk", "bank"):
            self.delete_model(request, obj)


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ("batch_no", "bank", "product_type", "case_count", "total_amount", "imported_by", "imported_at")
    list_filter = ("bank", "product_type")
    search_fields = ("batch_no",)
    readonly_fields = [f.name for f in Batch._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ("case_no", "debtor_name", "bank", "batch", "entrusted_amount", "status", "collector")
    list_filter = ("status", "bank", "product_type")
    search_fields = ("case_no", "debtor_name", "id_number")
    raw_id_fields = ("batch", "owner_clerk", "collector", "previous_case")
    list_select_related = ("bank", "batch", "collector")
    show_full_result_count = False  # a million rows: no COUNT(*) on every admin page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(HolidayArrangement)
class HolidayArrangementAdmin(admin.ModelAdmin):
    """P3: the State Council's holiday arrangement for years the chinese-calendar package does not know yet.

    Enter every statutory holiday (不勾选“是否工作日”) and every adjusted working weekend day (勾选) of the year.
    Changes are audited.
    """

    list_display = ("date", "is_workday", "name", "updated_at")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: HolidayArrangement, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]
        audit_record(actor=_actor(request), action=AuditAction.USER_CHANGE,
                     summary=f"节假日安排：{obj.date} {'上班' if obj.is_workday else '休息'} {obj.name}".strip(),
                     object_type="holiday_arrangement", object_id=obj.pk,
                     detail={"date": obj.date.isoformat(), "is_workday": obj.is_workday}, request=request)

    def delete_model(self, request: HttpRequest, obj: HolidayArrangement) -> None:
        audit_record(actor=_actor(request), action=AuditAction.DELETE, summary=f"删除节假日安排：{obj.date}",
                     object_type="holiday_arrangement", object_id=obj.pk, request=request)
        super().delete_model(request, obj)


# --- Dialer (issue 5): per-bank calling policy and blocked numbers, edited by system admins here. -------------
from cases.models import BlockedNumber, CallPolicy, CallRefusal  # noqa: E402


@admin.register(CallPolicy)
class CallPolicyAdmin(admin.ModelAdmin):
    list_display = ("bank", "window_start", "window_end", "max_answered_per_debtor", "max_unanswered_per_number")


@admin.register(BlockedNumber)
class BlockedNumberAdmin(admin.ModelAdmin):
    list_display = ("number", "reason", "note", "created_by", "created_at")
    search_fields = ("number",)
    list_filter = ("reason",)

    def save_model(self, request: HttpRequest, obj: BlockedNumber, form: object, change: bool) -> None:
        if not change and isinstance(request.user, User):
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CallRefusal)
class CallRefusalAdmin(admin.ModelAdmin):
    list_display = ("created_at", "collector", "case", "number", "rule", "message")
    list_filter = ("rule",)
    readonly_fields = ("created_at", "collector", "case", "number", "rule", "message")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
