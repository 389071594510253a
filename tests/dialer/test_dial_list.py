"""The dial list of a case: each number once, whatever way the bank's file repeated it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.enums import CaseStatus
from cases.selectors.dialer import dial_number_list
from tests import factories as f


@pytest.fixture
def case(bank, collector, clerk):
    return f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, owner_clerk=clerk,
                         status=CaseStatus.IN_PROGRESS, mobile="13812345678")


@pytest.mark.django_db
def test_dial_list_merges_the_debtor_contact_with_the_case_mobile(case):
    # given: the file repeats the debtor's mobile as a 本人 contact, written differently
    own = f.CaseContactFactory(case=case, phone="138 1234 5678", relation="本人", name=case.debtor_name)
    spouse = f.CaseContactFactory(case=case, phone="13698765432", relation="配偶", name="李某")
    # when
    rows = dial_number_list(case=case)
    # then: one row for the debtor, dialled through the 本人 contact; the spouse after it
    assert [(r.contact_id, r.label, r.number) for r in rows] == [
        (own.pk, "本人手机", "13812345678"), (spouse.pk, "配偶 李某", "13698765432")]
    assert rows[0].also == []


@pytest.mark.django_db
def test_dial_list_merges_repeated_contact_numbers_and_names_them(case):
    # given: two contacts share one number (+86 and plain)
    first = f.CaseContactFactory(case=case, phone="13698765432", relation="配偶", name="李某")
    f.CaseContactFactory(case=case, phone="+8613698765432", relation="单位", name="")
    # when
    rows = dial_number_list(case=case)
    # then
    assert [r.contact_id for r in rows] == [None, first.pk]
    assert rows[1].also == ["单位"]


@pytest.mark.django_db
def test_dial_list_keeps_the_case_mobile_row_when_another_person_shares_it(case):
    # given: a contact who is not the debtor has the debtor's number (a data error the bank made)
    f.CaseContactFactory(case=case, phone="13812345678", relation="母亲", name="张母")
    # when
    rows = dial_number_list(case=case)
    # then: the call stays the debtor's (no contact id), and the page says who else is listed there
    assert [(r.contact_id, r.label, r.also) for r in rows] == [(None, "本人手机", ["母亲 张母"])]


def test_dial_numbers_page_shows_the_debtor_mobile_once(collector_client, case):
    # given
    own = f.CaseContactFactory(case=case, phone="13812345678", relation="本人", name=case.debtor_name)
    # when
    html = collector_client.get(reverse("cases:dial-numbers", args=[case.pk])).content.decode()
    # then
    assert html.count("138****5678") == 1
    assert f'data-contact="{own.pk}"' in html
