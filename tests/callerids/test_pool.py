"""The caller-ID pool (issue 17): which number shows on the next call (rotation by room and recent answer rate),
the bank's own numbers first, exact daily caps, attempts given back, and automatic resting of a number whose answer
rate collapsed (疑似被标记), audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry
from callerids import choice
from callerids.actions import (
    caller_number_call_ended,
    caller_number_check_health,
    caller_number_release,
    caller_number_take,
)
from callerids.exceptions import CallerNumbersExhaustedError
from callerids.models import CallerNumber, CallerNumberDay, CallerNumberState
from callerids.selectors import caller_number_for, local_day


def _cand(number_id, *, cap=100, today=0, attempts=0, answered=0):
    return choice.Candidate(number_id=number_id, number=f"0216100000{number_id}", daily_cap=cap,
                            attempts_today=today, recent_attempts=attempts, recent_answered=answered)


# ---- the choice (pure) ---------------------------------------------------------------------------------------

def test_choose_prefers_the_number_with_most_room_when_rates_are_equal():
    # when
    chosen = choice.choose([_cand(1, today=30, attempts=100, answered=30), _cand(2, today=10, attempts=100,
                                                                                 answered=30)])
    # then
    assert chosen.number_id == 2


def test_choose_prefers_the_better_recent_answer_rate_when_room_is_equal():
    # when
    chosen = choice.choose([_cand(1, attempts=200, answered=20), _cand(2, attempts=200, answered=80)])
    # then
    assert chosen.number_id == 2


def test_choose_rotates_between_equal_numbers():
    # given
    cands = {1: _cand(1), 2: _cand(2), 3: _cand(3)}
    picked = []
    # when: six calls, each counted on the chosen number
    for _ in range(6):
        c = choice.choose(list(cands.values()))
        picked.append(c.number_id)
        cands[c.number_id] = _cand(c.number_id, today=c.attempts_today + 1)
    # then
    assert sorted(picked) == [1, 1, 2, 2, 3, 3]


def test_choose_skips_numbers_at_their_cap_and_gives_none_when_all_are():
    # when / then
    assert choice.choose([_cand(1, cap=5, today=5), _cand(2, cap=5, today=4)]).number_id == 2
    assert choice.choose([_cand(1, cap=5, today=5), _cand(2, cap=5, today=5)]) is None


def test_choose_prefers_a_proven_number_to_one_with_more_room_and_a_poor_answer_rate():
    # when: number 1 is fresh today but answered 3 of 60 lately; number 2 used 20 of 100 today, answers 40 %
    chosen = choice.choose([_cand(1, attempts=60, answered=3), _cand(2, today=20, attempts=500, answered=200)])
    # then
    assert chosen.number_id == 2


# ---- taking and giving back (database) -----------------------------------------------------------------------

def _number(number, **extra):
    return CallerNumber.objects.create(number=number, **extra)


def _attempts(number):
    day = CallerNumberDay.objects.filter(caller_number__number=number, day=local_day(timezone.now())).first()
    return (day.attempts, day.answered) if day else (0, 0)


@pytest.mark.django_db
def test_take_returns_nothing_when_the_trunk_has_no_pool(bank):
    # when / then
    assert caller_number_take(bank_id=bank.pk, trunk="trunk", now=timezone.now()) == ""


@pytest.mark.django_db
def test_take_uses_the_banks_own_numbers_when_it_has_any_else_the_shared_ones(bank, other_bank):
    # given
    _number("02161000001")
    _number("02161000002", bank=bank)
    _number("02161000003", bank=bank, state=CallerNumberState.RESTED)
    # when / then
    now = timezone.now()
    assert {caller_number_take(bank_id=bank.pk, trunk="trunk", now=now) for _ in range(4)} == {"02161000002"}
    assert caller_number_take(bank_id=other_bank.pk, trunk="trunk", now=now) == "02161000001"
    assert caller_number_take(bank_id=None, trunk="trunk", now=now) == "02161000001"
    assert caller_number_take(bank_id=bank.pk, trunk="other-trunk", now=now) == ""


@pytest.mark.django_db
def test_take_counts_each_attempt_and_stops_exactly_at_the_daily_caps(bank):
    # given: two numbers of 3 and 2 calls a day
    _number("02161000001", daily_cap=3)
    _number("02161000002", daily_cap=2)
    now = timezone.now()
    # when
    taken = [caller_number_take(bank_id=bank.pk, trunk="trunk", now=now) for _ in range(5)]
    # then
    assert sorted(taken) == ["02161000001"] * 3 + ["02161000002"] * 2
    assert _attempts("02161000001") == (3, 0) and _attempts("02161000002") == (2, 0)
    with pytest.raises(CallerNumbersExhaustedError, match=r"外显号码今天的外呼次数已用完（2 个号码都已达到每日上限）"):
        caller_number_take(bank_id=bank.pk, trunk="trunk", now=now)
    # when: tomorrow
    tomorrow = now + dt.timedelta(days=1)
    assert caller_number_take(bank_id=bank.pk, trunk="trunk", now=tomorrow) in {"02161000001", "02161000002"}


@pytest.mark.django_db
def test_take_refuses_when_every_number_rests(bank):
    # given
    _number("02161000001", state=CallerNumberState.FLAGGED)
    # when / then
    with pytest.raises(CallerNumbersExhaustedError, match="外显号码池没有可用的号码"):
        caller_number_take(bank_id=bank.pk, trunk="trunk", now=timezone.now())


@pytest.mark.django_db
def test_release_gives_the_attempt_back(bank):
    # given
    _number("02161000001", daily_cap=1)
    now = timezone.now()
    caller_number_take(bank_id=bank.pk, trunk="trunk", now=now)
    # when
    caller_number_release(number="02161000001", now=now)
    # then
    assert _attempts("02161000001") == (0, 0)
    assert caller_number_take(bank_id=bank.pk, trunk="trunk", now=now) == "02161000001"


@pytest.mark.django_db
def test_pool_number_is_recognised_in_any_written_form():
    # given
    _number("02161000001")
    # when / then
    assert caller_number_for("021-6100 0001").number == "02161000001"
    assert caller_number_for("+86 21 6100 0001").number == "02161000001"
    assert caller_number_for("02161000009") is None


# ---- health ------------------------------------------------------------------------------------------------------

def _day(number, attempts, answered):
    CallerNumberDay.objects.create(caller_number=number, day=local_day(timezone.now()), attempts=attempts,
                                   answered=answered)


@pytest.mark.django_db
def test_a_number_answered_at_under_half_the_pools_rate_is_rested_and_audited():
    # given: the pool answers 40 % today; this number 3 of 25 (12 %)
    bad, good = _number("02161000001"), _number("02161000002")
    _day(good, 50, 20)
    _day(bad, 25, 3)
    # when: its next call ends unanswered
    caller_number_call_ended(number=bad.number, answered=False, now=timezone.now())
    # then
    bad.refresh_from_db()
    assert bad.state == CallerNumberState.FLAGGED and bad.get_state_display() == "疑似被标记"
    assert bad.state_reason.startswith("今日接通率 12%（3/25），号码池其他号码 40%")
    entry = AuditEntry.objects.get(action=AuditAction.CALLER_NUMBER)
    assert entry.actor is None and entry.actor_name == "系统" and "已自动休息" in entry.summary
    # and the rotation no longer uses it
    assert caller_number_take(bank_id=None, trunk="trunk", now=timezone.now()) == good.number


@pytest.mark.django_db
def test_a_number_is_not_judged_before_it_made_enough_calls_today():
    # given: 1 of 19, the pool 40 %
    bad, good = _number("02161000001"), _number("02161000002")
    _day(good, 50, 20)
    _day(bad, 19, 1)
    # when / then
    assert not caller_number_check_health(caller_number=bad, now=timezone.now())
    bad.refresh_from_db()
    assert bad.state == CallerNumberState.ACTIVE


@pytest.mark.django_db
def test_a_number_at_more_than_half_the_pools_rate_stays_active():
    # given: 25 % against the pool's 40 %
    fair, good = _number("02161000001"), _number("02161000002")
    _day(good, 50, 20)
    _day(fair, 40, 10)
    # when
    caller_number_call_ended(number=fair.number, answered=True, now=timezone.now())
    # then
    fair.refresh_from_db()
    assert fair.state == CallerNumberState.ACTIVE and _attempts(fair.number) == (40, 11)
