"""The collection-history look-up across banks: a clerk sees other banks only as aggregated facts (counts,
amounts, recovery rate, complaint count, last contact result), never their case numbers, complaint texts or
another debtor's name; managers see the detail; every look-up stays audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry
from cases.actions.complaints import complaint_record
from cases.actions.visits import visit_record_create
from cases.enums import CaseStatus, ComplaintReason, VisitResult
from tests import factories as f
from tests.assessment.test_history import BIRTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(bank, other_bank, collector, clerk):
    """One person held by the clerk's bank (ZS-OWN) and by another bank (JS-SECRET, with a complaint and a
    visit); someone else, 钱别人, shares the phone at the other bank."""
    person = f.make_id_number(321, BIRTH)
    f.CaseFactory(
        batch=f.BatchFactory(bank=bank),
        id_number=person,
        case_no="ZS-OWN",
        mobile="13911112222",
        entrusted_amount=Decimal("1000.00"),
        repaid_amount=Decimal("500.00"),
        status=CaseStatus.IN_PROGRESS,
    )
    secret = f.CaseFactory(
        batch=f.BatchFactory(bank=other_bank),
        id_number=person,
        case_no="JS-SECRET",
        entrusted_amount=Decimal("4000.00"),
        repaid_amount=Decimal("1000.00"),
        status=CaseStatus.IN_PROGRESS,
        collector=collector,
    )
    complaint_record(
        case=secret,
        content="催收员辱骂我的家人",
        reason=ComplaintReason.FREQUENT_CALLS,
        collector=None,
        by=f.ManagerFactory(username="m2"),
    )
    visit_record_create(
        case=secret,
        collector=collector,
        by=collector,
        visited_on=timezone.localdate(),
        address="沈阳市和平区",
        result=VisitResult.MET_DEBTOR,
    )
    f.CaseFactory(
        batch=f.BatchFactory(bank=other_bank),
        id_number=f.make_id_number(999, BIRTH),
        debtor_name="钱别人",
        case_no="JS-OTHER-PERSON",
        mobile="13911112222",
    )
    return person


def _look_up(user, person) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("assessment:history-check"), {"id_number": person, "phone": "13911112222"})
    assert response.status_code == 200
    return response.content.decode()


def test_a_clerk_sees_other_banks_only_as_aggregated_facts(held, clerk):
    # when
    html = _look_up(clerk, held)
    # then: the own bank in detail, the other bank summed up
    assert "ZS-OWN" in html
    for secret in ("JS-SECRET", "催收员辱骂我的家人", "钱别人", "JS-OTHER-PERSON", "建设银行"):
        assert secret not in html, secret
    assert "其他银行（您不负责的银行）另有 1 件委案" in html
    assert "委案金额 4,000.00" in html and "回款率 25.00%" in html and "投诉 1 次" in html
    assert "外访：见到本人" in html
    assert "其中 1 件属于其他银行" in html
    # and the totals still count every bank
    assert "2 件" in html


def test_a_manager_sees_every_banks_detail(held, manager):
    # when
    html = _look_up(manager, held)
    # then
    for detail in ("ZS-OWN", "JS-SECRET", "催收员辱骂我的家人", "钱别人"):
        assert detail in html, detail


def test_every_look_up_stays_audited(held, clerk, manager):
    # when
    _look_up(clerk, held)
    _look_up(manager, held)
    # then
    assert AuditEntry.objects.filter(action=AuditAction.HISTORY_CHECK).count() == 2
