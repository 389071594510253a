"""Django admin (emergency use, read-only): scorecard versions and their rows. Applicants and assessments
hold personal data and are reached only through the module's pages, so they are not registered here."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from assessment.models import Bin, Characteristic, GradeRule, Scorecard, ScorecardVersion


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class GradeInline(admin.TabularInline):
    model = GradeRule
    extra = 0
    can_delete = False


class CharacteristicInline(admin.TabularInline):
    model = Characteristic
    extra = 0
    can_delete = False


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnly):
    list_display = ("bank", "name", "created_by", "created_at")


@admin.register(ScorecardVersion)
class ScorecardVersionAdmin(ReadOnly):
    list_display = ("scorecard", "number", "status", "base_points", "published_at")
    list_filter = ("status",)
    inlines = (GradeInline, CharacteristicInline)


@admin.register(Bin)
class BinAdmin(ReadOnly):
    list_display = ("characteristic", "position", "lower", "upper", "points")
