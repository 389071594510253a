"""连续外呼 (issue 17): starting a session from 今日工作 or the case list, the collector's controls and bar, the
wrap-up released by a saved outcome, the managers' board, and the pacing rule (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.actions.calls import call_outcome_record
from cases.enums import CallResult, CallSource, CaseStatus
from cases.models import CallRecord
from dialer import pacing
from progressive import actions
from progressive.exceptions import SessionError
from progressive.models import DialSession, SessionStatus
from realtime import groups

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone(collector):
    collector.sip_endpoint = "8001"
    collector.save()
    return collector


def open_case(make_case, who, **kw):
    return make_case(collector=who, status=CaseStatus.IN_PROGRESS, **kw)


def test_start_from_the_work_queue_takes_its_order(client, phone, make_case):
    # given: two new cases and one in progress (not in the queue)
    new1 = make_case(collector=phone, status=CaseStatus.NOT_STARTED, balance=1000)
    new2 = make_case(collector=phone, status=CaseStatus.NOT_STARTED, balance=90000)
    open_case(make_case, phone)
    client.force_login(phone)
    # when
    resp = client.post(reverse("progressive:session-start"), {"source": "queue", "wrap_up_s": "45"})
    # then: the queue's cases in its order (the bigger balance first)
    assert resp.status_code == 302 and resp.url == reverse("worklist:queue")
    session = DialSession.objects.get(collector=phone)
    assert session.case_ids == [new2.pk, new1.pk] and session.wrap_up_s == 45
    assert session.status == SessionStatus.ACTIVE


def test_start_from_the_case_list_takes_its_filters(client, phone, make_case, bank, other_bank):
    # given: the collector's cases of two banks
    mine = open_case(make_case, phone, bank=bank)
    open_case(make_case, phone, bank=other_bank)
    client.force_login(phone)
    # when: the list is filtered to one bank
    client.post(reverse("progressive:session-start"), {"source": "cases", "bank": str(bank.pk), "wrap_up_s": "30"})
    # then
    assert DialSession.objects.get(collector=phone).case_ids == [mine.pk]


def test_start_keeps_only_the_collectors_open_cases_and_one_session(phone, other_collector, make_case):
    mine = open_case(make_case, phone)
    theirs = open_case(make_case, other_collector)
    closed = make_case(collector=phone, status=CaseStatus.SETTLED)
    session = actions.session_start(collector=phone, case_ids=[theirs.pk, mine.pk, closed.pk, mine.pk], wrap_up_s=30)
    assert session.case_ids == [mine.pk]
    with pytest.raises(SessionError, match="已经有一个连续外呼"):
        actions.session_start(collector=phone, case_ids=[mine.pk], wrap_up_s=30)


@pytest.mark.parametrize(("change", "message"), [
    ({"sip_endpoint": ""}, "设置分机"),
    ({"is_phone_collector": False, "is_field_collector": True}, "电话催收业务员"),
])
def test_start_refused_without_a_phone(phone, make_case, change, message):
    case = open_case(make_case, phone)
    for k, v in change.items():
        setattr(phone, k, v)
    phone.save()
    with pytest.raises(SessionError, match=message):
        actions.session_start(collector=phone, case_ids=[case.pk], wrap_up_s=30)


def test_controls_move_the_session_and_answer_with_the_bar(client, phone, make_case, published,
                                                          django_capture_on_commit_callbacks):
    cases = [open_case(make_case, phone) for _ in range(3)]
    session = actions.session_start(collector=phone, case_ids=[c.pk for c in cases], wrap_up_s=30)
    client.force_login(phone)
    url = lambda action: reverse("progressive:session-control", args=[session.pk, action])  # noqa: E731
    # pause
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(url("pause"))
    assert "已暂停" in resp.content.decode() and DialSession.objects.get().status == SessionStatus.PAUSED
    # skip the first case, resume
    client.post(url("skip"))
    resp = client.post(url("resume"))
    session.refresh_from_db()
    assert (session.status, session.position) == (SessionStatus.ACTIVE, 1)
    assert "下一个：" in resp.content.decode() and cases[1].case_no in resp.content.decode()
    # extend the wrap-up
    client.post(url("extend"))
    session.refresh_from_db()
    assert session.extended and session.ready_at > timezone.now() + dt.timedelta(seconds=25)
    # stop
    resp = client.post(url("stop"))
    session.refresh_from_db()
    assert session.status == SessionStatus.STOPPED and "已结束" in resp.content.decode()
    assert [m["status"] for m in published.messages_to(groups.user(phone.pk))] == ["paused"]
    assert [m["type"] for m in published.messages_to(groups.lines())] == ["dialsession.changed"]


def test_another_user_cannot_control_a_session(client, phone, other_collector, make_case):
    session = actions.session_start(collector=phone, case_ids=[open_case(make_case, phone).pk], wrap_up_s=30)
    client.force_login(other_collector)
    resp = client.post(reverse("progressive:session-control", args=[session.pk, "stop"]))
    assert resp.status_code == 403
    assert DialSession.objects.get().status == SessionStatus.ACTIVE


def _connected_call(case, collector, call_uuid):
    now = timezone.now()
    return CallRecord.objects.create(case=case, collector=collector, number=case.mobile, source=CallSource.DIALER,
                                     started_at=now, answered_at=now, ended_at=now, call_uuid=call_uuid)


def test_saving_the_outcome_ends_the_wrap_up(phone, make_case):
    # given: a session in its wrap-up after a connected call
    case = open_case(make_case, phone)
    session = actions.session_start(collector=phone, case_ids=[case.pk, open_case(make_case, phone).pk],
                                    wrap_up_s=120)
    target = actions.session_next_target(session_id=session.pk)
    actions.session_call_placed(target=target, call_uuid="u1")
    call = _connected_call(case, phone, "u1")
    actions.session_call_ended(session_id=session.pk, call_uuid="u1", answered=True, cause="completed")
    session.refresh_from_db()
    assert session.awaiting_call_id == call.pk and session.ready_at > timezone.now() + dt.timedelta(seconds=100)
    # when: the collector saves the outcome
    call_outcome_record(call=call, by=phone, result=CallResult.SELF_ANSWERED, note="说下周还")
    # then: the next call may go now
    session.refresh_from_db()
    assert session.awaiting_call_id is None and session.ready_at <= timezone.now()


def test_outcome_saved_before_the_session_step_does_not_wait_the_wrap_up(phone, make_case):
    # given: a connected call whose outcome the collector saved before the dialer reported its end to the session
    case = open_case(make_case, phone)
    session = actions.session_start(collector=phone, case_ids=[case.pk], wrap_up_s=120)
    actions.session_call_placed(target=actions.session_next_target(session_id=session.pk), call_uuid="u3")
    call = _connected_call(case, phone, "u3")
    call_outcome_record(call=call, by=phone, result=CallResult.SELF_ANSWERED, note="说下周还")
    # when
    actions.session_call_ended(session_id=session.pk, call_uuid="u3", answered=True, cause="completed")
    # then: the next call may go now
    session.refresh_from_db()
    assert session.awaiting_call_id is None and session.ready_at <= timezone.now() and session.connected == 1


def test_extended_wrap_up_is_kept_after_the_outcome(phone, make_case):
    case = open_case(make_case, phone)
    session = actions.session_start(collector=phone, case_ids=[case.pk], wrap_up_s=10)
    actions.session_call_placed(target=actions.session_next_target(session_id=session.pk), call_uuid="u2")
    call = _connected_call(case, phone, "u2")
    actions.session_call_ended(session_id=session.pk, call_uuid="u2", answered=True, cause="completed")
    actions.session_extend(session=session, by=phone)
    call_outcome_record(call=call, by=phone, result=CallResult.SELF_ANSWERED)
    session.refresh_from_db()
    assert session.ready_at > timezone.now() + dt.timedelta(seconds=30)


def test_bar_shows_the_open_session_and_nothing_without_one(client, phone, make_case):
    client.force_login(phone)
    assert client.get(reverse("progressive:session-bar")).content.strip() == b""
    actions.session_start(collector=phone, case_ids=[open_case(make_case, phone).pk], wrap_up_s=30)
    body = client.get(reverse("progressive:session-bar")).content.decode()
    assert "连续外呼" in body and "进行中" in body and "暂停" in body


def test_board_is_for_managers_and_lists_open_sessions(client, phone, manager, make_case):
    actions.session_start(collector=phone, case_ids=[open_case(make_case, phone).pk], wrap_up_s=30)
    client.force_login(phone)
    assert client.get(reverse("progressive:session-board")).status_code == 403
    client.force_login(manager)
    body = client.get(reverse("progressive:session-board")).content.decode()
    assert phone.display_name in body and "进行中" in body and "0 / 1" in body


def test_work_queue_page_offers_to_start(client, phone, make_case):
    make_case(collector=phone, status=CaseStatus.NOT_STARTED)
    client.force_login(phone)
    body = client.get(reverse("worklist:queue")).content.decode()
    assert reverse("progressive:session-start") in body and "连续外呼" in body


# ---- pacing (pure) -------------------------------------------------------------------------------------------

def _w(sid, ext, minute):
    return pacing.Waiting(session_id=sid, extension=ext, since=dt.datetime(2026, 12, 6, 2, minute, tzinfo=dt.UTC))


def test_pick_gives_free_lines_to_the_longest_waiting_and_keeps_the_reserve():
    waiting = [_w(1, "8001", 5), _w(2, "8002", 1), _w(3, "8003", 3)]
    chosen = pacing.pick(waiting, lines=6, in_use=3, reserve=1, busy_extensions=set())
    assert [w.session_id for w in chosen] == [2, 3]


def test_pick_skips_busy_phones_and_gives_nothing_when_only_the_reserve_is_free():
    waiting = [_w(1, "8001", 1), _w(2, "8002", 2)]
    assert [w.session_id for w in pacing.pick(waiting, lines=6, in_use=0, reserve=1, busy_extensions={"8001"})] == [2]
    assert pacing.pick(waiting, lines=6, in_use=5, reserve=1, busy_extensions=set()) == []
