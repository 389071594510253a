"""Reminders that help (issue 16 item 4, issue 13 item 5): titles agree with bodies, one row per case and
topic, resolved by the action that removes their reason, the badge counts only what needs action, and a daily
digest."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cases.actions.calls import call_record_create
from cases.actions.reminders import reminder_digest_send, reminder_fire_due, reminder_resolve_stale
from cases.actions.repayments import repayment_record
from cases.actions.returns import case_retain, case_return
from cases.actions.visits import visit_record_create
from cases.enums import CaseStatus, ReminderKind
from cases.models import Reminder, UserEvent
from cases.selectors.reminders import reminder_count_unread
from realtime import groups
from realtime.events import ReminderDigest, ReminderResolved

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=9, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture
def assigned_case(make_case, collector, clerk):
    def _make(*, collector=collector, assigned_at=None, return_date=dt.date(2027, 2, 1), **kw):
        return make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
                         assigned_at=assigned_at, return_date=return_date, entrust_date=dt.date(2026, 8, 1), **kw)

    return _make


@pytest.mark.django_db
@pytest.mark.parametrize("days_left", [30, 20, 15, 11, 8, 7, 5, 3, 1])
def test_expiry_reminder_title_and_body_agree(assigned_case, collector, days_left):
    # given: a case first seen `days_left` days before its return date (issue 13.5: 15天到期 said 还有11天)
    assigned_case(return_date=dt.date(2026, 11, 29) + dt.timedelta(days=days_left))
    # when
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
        reminder = Reminder.objects.get(user=collector)
        body = reminder.current_text
    # then: the title names a window the body's days fall in
    title = reminder.get_kind_display()
    window = int(re.fullmatch(r"(\d+)天内到期", title).group(1))
    left = int(re.search(r"还有(\d+)天", body).group(1))
    assert left == days_left
    assert left <= window


@pytest.mark.django_db
def test_expiry_reminder_body_counts_the_days_left_when_read(assigned_case, collector):
    # given: a 15-day reminder created 11 days before the return date
    assigned_case(return_date=dt.date(2026, 12, 10))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    reminder = Reminder.objects.get(user=collector)
    # when: read three days later
    with time_machine.travel(at(2026, 12, 2), tick=False):
        text = reminder.current_text
    # then
    assert text == "此案件还有8天到期，请抓紧进行工作"


@pytest.mark.django_db
def test_retained_case_reminders_resolve_at_once_and_leave_the_badge(assigned_case, collector, clerk, published,
                                                                     django_capture_on_commit_callbacks):
    # given: both the collector and the clerk hold an unread 7-day reminder
    case = assigned_case(return_date=dt.date(2026, 12, 5))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    assert reminder_count_unread(user=collector) == reminder_count_unread(user=clerk) == 1
    # when: the clerk retains the case
    with time_machine.travel(at(2026, 11, 29, 10), tick=False), django_capture_on_commit_callbacks(execute=True):
        case_retain(case=case, by=clerk)
    # then: no longer unread for either, and their open pages are told
    assert reminder_count_unread(user=collector) == reminder_count_unread(user=clerk) == 0
    assert not Reminder.objects.filter(resolved_at=None).exists()
    [event] = [e for e in published.sent_to(groups.user(collector.pk)) if isinstance(e, ReminderResolved)]
    assert event.unread_count == 0
    assert event.reminder_ids == (Reminder.objects.get(user=collector).pk,)


@pytest.mark.django_db
def test_returned_case_reminders_resolve(assigned_case, collector, clerk):
    # given
    case = assigned_case(return_date=dt.date(2026, 12, 5))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    # when
    case_return(case=case, by=clerk)
    # then
    assert reminder_count_unread(user=collector) == 0
    assert reminder_count_unread(user=clerk) == 0


@pytest.mark.django_db
def test_first_call_reminder_resolves_when_the_call_is_recorded(assigned_case, collector):
    # given: a first-call reminder (assigned 2 Nov, no call since)
    case = assigned_case(assigned_at=at(2026, 11, 2))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    reminder = Reminder.objects.get(user=collector, kind=ReminderKind.FIRST_CALL_OVERDUE)
    # when: the collector records a call (no scheduler tick in between)
    call_record_create(case=case, collector=collector, number="13800000000", by=collector, result="no_answer")
    # then
    reminder.refresh_from_db()
    assert reminder.resolved_at is not None
    assert reminder_count_unread(user=collector) == 0


@pytest.mark.django_db
def test_first_visit_reminder_resolves_when_the_visit_is_recorded(assigned_case, field_collector):
    # given
    case = assigned_case(collector=field_collector, assigned_at=at(2026, 11, 2))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    reminder = Reminder.objects.get(user=field_collector, kind=ReminderKind.FIRST_VISIT_OVERDUE)
    # when
    visit_record_create(case=case, collector=field_collector, by=field_collector, visited_on=dt.date.today(),
                        address="沈阳市和平区", result="nobody_home")
    # then
    reminder.refresh_from_db()
    assert reminder.resolved_at is not None


@pytest.mark.django_db
def test_first_visit_reminder_only_for_field_collectors(assigned_case, collector):
    # given: a phone collector's case unvisited for weeks (the demo's 190 unread were mostly 首次外访超期)
    assigned_case(assigned_at=at(2026, 11, 2))
    # when
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    # then
    assert not Reminder.objects.filter(kind=ReminderKind.FIRST_VISIT_OVERDUE).exists()


@pytest.mark.django_db
def test_settled_case_reminders_resolve(assigned_case, collector, clerk):
    # given
    case = assigned_case(return_date=dt.date(2026, 12, 5), entrusted_amount=Decimal("500.00"),
                         balance=Decimal("500.00"))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    # when: repaid in full
    repayment_record(case=case, amount=Decimal("500.00"), repaid_on=dt.date.today(), by=clerk)
    # then
    assert reminder_count_unread(user=collector) == 0


@pytest.mark.django_db
def test_reassigned_case_reminders_resolve_on_the_tick(assigned_case, collector, other_collector):
    # given
    case = assigned_case(assigned_at=at(2026, 11, 2))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    # when: the case moved to another collector
    case.collector = other_collector
    case.save(update_fields=["collector"])
    n = reminder_resolve_stale()
    # then
    assert n == 1
    assert reminder_count_unread(user=collector) == 0


@pytest.mark.django_db
def test_reminder_list_unread_tab_shows_only_what_needs_action(assigned_case, collector, clerk, collector_client):
    # given: two reminders, one resolved by a retention
    kept = assigned_case(return_date=dt.date(2026, 12, 5))
    retained = assigned_case(return_date=dt.date(2026, 12, 6))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
        case_retain(case=retained, by=clerk)
        # when
        unread = collector_client.get(reverse("cases:reminder-list")).content.decode()
        everything = collector_client.get(reverse("cases:reminder-list") + "?show=all").content.decode()
    # then
    assert kept.case_no in unread and retained.case_no not in unread
    assert "已处理" in everything and retained.case_no in everything
    assert "待处理：" in unread and "7天内到期 1" in unread


@pytest.mark.django_db
def test_daily_digest_once_per_day_grouped_by_kind(assigned_case, collector, published,
                                                   django_capture_on_commit_callbacks):
    # given: two expiry reminders and one first-call reminder
    assigned_case(return_date=dt.date(2026, 12, 5), assigned_at=at(2026, 11, 2))
    assigned_case(return_date=dt.date(2026, 12, 6))
    with time_machine.travel(at(2026, 11, 29, 7), tick=False):
        reminder_fire_due()
    # when: the scheduler ticks before 08:00, then twice after
    with django_capture_on_commit_callbacks(execute=True):
        before = reminder_digest_send(now=at(2026, 11, 29, 7, 30))
        first = reminder_digest_send(now=at(2026, 11, 29, 8, 1))
        again = reminder_digest_send(now=at(2026, 11, 29, 9, 0))
    # then
    assert (before, again) == (0, 0)
    assert first == 2  # the collector and the clerk
    digests = [e for e in published.sent_to(groups.user(collector.pk)) if isinstance(e, ReminderDigest)]
    assert digests == [ReminderDigest(day="2026-11-29", lines=("7天内到期 2 件", "首次电话超期 1 件"), total=3)]
    assert UserEvent.objects.filter(user=collector, type="reminder.digest").count() == 1


@pytest.mark.django_db
def test_first_call_reminder_only_for_collectors_who_phone(assigned_case, field_collector):
    # given: a field collector's own case, neither called nor visited for weeks
    assigned_case(collector=field_collector, assigned_at=at(2026, 11, 2))
    # when
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    # then: chased by the first visit only
    assert sorted(Reminder.objects.filter(user=field_collector).values_list("kind", flat=True)) == [
        "first_visit_overdue"]
