"""Who sees the module: the menu entry for assessors only, scoring without a published scorecard refused with
the reason, an invalid ID number in the history check is neither looked up nor audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry
from assessment.models import Assessment

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "sees"), [("clerk", True), ("manager", True), ("collector", False),
                                            ("field_collector", False), ("sysadmin", False)])
def test_menu_entry_only_for_assessors(request, role, sees):
    # given
    client = Client()
    client.force_login(request.getfixturevalue(role))
    # when
    text = client.get(reverse("cases:case-list")).content.decode()
    # then
    assert (reverse("assessment:applicant-list") in text) is sees


def test_scoring_without_a_published_scorecard_says_what_to_do(make_applicant, clerk_client):
    # given
    applicant = make_applicant()
    # when
    response = clerk_client.post(reverse("assessment:applicant-score", args=[applicant.pk]), follow=True)
    # then
    assert "还没有已发布的评分卡" in response.content.decode()
    assert Assessment.objects.count() == 0


def test_history_check_refuses_an_invalid_id_number_without_looking_it_up(clerk_client):
    # when
    response = clerk_client.get(reverse("assessment:history-check"), {"id_number": "21010219800102001"})
    # then
    assert "证件号码“21010219800102001”无效" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.HISTORY_CHECK).exists()


def test_history_check_page_counts_cases_of_every_bank_and_audits(clerk_client, make_case, other_bank, clerk):
    # given: a case of a bank the clerk does not handle
    from tests import factories as f

    case = f.CaseFactory(batch=f.BatchFactory(bank=other_bank), case_no="JS-77")
    # when
    text = clerk_client.get(reverse("assessment:history-check"), {"id_number": case.id_number}).content.decode()
    # then
    # another bank's case counts, as aggregated facts only (issue 13, item 21: no case number, no bank detail)
    assert "其他银行（您不负责的银行）另有 1 件委案" in text
    assert "JS-77" not in text
    assert AuditEntry.objects.get(action=AuditAction.HISTORY_CHECK).actor == clerk
