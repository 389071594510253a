"""Click-to-call pages: masked numbers, dial by contact id, typed numbers offered to the owner clerk,
refusals explained, unmatched recordings, lines board."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from cases.enums import CaseStatus, ContactSource
from cases.models import CaseContact, NumberSuggestion
from tests import factories as f


@pytest.fixture
def case(bank, collector, clerk):
    collector.sip_endpoint = "8001"
    collector.save()
    case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, owner_clerk=clerk,
                         status=CaseStatus.IN_PROGRESS, mobile="13812345678")
    f.CaseContactFactory(case=case, phone="13698765432", relation="配偶", name="李某")
    return case


def test_collector_sees_masked_numbers_with_dial_buttons(collector_client, case):
    # when
    html = collector_client.get(reverse("cases:dial-numbers", args=[case.pk])).content.decode()
    # then
    assert "138****5678" in html and "136****5432" in html
    assert "13812345678" not in html and "13698765432" not in html
    assert html.count("data-cp-dial ") + html.count("data-cp-dial>") == 2


def test_dial_by_contact_resolves_the_number_on_the_server(collector_client, case, sent, dialer_up,
                                                           django_capture_on_commit_callbacks):
    contact = case.contacts.get()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = collector_client.post(reverse("cases:call-dial", args=[case.pk]), {"contact": contact.pk})
    # then
    assert response.status_code == 200 and response.json()["call_uuid"]
    assert sent == [{"type": "originate", "call_uuid": response.json()["call_uuid"], "collector_id": case.collector_id,
                     "ext": "8001", "case_id": case.pk, "contact_id": contact.pk, "number": "13698765432"}]


def test_typed_number_is_offered_to_the_owner_clerk(collector_client, clerk_client, case, sent, dialer_up,
                                                    django_capture_on_commit_callbacks):
    # given: the collector dials a new number
    with django_capture_on_commit_callbacks(execute=True):
        collector_client.post(reverse("cases:call-dial", args=[case.pk]), {"contact": "", "number": "139 0000 1111"})
    assert sent[0]["number"] == "13900001111"
    suggestion = NumberSuggestion.objects.get()
    # when: the owner clerk opens the case and accepts it
    html = clerk_client.get(reverse("cases:number-suggestions", args=[case.pk])).content.decode()
    assert "13900001111" in html
    clerk_client.post(reverse("cases:number-suggestion-decide", args=[case.pk, suggestion.pk]), {"decision": "accept"})
    # then
    assert CaseContact.objects.filter(case=case, phone="13900001111", source=ContactSource.ADDED).exists()
    assert clerk_client.get(reverse("cases:number-suggestions", args=[case.pk])).content.decode().strip() == ""


def test_dial_refused_when_the_dialer_is_down_says_why(collector_client, case, sent):
    # when
    response = collector_client.post(reverse("cases:call-dial", args=[case.pk]), {"contact": ""})
    # then
    assert response.status_code == 409
    assert "呼叫系统未连接" in response.json()["error"]
    assert sent == []


def test_dial_refused_without_an_extension(client, case, other_collector, dialer_up):
    # given: another collector's case is not theirs; the case's collector without an extension
    case.collector.sip_endpoint = ""
    case.collector.save()
    client.force_login(case.collector)
    # when
    response = client.post(reverse("cases:call-dial", args=[case.pk]), {"contact": ""})
    # then
    assert response.status_code == 409 and "分机" in response.json()["error"]


def test_lines_board_shows_live_lines_from_the_dialer(manager_client, case):
    # given: the dialer's last snapshot: one call talking
    cache.set("dialer:lines", {"lines": 6, "calls": [
        {"call_uuid": "abc", "phase": "connected", "direction": "outbound", "extension": "8001",
         "collector_id": case.collector_id, "case_id": case.pk, "number": "13812345678", "since": 0,
         "connected_at": None}]}, 30)
    cache.set("dialer:health", {"ari_connected": True, "lines": 6}, 30)
    # when
    html = manager_client.get(reverse("cases:lines-board")).content.decode()
    # then
    assert html.count("空闲") == 5 and "通话中" in html and case.case_no in html
    cache.delete_many(["dialer:lines", "dialer:health"])


@pytest.mark.parametrize("call_uuid", ["0f1e2d3c4b5a69788796a5b4c3d2e1f0", "1796524263.50"])
def test_hang_up_from_the_panel_takes_outbound_and_inbound_call_ids(collector_client, collector, sent, call_uuid,
                                                                    django_capture_on_commit_callbacks):
    # when: 挂断 on an outbound call (our uuid) and on an inbound one (Asterisk's channel id, D5)
    with django_capture_on_commit_callbacks(execute=True):
        response = collector_client.post(reverse("cases:call-hangup"), {"call_uuid": call_uuid})
    # then
    assert response.status_code == 200
    assert sent == [{"type": "hangup", "call_uuid": call_uuid, "user_id": collector.pk}]


@pytest.mark.parametrize("call_uuid", ["", "../etc", "a b", "x" * 65, ".50"])
def test_hang_up_refuses_a_malformed_call_id(collector_client, sent, call_uuid):
    response = collector_client.post(reverse("cases:call-hangup"), {"call_uuid": call_uuid})
    assert response.status_code == 400 and response.json()["error"] == "呼叫标识不正确"
    assert sent == []
