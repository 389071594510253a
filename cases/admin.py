"""Django admin for the case domain: read-only (see accounts/admin.py). Banks, clerk scopes, the holiday calendar,
calling rules and blocked numbers are kept on the product's own pages, where each change is checked and audited;
cases change only through their actions (repayments, assignments, returns), which keep the timeline and the report
roll-ups right."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from cases.models import (
    Bank,
    Batch,
    BlockedNumber,
    CallPolicy,
    CallRefusal,
    Case,
    ClerkBankScope,
    HolidayArrangement,
)


@admin.register(Bank)
class BankAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "is_active", "created_at")
    search_fields = ("code", "name")


@admin.register(ClerkBankScope)
class ClerkBankScopeAdmin(ReadOnlyAdmin):
    list_display = ("clerk", "bank", "granted_by", "created_at")
    list_filter = ("bank",)
    search_fields = ("clerk__username", "clerk__full_name")


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ("batch_no", "bank", "product_type", "case_count", "total_amount", "imported_by", "imported_at")
    list_filter = ("bank", "product_type")
    search_fields = ("batch_no",)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("case_no", "debtor_name", "bank", "batch", "entrusted_amount", "status", "collector")
    list_filter = ("status", "bank", "product_type")
    search_fields = ("case_no", "debtor_name")
    list_select_related = ("bank", "batch", "collector")
    show_full_result_count = False  # a million rows: no COUNT(*) on every admin page


@admin.register(HolidayArrangement)
class HolidayArrangementAdmin(ReadOnlyAdmin):
    list_display = ("date", "is_workday", "name", "updated_at")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("name",)


@admin.register(CallPolicy)
class CallPolicyAdmin(ReadOnlyAdmin):
    list_display = ("bank", "window_start", "window_end", "max_answered_per_debtor", "max_unanswered_per_number")


@admin.register(BlockedNumber)
class BlockedNumberAdmin(ReadOnlyAdmin):
    list_display = ("number", "reason", "note", "created_by", "created_at")
    search_fields = ("number",)
    list_filter = ("reason",)


@admin.register(CallRefusal)
class CallRefusalAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "collector", "case", "number", "rule", "message")
    list_filter = ("rule",)
