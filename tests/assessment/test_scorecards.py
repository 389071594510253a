"""Scorecard versioning: drafts are edited, live_card versions never change, publishing retires the previous
version, and past assessments keep pointing at (and being explained by) the version they used."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import AuditAction, AuditEntry
from assessment.actions.assessments import assessment_score
from assessment.actions.scorecards import (
    characteristic_save,
    scorecard_version_new_draft,
    scorecard_version_publish,
    scorecard_version_update,
)
from assessment.enums import CharacteristicKind, EdgeRule, VersionStatus
from assessment.exceptions import DraftExistsError, ScorecardInvalidError, VersionNotEditableError
from assessment.scoring import BinSpec, GradeSpec
from assessment.selectors.scorecards import card_spec

pytestmark = pytest.mark.django_db


def _history_cases(version):
    return version.characteristics.get(kind=CharacteristicKind.HISTORY_CASES)


def test_publish_makes_version_one_current_and_is_audited(live_card, manager):
    # then
    assert live_card.status == VersionStatus.PUBLISHED and live_card.number == 1
    entry = AuditEntry.objects.get(action=AuditAction.SCORECARD_PUBLISH)
    assert "第 1 版" in entry.summary and entry.actor == manager


def test_published_version_cannot_be_edited(live_card, manager):
    # when / then
    with pytest.raises(VersionNotEditableError, match="创建新版本"):
        characteristic_save(version=live_card, kind=CharacteristicKind.AGE, edge_rule=EdgeRule.LOWER_CLOSED,
                            missing_points=0, bins=[BinSpec(None, None, 1)], by=manager,
                            characteristic=live_card.characteristics.get(kind=CharacteristicKind.AGE))


def test_new_version_copies_the_latest_and_only_one_draft_at_a_time(live_card, manager):
    # when
    draft = scorecard_version_new_draft(scorecard=live_card.scorecard, by=manager)
    # then
    assert draft.number == 2 and draft.status == VersionStatus.DRAFT
    assert card_spec(version=draft) == card_spec(version=live_card)
    with pytest.raises(DraftExistsError):
        scorecard_version_new_draft(scorecard=live_card.scorecard, by=manager)


def test_past_scores_keep_their_version_after_a_new_one_is_published(live_card, manager, make_applicant):
    # given: an applicant scored with version 1
    first = assessment_score(applicant=make_applicant(), by=manager)
    # when: version 2 gives 25 more base points and is live_card
    draft = scorecard_version_new_draft(scorecard=live_card.scorecard, by=manager)
    spec = card_spec(version=draft)
    scorecard_version_update(version=draft, base_points=spec.base_points + 25, income_multiple=Decimal("10"),
                             grades=spec.grades, note="基础分 +25", by=manager)
    scorecard_version_publish(version=draft, by=manager)
    second = assessment_score(applicant=make_applicant(id_number=None, name="钱申请"), by=manager)
    # then
    live_card.refresh_from_db()
    first.refresh_from_db()
    assert live_card.status == VersionStatus.RETIRED and live_card.retired_at is not None
    assert first.version_id == live_card.pk and second.version_id == draft.pk
    assert second.total_points == first.total_points + 25
    assert first.base_points == 50 and [x.points for x in first.lines.all()] == [x.points for x in second.lines.all()]


def test_publish_refuses_bins_with_a_gap_and_grades_out_of_order(live_card, manager):
    # given
    draft = scorecard_version_new_draft(scorecard=live_card.scorecard, by=manager)
    # then: the bins are checked when saved
    with pytest.raises(ScorecardInvalidError, match="有空档"):
        characteristic_save(version=draft, kind=CharacteristicKind.AGE, edge_rule=EdgeRule.LOWER_CLOSED,
                            missing_points=0, by=manager, characteristic=draft.characteristics.get(kind="age"),
                            bins=[BinSpec(None, Decimal("30"), 1), BinSpec(Decimal("31"), None, 2)])
    # and the grades when live_card
    bad = [GradeSpec("A", 10, "approve", Decimal("100")), GradeSpec("B", 20, "approve", Decimal("100")),
           GradeSpec("C", 5, "refer", Decimal("50")), GradeSpec("D", 1, "decline", Decimal("0")),
           GradeSpec("E", None, "decline", Decimal("0"))]
    scorecard_version_update(version=draft, base_points=0, income_multiple=Decimal("5"), grades=bad, note="",
                             by=manager)
    with pytest.raises(ScorecardInvalidError, match="等级 B 的最低总分 20 应低于等级 A 的 10"):
        scorecard_version_publish(version=draft, by=manager)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_characteristic_save_replaces_bins_in_a_draft(live_card, manager):
    # given
    draft = scorecard_version_new_draft(scorecard=live_card.scorecard, by=manager)
    # when
    characteristic_save(version=draft, kind=CharacteristicKind.HISTORY_CASES, edge_rule=EdgeRule.UPPER_CLOSED,
                        missing_points=0, by=manager, characteristic=_history_cases(draft),
                        bins=[BinSpec(None, Decimal("0"), 30), BinSpec(Decimal("0"), None, -80)])
    # then
    char = _history_cases(draft)
    assert char.edge_rule == EdgeRule.UPPER_CLOSED
    assert [(b.lower, b.upper, b.points) for b in char.bins.order_by("position")] == [
        (None, Decimal("0.00"), 30), (Decimal("0.00"), None, -80)]
    assert [(b.points) for b in _history_cases(live_card).bins.order_by("position")] == [10, -30, -50]


def _bins_post(kind, rows, edge="lower", missing="0"):
    data = {"kind": kind, "edge_rule": edge, "missing_points": missing, "bins-TOTAL_FORMS": str(len(rows) + 1),
            "bins-INITIAL_FORMS": "0", "bins-MIN_NUM_FORMS": "0", "bins-MAX_NUM_FORMS": "30"}
    for i, (lower, upper, points) in enumerate(rows):
        data.update({f"bins-{i}-lower": lower, f"bins-{i}-upper": upper, f"bins-{i}-points": points})
    return data


def test_characteristic_page_explains_a_gap_and_saves_good_bins(live_card, manager, manager_client):
    # given
    from django.urls import reverse

    draft = scorecard_version_new_draft(scorecard=live_card.scorecard, by=manager)
    char = _history_cases(draft)
    url = reverse("assessment:characteristic-edit", args=[draft.pk, char.pk])
    # when
    gap = manager_client.post(url, _bins_post("history_cases", [("", "1", "10"), ("2", "", "-70")]))
    good = manager_client.post(url, _bins_post("history_cases", [("", "1", "10"), ("1", "", "-70")], edge="upper"))
    # then
    assert gap.status_code == 400 and "有空档" in gap.content.decode()
    assert good.status_code == 302
    char.refresh_from_db()
    assert char.edge_rule == "upper" and [b.points for b in char.bins.order_by("position")] == [10, -70]


def test_settings_page_refuses_cut_offs_out_of_order(live_card, manager, manager_client):
    # given
    from django.urls import reverse

    draft = scorecard_version_new_draft(scorecard=live_card.scorecard, by=manager)
    data = {"base_points": "50", "income_multiple": "10", "note": "",
            "min_A": "100", "min_B": "120", "min_C": "70", "min_D": "50"}
    for grade, decision, percent in (("A", "approve", "100"), ("B", "approve_lower", "70"), ("C", "refer", "50"),
                                     ("D", "decline", "0"), ("E", "decline", "5")):
        data[f"decision_{grade}"], data[f"percent_{grade}"] = decision, percent
    # when
    response = manager_client.post(reverse("assessment:version-settings", args=[draft.pk]), data)
    # then
    text = response.content.decode()
    assert response.status_code == 400
    assert "B 级最低总分应低于 A 级的 100" in text and "E 级建议拒绝，建议额度百分比应为 0" in text
