"""Django admin (emergency use, read-only): scorecard versions and their rows. Applicants and assessments
hold personal data and are reached only through the module's pages, so they are not registered here."""

from __future__ import annotations

from django.contrib import admin

from accounts.admin import ReadOnlyAdmin, ReadOnlyInline
from assessment.models import Bin, Characteristic, GradeRule, Scorecard, ScorecardVersion


class GradeInline(ReadOnlyInline):
    model = GradeRule


class CharacteristicInline(ReadOnlyInline):
    model = Characteristic


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyAdmin):
    list_display = ("bank", "name", "created_by", "created_at")


@admin.register(ScorecardVersion)
class ScorecardVersionAdmin(ReadOnlyAdmin):
    list_display = ("scorecard", "number", "status", "base_points", "published_at")
    list_filter = ("status",)
    inlines = (GradeInline, CharacteristicInline)


@admin.register(Bin)
class BinAdmin(ReadOnlyAdmin):
    list_display = ("characteristic", "position", "lower", "upper", "points")
