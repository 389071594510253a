"""The collection-history check over several banks: ID-number matches (both number forms) are summed and
scored, phone-only matches are listed apart, every look-up is audited, and the history moves the grade."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry
from assessment.actions.assessments import assessment_score
from assessment.actions.history import history_lookup
from assessment.selectors.history import HistorySummary, collection_history
from cases.actions.calls import call_record_create
from cases.actions.complaints import complaint_record
from cases.actions.visits import visit_record_create
from cases.enums import CallResult, CaseStatus, ComplaintReason, VisitResult
from tests import factories as f

pytestmark = pytest.mark.django_db
BIRTH = dt.date(1975, 4, 2)


@pytest.fixture
def person():
    return f.make_id_number(321, BIRTH)


@pytest.fixture
def three_banks(bank, other_bank, person, collector, clerk):
    """The same person held by three banks: settled, open and partly repaid, returned."""
    third = f.BankFactory(code="GSYH", name="工商银行")
    settled = f.CaseFactory(batch=f.BatchFactory(bank=bank), id_number=person, entrusted_amount=Decimal("5000.00"),
                            repaid_amount=Decimal("5000.00"), status=CaseStatus.SETTLED, case_no="ZS-1")
    open_case = f.CaseFactory(batch=f.BatchFactory(bank=other_bank), id_number=person, status=CaseStatus.IN_PROGRESS,
                              entrusted_amount=Decimal("20000.00"), repaid_amount=Decimal("2000.00"),
                              collector=collector, case_no="JS-1")
    old_form = person[:6] + person[8:17]  # the bank sent the old 15-digit number
    returned = f.CaseFactory(batch=f.BatchFactory(bank=third), id_number=old_form, status=CaseStatus.RETURNED,
                             entrusted_amount=Decimal("3000.00"), case_no="GS-1")
    return settled, open_case, returned


def test_history_sums_every_bank_and_both_number_forms(three_banks, person, collector, clerk):
    # given
    settled, open_case, returned = three_banks
    call_record_create(case=open_case, collector=collector, by=collector, number="13800000000",
                       result=CallResult.NO_ANSWER)
    visit_record_create(case=open_case, collector=collector, by=collector, visited_on=timezone.localdate(),
                        address="沈阳市和平区", result=VisitResult.MET_DEBTOR)
    complaint_record(case=settled, content="夜间来电", reason=ComplaintReason.FREQUENT_CALLS, collector=None, by=clerk)
    f.CaseFactory(id_number=f.make_id_number(322, BIRTH))  # someone else
    # when
    summary = collection_history(id_number=person)
    # then
    assert [c.case_no for c in summary.cases] == ["ZS-1", "JS-1", "GS-1"]
    assert sorted(summary.banks) == ["工商银行", "建设银行", "招商银行"]
    assert summary.entrusted_total == "28000.00" and summary.repaid_total == "7000.00"
    assert summary.open_count == 1 and summary.open_balance == "18000.00"
    assert summary.recovery_rate == "25.00"
    assert len(summary.complaints) == 1 and summary.complaints[0].reason == "频繁来电"
    assert summary.last_contact.endswith("外访：见到本人")
    facts = summary.facts()
    assert (facts.cases, facts.open_cases, facts.open_balance, facts.recovery_rate, facts.complaints) == (
        3, 1, Decimal("18000.00"), Decimal("25.00"), 1)


def test_history_lists_phone_matches_of_other_people_apart(person):
    # given: a different debtor whose mobile is the applicant's phone
    f.CaseFactory(id_number=f.make_id_number(400, BIRTH), mobile="13911112222", debtor_name="孙别人")
    # when
    summary = collection_history(id_number=person, phone="13911112222")
    # then
    assert summary.cases == [] and not summary.found
    assert [c.debtor_name for c in summary.phone_only_cases] == ["孙别人"]
    assert summary.facts().cases == 0


def test_history_round_trips_through_json(three_banks, person):
    # given
    summary = collection_history(id_number=person)
    # when
    again = HistorySummary.from_json(summary.to_json())
    # then
    assert again == summary


def test_every_look_up_is_audited(person, clerk):
    # when
    history_lookup(id_number=person, phone="", by=clerk)
    # then
    entry = AuditEntry.objects.get(action=AuditAction.HISTORY_CHECK)
    assert entry.actor == clerk and entry.detail["id_number"] == person and "0 件委案" in entry.summary


def test_old_collection_case_lowers_the_grade(live_card, make_applicant, manager, three_banks, person):
    # given: one applicant with the history, one identical without
    with_history = make_applicant(id_number=person, name="王有史")
    clean = make_applicant(id_number=f.make_id_number(900, BIRTH), name="李无史")
    # when
    hit = assessment_score(applicant=with_history, by=manager)
    miss = assessment_score(applicant=clean, by=manager)
    # then: default card — 3 cases −50, open balance 18,000 −40, recovery 25% −20 instead of +10, 0, 0
    assert miss.total_points - hit.total_points == 120
    assert hit.clean_total_points == miss.total_points and hit.clean_grade == miss.grade
    assert hit.grade != miss.grade
    assert len(hit.history["cases"]) == 3 and miss.history["cases"] == []
    assert AuditEntry.objects.filter(action=AuditAction.HISTORY_CHECK).count() == 2
