"""C9: returned cases leave the collector's working list and are read-only for the collector who held them."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from cases.actions.returns import case_return
from cases.enums import CaseStatus
from cases.models import CallRecord, DocumentRequest, RetentionRequest
from cases.policies import closed_case_refusal
from cases.selectors.cases import CaseFilters, case_list, case_list_summary
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned(make_case, clerk, collector):
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, case_no="R-001")
    case_return(case=case, by=clerk)
    return case


@pytest.fixture
def working(make_case, clerk, collector):
    return make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, case_no="W-001")


def test_case_list_leaves_out_returned_cases_for_their_collector(returned, working, collector):
    # when
    rows = list(case_list(user=collector, filters=CaseFilters()))
    summary = case_list_summary(user=collector, filters=CaseFilters())
    # then: the list, its count and its totals speak of the working case only
    assert rows == [working]
    assert summary.count.value == 1
    assert summary.totals.entrusted_amount == working.entrusted_amount


def test_case_list_shows_returned_cases_when_the_collector_asks_for_them(returned, working, collector):
    # when
    rows = list(case_list(user=collector, filters=CaseFilters(status=CaseStatus.RETURNED)))
    # then
    assert rows == [returned]


def test_case_list_page_of_collector_has_no_returned_case(client, returned, working, collector):
    # given
    client.force_login(collector)
    # when
    html = client.get(reverse("cases:case-list")).content.decode()
    # then
    assert "W-001" in html and "R-001" not in html


def test_returned_cases_stay_on_clerk_and_manager_lists(returned, working, clerk, manager):
    # when / then
    assert set(case_list(user=clerk, filters=CaseFilters())) == {returned, working}
    assert set(case_list(user=manager, filters=CaseFilters())) == {returned, working}


def test_clerk_who_also_collects_keeps_returned_cases_of_their_bank(returned, collector, bank):
    # given: the collector is also a clerk of the case's bank
    collector.is_clerk = True
    collector.save()
    f.ClerkBankScopeFactory(clerk=collector, bank=bank)
    # when / then
    assert returned in case_list(user=collector, filters=CaseFilters())


def test_collector_still_opens_a_returned_case_read_only(client, returned, collector):
    # given
    client.force_login(collector)
    # when
    page = client.get(reverse("cases:case-detail", args=[returned.pk]))
    panel = client.get(reverse("cases:case-work", args=[returned.pk])).content.decode()
    # then: the page opens, and the work panel offers no form to save a call or a visit
    assert page.status_code == 200
    assert "保存电话记录" not in panel and "保存外访记录" not in panel


def test_call_on_returned_case_refused_with_reason(client, returned, collector):
    # given
    client.force_login(collector)
    # when
    response = client.post(reverse("cases:call-create", args=[returned.pk]), {"result": "no_answer"})
    # then
    assert response.status_code == 403
    assert "委案 R-001 已退案，只能查看" in response.content.decode()
    assert not CallRecord.objects.exists()


def test_htmx_visit_on_returned_case_answers_the_read_only_panel_with_reason(client, returned, collector):
    # given: a page left open before the return posts its form
    client.force_login(collector)
    # when
    response = client.post(reverse("cases:visit-create", args=[returned.pk]), {"address": "沈阳"},
                           HTTP_HX_REQUEST="true")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html and "已退案，只能查看" in html
    assert "保存外访记录" not in html
    assert not returned.visits.exists()


def test_file_upload_on_returned_case_refused_for_collector(client, returned, collector):
    # given
    client.force_login(collector)
    # when
    response = client.post(reverse("cases:file-upload", args=[returned.pk]), {})
    # then
    assert response.status_code == 403 and "已退案" in response.content.decode()


def test_dial_on_returned_case_refused_with_reason(client, returned, collector):
    # given
    collector.sip_endpoint = "8001"
    collector.save()
    cache.set("dialer:health", {"ari_connected": True}, 30)
    client.force_login(collector)
    try:
        # when
        response = client.post(reverse("cases:call-dial", args=[returned.pk]), {"contact": ""})
    finally:
        cache.delete("dialer:health")
    # then
    assert response.status_code == 409
    assert "已退案，只能查看" in response.json()["error"]


def test_retention_request_and_document_request_refused_on_returned_case(client, returned, collector):
    # given
    client.force_login(collector)
    # when
    retention = client.post(reverse("cases:retention-request", args=[returned.pk]), {"reason": "客户承诺下月还清"})
    docreq = client.post(reverse("cases:docreq-create", args=[returned.pk]), {"reason": "需要对账单"})
    # then
    assert retention.status_code == 403 and "已退案" in retention.content.decode()
    assert docreq.status_code == 403 and "已退案" in docreq.content.decode()
    assert not RetentionRequest.objects.exists() and not DocumentRequest.objects.exists()


def test_closed_case_refusal_only_speaks_to_the_collector_who_held_it(returned, working, collector,
                                                                      other_collector, clerk):
    # when / then
    assert closed_case_refusal(user=collector, case=returned).startswith("委案 R-001 已退案")
    assert closed_case_refusal(user=collector, case=working) == ""
    assert closed_case_refusal(user=other_collector, case=returned) == ""
    assert closed_case_refusal(user=clerk, case=returned) == ""
