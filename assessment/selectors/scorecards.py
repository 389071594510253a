"""Reads of scorecards: lists, a version with its rows, and a version as a pure `CardSpec` for scoring."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from assessment.enums import VersionStatus
from assessment.models import Bin, Characteristic, GradeRule, Scorecard, ScorecardVersion
from assessment.scoring import BinSpec, CardSpec, CharacteristicSpec, GradeSpec
from cases.models import Bank


def scorecard_list(*, scorecards: QuerySet[Scorecard]) -> list[Scorecard]:
    """Scorecards with their published and draft versions attached as `.published` and `.draft`."""
    cards = list(scorecards.select_related("bank").prefetch_related(
        Prefetch("versions", queryset=ScorecardVersion.objects.order_by("-number"))).order_by("bank__code"))
    for card in cards:
        versions = list(card.versions.all())
        card.published = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)  # type: ignore[attr-defined]
        card.draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)  # type: ignore[attr-defined]
        card.version_count = len(versions)  # type: ignore[attr-defined]
    return cards


def version_rows(*, version: ScorecardVersion) -> ScorecardVersion:
    """`version` with `.chars` (each with `.bin_list`) and `.grade_list` loaded in three queries."""
    chars = list(Characteristic.objects.filter(version=version).prefetch_related(
        Prefetch("bins", queryset=Bin.objects.order_by("position", "id"))).order_by("position", "id"))
    for char in chars:
        char.bin_list = list(char.bins.all())  # type: ignore[attr-defined]
    version.chars = chars  # type: ignore[attr-defined]
    version.grade_list = list(GradeRule.objects.filter(version=version).order_by("grade"))  # type: ignore[attr-defined]
    return version


def card_spec(*, version: ScorecardVersion) -> CardSpec:
    version = version_rows(version=version)
    return CardSpec(
        base_points=version.base_points, income_multiple=version.income_multiple,
        characteristics=tuple(
            CharacteristicSpec(kind=c.kind, edge_rule=c.edge_rule, missing_points=c.missing_points,
                               bins=tuple(BinSpec(b.lower, b.upper, b.points) for b in c.bin_list))
            for c in version.chars  # type: ignore[attr-defined]
        ),
        grades=tuple(GradeSpec(g.grade, g.min_points, g.decision, g.limit_percent)
                     for g in version.grade_list),  # type: ignore[attr-defined]
    )


def published_version_for_bank(*, bank: Bank) -> ScorecardVersion | None:
    return (ScorecardVersion.objects.filter(scorecard__bank=bank, status=VersionStatus.PUBLISHED)
            .select_related("scorecard").first())


def version_list(*, scorecard: Scorecard) -> QuerySet[ScorecardVersion]:
    return scorecard.versions.select_related("created_by", "published_by").order_by("-number")
