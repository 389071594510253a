"""Inbound calls (issue 14): numbers matched however the carrier writes them, the debtor's own calls not using up
the calls back, the right labels, and a 未接来电 list so no caller is ever invisible."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.enums import CallDirection, CallSource, CaseStatus
from cases.models import CallRecord
from cases.selectors.dialer import case_for_caller, compliance_facts, dial_number_list, missed_calls
from cases.validators import normalize_phone, phone_key
from tests import factories as f


@pytest.mark.parametrize(("raw", "key"), [
    ("13812345678", "13812345678"), ("+8613812345678", "13812345678"), ("8613812345678", "13812345678"),
    ("013812345678", "13812345678"), ("0086 138 1234 5678", "13812345678"), ("138 1234 5678", "13812345678"),
    ("024-12345678", "02412345678"), ("02412345678", "02412345678"), ("+86 24 1234 5678", "02412345678"),
    ("(024)12345678", "02412345678"), ("95555", "95555"),
])
def test_one_number_key_for_every_way_a_number_is_written(raw, key):
    assert phone_key(raw) == key


def test_the_import_stores_a_mobile_dialled_with_a_trunk_zero_bare():
    assert normalize_phone("013812345678") == "13812345678"
    assert normalize_phone("0086 13812345678") == "13812345678"
    assert normalize_phone("024-12345678") == "024-12345678"


@pytest.fixture
def case(db, collector):
    collector.sip_endpoint = "8001"
    collector.save()
    case = f.CaseFactory(collector=collector, status=CaseStatus.IN_PROGRESS, mobile="13812345678")
    f.CaseContactFactory(case=case, phone="024-12345678", relation="单位", name="某公司")
    return case


@pytest.mark.parametrize("caller", ["13812345678", "+8613812345678", "8613812345678", "013812345678"])
def test_the_debtor_calling_in_is_matched_in_each_form(case, caller):
    found = case_for_caller(caller)
    assert found is not None and found.case == case


@pytest.mark.parametrize("caller", ["02412345678", "024-12345678", "+862412345678", "862412345678"])
def test_a_landline_contact_calling_in_is_matched_with_or_without_its_hyphen(case, caller):
    found = case_for_caller(caller)
    assert found is not None and found.case == case and found.contact.relation == "单位"


def test_a_stranger_matches_nothing(case):
    assert case_for_caller("13999999999") is None and case_for_caller("") is None


def test_the_dial_list_merges_a_number_written_two_ways(case):
    f.CaseContactFactory(case=case, phone="+86 138 1234 5678", relation="本人", name=case.debtor_name)
    rows = dial_number_list(case=case)
    assert [r.label for r in rows] == ["本人手机", "单位 某公司"]


def test_the_debtors_own_inbound_calls_do_not_use_up_the_calls_back(case):
    now = timezone.now()
    for _ in range(3):
        CallRecord.objects.create(case=case, collector=case.collector, number=case.mobile, started_at=now,
                                  answered_at=now, direction=CallDirection.INBOUND, source=CallSource.DIALER)
    CallRecord.objects.create(case=case, collector=case.collector, number=case.mobile, started_at=now,
                              answered_at=now, direction=CallDirection.OUTBOUND, source=CallSource.DIALER)
    facts = compliance_facts(case=case, number=case.mobile, now=now)
    assert facts.answered_today == 1


def test_inbound_calls_are_labelled_as_taken_by_the_system_with_who_called(case):
    now = timezone.now()
    own = CallRecord.objects.create(case=case, number="+8613812345678", started_at=now,
                                    direction=CallDirection.INBOUND, source=CallSource.DIALER)
    placed = CallRecord.objects.create(case=case, number="13812345678", started_at=now, source=CallSource.DIALER)
    assert (own.source_label, own.party_label) == ("系统来电", "本人")
    assert (placed.source_label, placed.party_label) == ("系统拨号", "本人")


def _missed(case=None, number="13900001111", **extra) -> CallRecord:
    return CallRecord.objects.create(case=case, number=number, started_at=timezone.now() - dt.timedelta(minutes=5),
                                     direction=CallDirection.INBOUND, source=CallSource.DIALER,
                                     hangup_cause="未接来电（无空闲业务员接听）",
                                     call_uuid=f"m{CallRecord.objects.count()}", **extra)


def test_missed_calls_are_scoped_by_role(case, collector, other_collector, clerk, other_clerk, manager):
    mine = _missed(case, number=case.mobile)
    unknown = _missed(None)
    answered = _missed(case, answered_at=timezone.now())
    old = _missed(case)
    CallRecord.objects.filter(pk=old.pk).update(started_at=timezone.now() - dt.timedelta(days=8))
    assert answered not in missed_calls(user=collector)
    assert set(missed_calls(user=collector)) == {unknown, mine}
    assert set(missed_calls(user=other_collector)) == {unknown}
    assert set(missed_calls(user=manager)) == {unknown, mine}


def test_missed_calls_page_offers_a_call_back_to_the_cases_collector(case, collector, other_collector, client):
    _missed(case, number=case.mobile)
    _missed(None, number="13900002222")
    client.force_login(collector)
    html = client.get(reverse("cases:missed-calls")).content.decode()
    assert case.case_no in html and "回拨" in html and "未匹配" in html
    assert "13812345678" not in html and "138****5678" in html  # masked for collectors
    client.force_login(other_collector)
    html = client.get(reverse("cases:missed-calls")).content.decode()
    assert case.case_no not in html and "回拨</a>" not in html and "139****2222" in html
