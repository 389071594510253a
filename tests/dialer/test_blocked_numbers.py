"""Blocked numbers (禁拨号码, issue 15): a collector marks a number 空号 / 停机 / 本人要求勿扰 / 非本人 from the
dial list with a reason; the next dial to it is refused before any originate; the owner clerk (or a manager) lifts
it; both are in the audit log and on the case's timeline, and the case page shows them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry
from cases.enums import CaseEventType, CaseStatus
from cases.models import BlockedNumber, CallRefusal, CaseEvent
from dialer.compliance import ComplianceFacts, check
from tests import factories as f


@pytest.fixture
def case(bank, collector, clerk):
    collector.sip_endpoint = "8001"
    collector.save()
    case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, owner_clerk=clerk,
                         status=CaseStatus.IN_PROGRESS, mobile="13812345678")
    f.CaseContactFactory(case=case, phone="136 9876 5432", relation="配偶", name="李某")
    return case


def _dial(client, case, contact=""):
    return client.post(reverse("cases:call-dial", args=[case.pk]), {"contact": contact})


def test_marked_number_is_refused_before_any_originate_and_lifted_by_the_clerk(
        collector_client, clerk_client, case, collector, clerk, sent, dialer_up, django_capture_on_commit_callbacks):
    # given: the collector marks the debtor's mobile 空号 from the dial list
    marked = collector_client.post(reverse("cases:number-block", args=[case.pk]),
                                   {"contact": "", "reason": "empty", "note": "拨打提示空号"})
    assert marked.status_code == 302
    # when: the next dial to it
    with django_capture_on_commit_callbacks(execute=True):
        refused = _dial(collector_client, case)
    # then: refused with the reason, and nothing went to the dialer; the refusal is on record (拒绝拨打记录)
    assert refused.status_code == 409 and "空号" in refused.json()["error"]
    assert sent == []
    assert list(CallRefusal.objects.values_list("collector_id", "case_id", "number", "rule", "message")) == [
        (collector.pk, case.pk, "13812345678", "empty", "该号码已标记为空号，不能拨打")]
    # when: the owner clerk lifts it with a reason
    blocked = BlockedNumber.objects.get()
    lifted = clerk_client.post(reverse("cases:number-unblock", args=[case.pk, blocked.pk]), {"reason": "客户已复机"})
    with django_capture_on_commit_callbacks(execute=True):
        again = _dial(collector_client, case)
    # then: dialled again; the row stays, lifted
    assert lifted.status_code == 302
    assert again.status_code == 200 and sent[0]["number"] == "13812345678"
    blocked.refresh_from_db()
    assert blocked.lifted_by == clerk and blocked.lift_reason == "客户已复机"
    # and both are in the audit log and on the timeline
    assert list(AuditEntry.objects.filter(object_type="blocked_number").order_by("pk")
                .values_list("action", "actor_id")) == [(AuditAction.NUMBER_BLOCK, collector.pk),
                                                        (AuditAction.NUMBER_UNBLOCK, clerk.pk)]
    events = list(CaseEvent.objects.filter(case=case, type__in=[CaseEventType.NUMBER_BLOCKED,
                                                                 CaseEventType.NUMBER_UNBLOCKED]).order_by("pk"))
    assert [(e.type, e.actor_id) for e in events] == [(CaseEventType.NUMBER_BLOCKED, collector.pk),
                                                      (CaseEventType.NUMBER_UNBLOCKED, clerk.pk)]
    assert "138****5678" in events[0].summary and "13812345678" not in events[0].summary


def test_contact_number_is_matched_by_its_digits(collector_client, case, sent, dialer_up):
    # given: the contact is stored with spaces
    contact = case.contacts.get()
    collector_client.post(reverse("cases:number-block", args=[case.pk]),
                          {"contact": contact.pk, "reason": "wrong_person", "note": "接听人说不认识债务人"})
    # when
    response = _dial(collector_client, case, contact.pk)
    # then
    assert BlockedNumber.objects.get().number == "13698765432"
    assert response.status_code == 409 and "非本人" in response.json()["error"]


def test_dial_list_shows_the_mark_instead_of_the_dial_button(collector_client, case):
    # given
    collector_client.post(reverse("cases:number-block", args=[case.pk]),
                          {"contact": "", "reason": "suspended", "note": "停机"})
    # when
    html = collector_client.get(reverse("cases:dial-numbers", args=[case.pk])).content.decode()
    # then: the mobile shows 停机 and only the contact keeps a dial button
    assert "cp-blocked" in html and "停机" in html
    assert html.count("data-cp-dial ") + html.count("data-cp-dial>") == 1


def test_case_page_shows_the_mark_with_undo_for_the_owner_clerk_only(collector_client, clerk_client, case):
    # given
    collector_client.post(reverse("cases:number-block", args=[case.pk]),
                          {"contact": "", "reason": "do_not_call", "note": "本人要求不再来电"})
    blocked = BlockedNumber.objects.get()
    undo = reverse("cases:number-unblock", args=[case.pk, blocked.pk])
    # when
    clerk_page = clerk_client.get(reverse("cases:case-detail", args=[case.pk])).content.decode()
    collector_page = collector_client.get(reverse("cases:case-detail", args=[case.pk])).content.decode()
    # then
    assert "禁拨号码" in clerk_page and "本人要求勿扰" in clerk_page and undo in clerk_page
    assert "本人要求勿扰" in collector_page and undo not in collector_page
    assert "13812345678" not in collector_page


def test_collector_cannot_lift_a_mark(collector_client, case):
    # given
    collector_client.post(reverse("cases:number-block", args=[case.pk]),
                          {"contact": "", "reason": "empty", "note": "空号"})
    blocked = BlockedNumber.objects.get()
    # when
    response = collector_client.post(reverse("cases:number-unblock", args=[case.pk, blocked.pk]), {"reason": "我觉得"})
    # then
    assert response.status_code == 403
    blocked.refresh_from_db()
    assert blocked.is_active


def test_mark_needs_a_reason_and_a_note(collector_client, case):
    # when
    response = collector_client.post(reverse("cases:number-block", args=[case.pk]),
                                     {"contact": "", "reason": "empty", "note": " "}, follow=True)
    # then
    assert "请填写说明" in response.content.decode()
    assert not BlockedNumber.objects.exists()


def test_lift_needs_a_reason(collector_client, clerk_client, case):
    # given
    collector_client.post(reverse("cases:number-block", args=[case.pk]), {"contact": "", "reason": "empty",
                                                                         "note": "空号"})
    blocked = BlockedNumber.objects.get()
    # when
    response = clerk_client.post(reverse("cases:number-unblock", args=[case.pk, blocked.pk]), {"reason": ""},
                                 follow=True)
    # then
    assert "请填写撤销原因" in response.content.decode()
    blocked.refresh_from_db()
    assert blocked.is_active


def test_another_collector_cannot_mark_a_case_they_do_not_work(other_collector, case):
    from django.test import Client

    client = Client()
    client.force_login(other_collector)
    # when
    response = client.post(reverse("cases:number-block", args=[case.pk]), {"contact": "", "reason": "empty",
                                                                          "note": "空号"})
    # then
    assert response.status_code == 404
    assert not BlockedNumber.objects.exists()


@pytest.mark.parametrize(("reason", "word"), [("empty", "空号"), ("suspended", "停机"), ("do_not_call", "勿扰"),
                                              ("wrong_person", "非本人")])
def test_dialer_guard_refuses_every_reason(reason, word):
    import datetime as dt

    facts = ComplianceFacts(window_start=dt.time(8), window_end=dt.time(21), max_answered_per_debtor=3,
                            max_unanswered_per_number=6, answered_today=0, unanswered_today=0, blocked=reason)
    # when
    refusal = check(facts, local_now=dt.datetime(2026, 12, 7, 10, 0))
    # then
    assert refusal is not None and refusal.rule == reason and word in refusal.message
