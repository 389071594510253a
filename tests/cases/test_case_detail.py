from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.enums import CaseEventType, CaseStatus
from cases.models import Batch, CaseEvent
from cases.models.cases import mask_phone
from tests import factories as f


def url(case):
    return reverse("cases:case-detail", args=[case.pk])


@pytest.fixture
def case(make_case, collector, clerk):
    clerk.phone = "024-88886666"
    clerk.save()
    c = make_case(
        debtor_name="王小明", case_no="ZS-2026-0001", collector=collector, owner_clerk=clerk,
        status=CaseStatus.IN_PROGRESS, mobile="13912345678", home_address="沈阳市和平区南京北街12号",
        employer="沈阳某某机械厂", entrusted_amount=Decimal("12000.00"), repaid_amount=Decimal("2000.00"),
        balance=Decimal("10000.00"), commission_rate=Decimal("0.123400"), extra={"账单日": "5日", "五级分类": "次级"},
    )
    f.CaseContactFactory(case=c, name="王母", relation="母亲", phone="13800001111")
    return c


def test_case_detail_shows_every_part_of_the_case(case, clerk_client):
    # when
    response = clerk_client.get(url(case))
    # then
    assert response.status_code == 200
    text = response.content.decode()
    for expected in ("王小明", "ZS-2026-0001", "沈阳市和平区南京北街12号", "沈阳某某机械厂", "12,000.00", "2,000.00",
                     "10,000.00", "进行中", case.batch.batch_no, "招商银行", "王催收", "李内勤", "024-88886666",
                     "账单日", "次级", "王母", "13800001111", case.id_number):
        assert expected in text, expected


def test_case_detail_shows_commission_to_desk_roles_only(case, clerk_client, manager_client, collector_client):
    # when
    as_clerk = clerk_client.get(url(case)).content.decode()
    as_manager = manager_client.get(url(case)).content.decode()
    as_collector = collector_client.get(url(case)).content.decode()
    # then
    assert "佣金比例" in as_clerk and "12.34%" in as_clerk
    assert "12.34%" in as_manager
    assert "佣金" not in as_collector and "12.34" not in as_collector and "0.1234" not in as_collector


def test_case_detail_masks_phones_and_id_number_for_collectors(case, collector_client):
    # when
    text = collector_client.get(url(case)).content.decode()
    # then
    assert "13800001111" not in text and mask_phone("13800001111") in text
    assert "13912345678" not in text and mask_phone("13912345678") in text
    assert case.id_number not in text and case.masked_id_number in text


def test_case_detail_shows_balance_zero_when_cleared(make_case, collector, collector_client):
    # given
    cleared = make_case(collector=collector, entrusted_amount=Decimal("500.00"), repaid_amount=Decimal("500.00"),
                        status=CaseStatus.SETTLED)
    # when
    response = collector_client.get(url(cleared))
    # then
    assert "已还清" in response.content.decode()


@pytest.mark.parametrize("who", ["other_collector", "other_clerk"])
def test_case_detail_is_404_for_users_who_may_not_see_it(request, case, who):
    # given
    from django.test import Client

    client = Client()
    client.force_login(request.getfixturevalue(who))
    # when
    response = client.get(url(case))
    # then
    assert response.status_code == 404


def test_case_detail_is_404_for_missing_cases(manager_client):
    # when
    response = manager_client.get(reverse("cases:case-detail", args=[999999]))
    # then
    assert response.status_code == 404


def test_case_detail_timeline_is_newest_first_and_opens_with_the_batch_import(case, clerk, manager_client):
    # given
    Batch.objects.filter(pk=case.batch_id).update(imported_by=clerk,
                                                   imported_at=timezone.now() - dt.timedelta(days=3))
    old = CaseEvent.objects.create(case=case, type=CaseEventType.NOTE, actor=clerk, summary="客户称下周回电")
    new = CaseEvent.objects.create(case=case, type=CaseEventType.ASSIGNED, actor=clerk, summary="分配给王催收")
    # when
    response = manager_client.get(url(case))
    # then
    events = response.context["events"]
    assert [e.pk for e in events] == [new.pk, old.pk, None]
    assert (events[-1].type, events[-1].actor) == (CaseEventType.IMPORTED, clerk)
    text = response.content.decode()
    imported = f"随批次 {case.batch.batch_no} 导入"
    assert text.index("分配给王催收") < text.index("客户称下周回电") < text.index(imported)
    assert 'id="case-event-imported"' in text


def test_case_detail_timeline_partial_renders_alone(case, manager_client):
    # given
    from django.template.loader import render_to_string

    CaseEvent.objects.create(case=case, type=CaseEventType.NOTE, summary="客户承诺月底还款")
    # when
    html = render_to_string("cases/case_detail.html#timeline", {"events": list(case.events.all())})
    # then
    assert 'id="case-timeline"' in html and "客户承诺月底还款" in html and "系统" in html


def test_case_detail_links_previous_and_next_case(make_case, manager_client):
    # given
    old = make_case(case_no="OLD-1", status=CaseStatus.RETURNED)
    new = make_case(case_no="NEW-1", previous_case=old)
    # when
    on_old = manager_client.get(url(old)).content.decode()
    on_new = manager_client.get(url(new)).content.decode()
    # then
    assert url(new) in on_old and "已续案为" in on_old
    assert url(old) in on_new and "续接自" in on_new


def test_case_detail_hides_a_previous_case_the_user_may_not_see(make_case, collector, collector_client):
    # given: the old case was worked by someone else
    old = make_case(case_no="OLD-2", status=CaseStatus.RETURNED)
    new = make_case(case_no="NEW-2", previous_case=old, collector=collector)
    # when
    text = collector_client.get(url(new)).content.decode()
    # then
    assert url(old) not in text
