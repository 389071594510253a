"""Issue 13 item 13: numbers a collector typed, the clerk's decision on them and a manager listening in leave an
audit entry (with the request's address) and, for the numbers, an entry on the case's timeline."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry
from cases.enums import CaseEventType, CaseStatus
from cases.models import CaseContact, CaseEvent, NumberSuggestion
from tests import factories as f


@pytest.fixture
def dialer_up():
    cache.set("dialer:health", {"ari_connected": True, "lines": 4}, 30)
    yield
    cache.delete_many(["dialer:health", "dialer:lines"])


@pytest.fixture
def case(bank, collector, clerk):
    collector.sip_endpoint = "8001"
    collector.save()
    case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, owner_clerk=clerk,
                         status=CaseStatus.IN_PROGRESS, mobile="13812345678")
    f.CaseContactFactory(case=case, phone="13698765432", relation="配偶", name="李某")
    return case


def _dial(client, case, captured, **data):
    with captured(execute=True):
        return client.post(reverse("cases:call-dial", args=[case.pk]), data, REMOTE_ADDR="10.1.2.3")


def test_typed_number_is_audited_and_put_on_the_timeline(collector_client, collector, case, sent, dialer_up,
                                                         django_capture_on_commit_callbacks):
    # given: the spouse's listed number
    spouse = case.contacts.get()
    # when: the collector dials a number typed over it
    response = _dial(collector_client, case, django_capture_on_commit_callbacks,
                     contact=spouse.pk, number="139 0000 1111")
    # then: the dial went ahead, one audit entry names the typed number and what it replaced
    assert response.status_code == 200 and sent[0]["number"] == "13900001111"
    entry = AuditEntry.objects.get(action=AuditAction.NUMBER_TYPED)
    suggestion = NumberSuggestion.objects.get()
    assert entry.actor == collector and entry.ip_address == "10.1.2.3"
    assert entry.object_type == "Case" and entry.object_id == str(case.pk)
    assert entry.detail == {"case_id": case.pk, "number": "13900001111", "via": "dial", "contact_id": spouse.pk,
                            "suggestion_id": suggestion.pk}
    assert "139****1111" in entry.summary and "136****5432" in entry.summary and "提交负责内勤" in entry.summary
    # and the case's timeline shows the offer, masked
    event = CaseEvent.objects.get(case=case, type=CaseEventType.NUMBER_SUGGESTED)
    assert event.actor == collector and "139****1111" in event.summary and "13900001111" not in event.summary


def test_typing_the_same_new_number_again_is_audited_again_but_offered_once(collector_client, case, sent, dialer_up,
                                                                            django_capture_on_commit_callbacks):
    # when: the collector dials the same new number twice
    _dial(collector_client, case, django_capture_on_commit_callbacks, contact="", number="13900001111")
    _dial(collector_client, case, django_capture_on_commit_callbacks, contact="", number="13900001111")
    # then: two audit entries, one offer, one timeline entry
    assert AuditEntry.objects.filter(action=AuditAction.NUMBER_TYPED).count() == 2
    assert NumberSuggestion.objects.count() == 1
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.NUMBER_SUGGESTED).count() == 1


def test_typing_a_number_the_case_already_holds_is_audited_without_an_offer(collector_client, case, sent,
                                                                             dialer_up,
                                                                             django_capture_on_commit_callbacks):
    # when: the collector types the spouse's number while dialling the debtor's mobile
    _dial(collector_client, case, django_capture_on_commit_callbacks, contact="", number="13698765432")
    # then: audited, but nothing offered to the clerk and nothing on the timeline
    entry = AuditEntry.objects.get(action=AuditAction.NUMBER_TYPED)
    assert entry.detail["suggestion_id"] is None and "已在委案中" in entry.summary
    assert not NumberSuggestion.objects.exists()
    assert not CaseEvent.objects.filter(case=case, type=CaseEventType.NUMBER_SUGGESTED).exists()


def test_dialling_a_listed_number_writes_no_typed_number_entry(collector_client, case, sent, dialer_up,
                                                               django_capture_on_commit_callbacks):
    # when
    _dial(collector_client, case, django_capture_on_commit_callbacks, contact=case.contacts.get().pk)
    # then
    assert sent and not AuditEntry.objects.filter(action=AuditAction.NUMBER_TYPED).exists()


def test_accepted_number_visibly_becomes_a_contact(collector_client, clerk_client, clerk, case, sent, dialer_up,
                                                   django_capture_on_commit_callbacks):
    # given: a typed number waiting for the owner clerk
    _dial(collector_client, case, django_capture_on_commit_callbacks, contact="", number="13900001111")
    suggestion = NumberSuggestion.objects.get()
    # when: the clerk adds it
    response = clerk_client.post(reverse("cases:number-suggestion-decide", args=[case.pk, suggestion.pk]),
                                 {"decision": "accept"}, REMOTE_ADDR="10.9.8.7")
    # then: a contact, an audit entry and a timeline entry naming the contact
    contact = CaseContact.objects.get(case=case, phone="13900001111")
    entry = AuditEntry.objects.get(action=AuditAction.NUMBER_DECIDED)
    assert entry.actor == clerk and entry.ip_address == "10.9.8.7"
    assert entry.detail["accepted"] is True and entry.detail["contact_id"] == contact.pk
    assert entry.detail["number"] == "13900001111" and "添加为联系人" in entry.summary
    event = CaseEvent.objects.get(case=case, type=CaseEventType.NUMBER_ACCEPTED)
    assert event.actor == clerk and event.data["contact_id"] == contact.pk
    # and the case page the clerk lands on shows it on the timeline
    page = clerk_client.get(response["Location"]).content.decode()
    assert "已添加为联系人（业务员新增）" in page and "139****1111" in page


def test_declined_number_is_audited_and_on_the_timeline(collector_client, clerk_client, clerk, case, sent,
                                                        dialer_up, django_capture_on_commit_callbacks):
    # given
    _dial(collector_client, case, django_capture_on_commit_callbacks, contact="", number="13900001111")
    suggestion = NumberSuggestion.objects.get()
    # when
    clerk_client.post(reverse("cases:number-suggestion-decide", args=[case.pk, suggestion.pk]),
                      {"decision": "decline"})
    # then
    assert not CaseContact.objects.filter(case=case, phone="13900001111").exists()
    entry = AuditEntry.objects.get(action=AuditAction.NUMBER_DECIDED)
    assert entry.actor == clerk and entry.detail["accepted"] is False and entry.detail["contact_id"] is None
    assert CaseEvent.objects.get(case=case, type=CaseEventType.NUMBER_DECLINED).actor == clerk


def test_listening_in_is_audited_with_the_call_it_joined(manager_client, manager, case, sent, dialer_up,
                                                         django_capture_on_commit_callbacks):
    # given: the manager has an extension; the lines board shows the collector talking on the case
    manager.sip_endpoint = "8009"
    manager.save()
    cache.set("dialer:lines", {"lines": 4, "calls": [
        {"call_uuid": "c0ffee", "phase": "connected", "direction": "outbound", "extension": "8001",
         "collector_id": case.collector_id, "case_id": case.pk, "number": "13812345678", "since": 0,
         "connected_at": None}]}, 30)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("cases:listen-in"), {"call_uuid": "c0ffee"}, REMOTE_ADDR="10.5.5.5")
    # then: the dialer is asked, and the audit log says who listened to whose call on which case
    assert sent == [{"type": "listen", "call_uuid": "c0ffee", "user_id": manager.pk, "ext": "8009"}]
    entry = AuditEntry.objects.get(action=AuditAction.LISTEN_IN)
    assert entry.actor == manager and entry.ip_address == "10.5.5.5" and entry.object_id == "c0ffee"
    assert entry.detail["collector_id"] == case.collector_id and entry.detail["case_id"] == case.pk
    assert case.case_no in entry.summary and "138****5678" in entry.summary and "8009" in entry.summary


def test_refused_listen_in_writes_nothing(manager_client, manager, sent):
    # given: no extension
    # when
    manager_client.post(reverse("cases:listen-in"), {"call_uuid": "c0ffee"})
    # then
    assert sent == [] and not AuditEntry.objects.filter(action=AuditAction.LISTEN_IN).exists()


def _record_manual_call(client, case, **data):
    from django.utils import timezone

    return client.post(reverse("cases:call-create", args=[case.pk]), {
        "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "result": "no_answer", **data,
    }, HTTP_HX_REQUEST="true")


def test_a_number_typed_in_a_manual_call_record_is_audited_and_offered(collector_client, collector, case):
    # when: the collector records a call made outside the system to a number the case does not hold
    response = _record_manual_call(collector_client, case, other_number="139 0000 2222")
    # then: the call is recorded, the number offered to the owner clerk and audited
    assert response.status_code == 200
    suggestion = NumberSuggestion.objects.get(case=case)
    assert suggestion.number == "13900002222" and suggestion.suggested_by == collector
    entry = AuditEntry.objects.get(action=AuditAction.NUMBER_TYPED)
    assert entry.detail["via"] == "manual" and entry.detail["suggestion_id"] == suggestion.pk
    assert "登记电话记录（其他号码）" in entry.summary and "139****2222" in entry.summary
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.NUMBER_SUGGESTED).count() == 1


def test_a_manual_call_record_to_a_listed_contact_offers_nothing(collector_client, case):
    # when
    _record_manual_call(collector_client, case, contact=case.contacts.get().pk)
    # then
    assert not NumberSuggestion.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditAction.NUMBER_TYPED).exists()
