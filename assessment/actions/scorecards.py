"""Scorecard definition: create, edit a draft, publish, start a new version. Managers only (policies).

Published and retired versions are never written again: every change goes into a draft, and publishing
the draft retires the version before it. Must not import views or `realtime`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from assessment.defaults import DEFAULT_CARD
from assessment.enums import VersionStatus
from assessment.exceptions import DraftExistsError, ScorecardInvalidError, VersionNotEditableError
from assessment.models import Bin, Characteristic, GradeRule, Scorecard, ScorecardVersion
from assessment.scoring import BinSpec, CardSpec, GradeSpec, check_bins, check_card
from assessment.selectors.scorecards import card_spec
from cases.models import Bank

if TYPE_CHECKING:
    from django.http import HttpRequest


def _write_card(version: ScorecardVersion, card: CardSpec) -> None:
    for position, spec in enumerate(card.characteristics):
        char = Characteristic.objects.create(version=version, kind=spec.kind, position=position,
                                             edge_rule=spec.edge_rule, missing_points=spec.missing_points)
        Bin.objects.bulk_create(Bin(characteristic=char, position=i, lower=b.lower, upper=b.upper, points=b.points)
                                for i, b in enumerate(spec.bins))
    GradeRule.objects.bulk_create(GradeRule(version=version, grade=g.grade, min_points=g.min_points,
                                            decision=g.decision, limit_percent=g.limit_percent)
                                  for g in card.grades)


@transaction.atomic
def scorecard_create(*, bank: Bank, name: str, by: User) -> ScorecardVersion:
    """A new scorecard for `bank` with draft version 1, filled with the default characteristics to adjust.

    Emits: nothing. Raises: django IntegrityError if the bank already has one (the form checks first).
    """
    scorecard = Scorecard.objects.create(bank=bank, name=name, created_by=by)
    version = ScorecardVersion.objects.create(scorecard=scorecard, number=1, base_points=DEFAULT_CARD.base_points,
                                              income_multiple=DEFAULT_CARD.income_multiple, created_by=by,
                                              note="初始版本（系统默认特征，可修改）")
    _write_card(version, DEFAULT_CARD)
    return version


@transaction.atomic
def scorecard_version_new_draft(*, scorecard: Scorecard, by: User, note: str = "") -> ScorecardVersion:
    """A draft copy of the latest version, numbered next, to edit without touching what scores used.

    Emits: nothing. Raises: DraftExistsError when a draft already exists.
    """
    Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    draft = scorecard.versions.filter(status=VersionStatus.DRAFT).first()
    if draft is not None:
        raise DraftExistsError(draft.number)
    latest = scorecard.versions.order_by("-number").first()
    assert latest is not None
    card = card_spec(version=latest)
    version = ScorecardVersion.objects.create(scorecard=scorecard, number=latest.number + 1,
                                              base_points=card.base_points, income_multiple=card.income_multiple,
                                              created_by=by, note=note[:255])
    _write_card(version, card)
    return version


def _editable(version: ScorecardVersion) -> None:
    fresh = ScorecardVersion.objects.select_for_update().get(pk=version.pk)
    if fresh.status != VersionStatus.DRAFT:
        raise VersionNotEditableError(fresh.number, fresh.get_status_display())


@transaction.atomic
def scorecard_version_update(*, version: ScorecardVersion, base_points: int, income_multiple: Decimal,
                             grades: Sequence[GradeSpec], note: str, by: User) -> ScorecardVersion:
    """Base points, the income cap of the limit and the grade table of a draft.

    Emits: nothing. Raises: VersionNotEditableError.
    """
    _editable(version)
    version.base_points, version.income_multiple, version.note = base_points, income_multiple, note[:255]
    version.save(update_fields=["base_points", "income_multiple", "note"])
    version.grades.all().delete()
    GradeRule.objects.bulk_create(GradeRule(version=version, grade=g.grade, min_points=g.min_points,
                                            decision=g.decision, limit_percent=g.limit_percent) for g in grades)
    return version


@transaction.atomic
def characteristic_save(*, version: ScorecardVersion, kind: str, edge_rule: str, missing_points: int,
                        bins: Sequence[BinSpec], by: User,
                        characteristic: Characteristic | None = None) -> Characteristic:
    """Create or replace a characteristic of a draft with its bins (checked to cover every value once).

    Emits: nothing. Raises: VersionNotEditableError; ScorecardInvalidError when the bins overlap or leave gaps.
    """
    _editable(version)
    problems = check_bins(bins)
    if problems:
        raise ScorecardInvalidError(problems)
    if characteristic is None:
        position = (version.characteristics.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        characteristic = Characteristic(version=version, position=position)
    characteristic.kind, characteristic.edge_rule, characteristic.missing_points = kind, edge_rule, missing_points
    characteristic.save()
    characteristic.bins.all().delete()
    Bin.objects.bulk_create(Bin(characteristic=characteristic, position=i, lower=b.lower, upper=b.upper,
                                points=b.points) for i, b in enumerate(bins))
    return characteristic


@transaction.atomic
def characteristic_delete(*, characteristic: Characteristic, by: User) -> None:
    """Emits: nothing. Raises: VersionNotEditableError."""
    _editable(characteristic.version)
    characteristic.delete()


@transaction.atomic
def scorecard_version_publish(*, version: ScorecardVersion, by: User,
                              request: HttpRequest | None = None) -> ScorecardVersion:
    """Publish a checked draft: from now on the bank's applicants are scored with it; the previous
    published version is retired (its past scores keep pointing at it).

    Emits: nothing. Raises: VersionNotEditableError; ScorecardInvalidError listing every problem.
    """
    _editable(version)
    problems = check_card(card_spec(version=version))
    if problems:
        raise ScorecardInvalidError(problems)
    now = timezone.now()
    retired = list(ScorecardVersion.objects.filter(scorecard=version.scorecard, status=VersionStatus.PUBLISHED)
                   .values_list("number", flat=True))
    ScorecardVersion.objects.filter(scorecard=version.scorecard, status=VersionStatus.PUBLISHED).update(
        status=VersionStatus.RETIRED, retired_at=now)
    version.status, version.published_by, version.published_at = VersionStatus.PUBLISHED, by, now
    version.save(update_fields=["status", "published_by", "published_at"])
    bank = version.scorecard.bank
    audit_record(actor=by, action=AuditAction.SCORECARD_PUBLISH, object_type="ScorecardVersion",
                 object_id=version.pk, request=request,
                 summary=f"发布 {bank.name} 评分卡第 {version.number} 版"
                         + (f"（停用第 {'、'.join(map(str, retired))} 版）" if retired else ""),
                 detail={"bank": bank.code, "number": version.number, "retired": list(retired)})
    return version
