"""内勤调配 (issue 15, 管理员能够管理内勤的调配): a manager moves an active clerk's cases of one bank to another
clerk with a reason; both clerks and the affected collectors see the new owner clerk at once; the move is in each
case's assignment history, timeline and the audit log."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry
from cases.enums import CaseEventType, CaseStatus
from cases.models import Case, CaseEvent, UserEvent
from tests import factories as f


@pytest.fixture
def new_clerk(db, bank):
    user = f.ClerkFactory(username="clerk_new", full_name="孙新内勤")
    f.ClerkBankScopeFactory(clerk=user, bank=bank)
    return user


@pytest.fixture
def owned(make_case, clerk, other_bank, collector, other_collector):
    f.ClerkBankScopeFactory(clerk=clerk, bank=other_bank)
    return {
        "a": make_case(case_no="CA-1", status=CaseStatus.IN_PROGRESS, owner_clerk=clerk, collector=collector),
        "b": make_case(case_no="CA-2", status=CaseStatus.IN_PROGRESS, owner_clerk=clerk, collector=other_collector),
        "other_bank": make_case(case_no="CA-3", bank=other_bank, status=CaseStatus.IN_PROGRESS, owner_clerk=clerk,
                                collector=collector),
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, **data):
    return client.post(reverse("cases:clerk-allocation"), data)


def test_cases_of_one_bank_move_and_everyone_sees_the_new_owner(manager_client, manager, clerk, new_clerk, bank,
                                                                 owned, collector, other_collector,
                                                                 django_capture_on_commit_callbacks):
    # given
    form = {"from_clerk": clerk.pk, "to_clerk": new_clerk.pk, "scope": "bank", "bank": bank.pk, "reason": "工作量调整"}
    preview = _post(manager_client, action="preview", **form)
    assert "共 2 件" in preview.content.decode()
    assert Case.objects.filter(owner_clerk=new_clerk).count() == 0  # a preview changes nothing
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(manager_client, action="confirm", **form)
    # then: the bank's two cases changed owner, the other bank's stayed
    assert response.status_code == 302
    owners = dict(Case.objects.values_list("case_no", "owner_clerk_id"))
    assert owners == {"CA-1": new_clerk.pk, "CA-2": new_clerk.pk, "CA-3": clerk.pk}
    # and both clerks and both collectors were told at once (stored events, replayed on reconnect)
    told = {e.user_id: e.payload["text"] for e in UserEvent.objects.filter(type="case.assigned")}
    assert set(told) == {clerk.pk, new_clerk.pk, collector.pk, other_collector.pk}
    assert told[collector.pk] == "您的 1 件委案负责内勤改为 孙新内勤，有问题请联系新的负责内勤"
    # and the collector's case page names the new owner clerk, the old clerk's too
    a = owned["a"]
    collector_page = _client(collector).get(reverse("cases:case-detail", args=[a.pk])).content.decode()
    old_clerk_page = _client(clerk).get(reverse("cases:case-detail", args=[a.pk])).content.decode()
    assert "孙新内勤" in collector_page
    assert "孙新内勤" in old_clerk_page
    # and it is in the assignment history, the timeline and the audit log, with the reason
    history = _client(new_clerk).get(reverse("cases:case-assignments", args=[a.pk])).content.decode()
    assert "负责内勤由 李内勤 改为 孙新内勤，原因：工作量调整" in history
    assert CaseEvent.objects.filter(case=a, type=CaseEventType.OWNER_CHANGED).count() == 1
    entry = AuditEntry.objects.get(action=AuditAction.CLERK_ALLOCATION)
    assert entry.actor == manager and "工作量调整" in entry.summary


def test_target_clerk_must_handle_the_bank(manager_client, clerk, other_clerk, owned, bank):
    # when: other_clerk handles only the other bank
    response = _post(manager_client, action="confirm", from_clerk=clerk.pk, to_clerk=other_clerk.pk, scope="bank",
                     bank=bank.pk, reason="调整")
    # then
    assert response.status_code == 400 and "未负责委案" in response.content.decode()
    assert not Case.objects.filter(owner_clerk=other_clerk).exists()


def test_reason_is_required(manager_client, clerk, new_clerk, owned, bank):
    # when
    response = _post(manager_client, action="confirm", from_clerk=clerk.pk, to_clerk=new_clerk.pk, scope="bank",
                     bank=bank.pk, reason="")
    # then
    assert response.status_code == 400
    assert not Case.objects.filter(owner_clerk=new_clerk).exists()


def test_listed_case_numbers_only(manager_client, clerk, new_clerk, owned):
    # when
    _post(manager_client, action="confirm", from_clerk=clerk.pk, to_clerk=new_clerk.pk, scope="cases",
          case_nos="CA-2\nCA-9", reason="按案件调整")
    # then
    assert list(Case.objects.filter(owner_clerk=new_clerk).values_list("case_no", flat=True)) == ["CA-2"]


def test_clerks_cannot_reallocate(clerk_client, clerk, new_clerk, owned, bank):
    # when
    page = clerk_client.get(reverse("cases:clerk-allocation"))
    post = _post(clerk_client, action="confirm", from_clerk=clerk.pk, to_clerk=new_clerk.pk, scope="all",
                 reason="x")
    # then
    assert page.status_code == 403 and post.status_code == 403
    assert not Case.objects.filter(owner_clerk=new_clerk).exists()
