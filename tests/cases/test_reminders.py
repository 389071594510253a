from __future__ import annotations

import datetime as dt
import io
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.urls import reverse

from cases.actions.reminders import reminder_fire_due, reminder_mark_read
from cases.enums import CaseStatus, ReminderKind
from cases.models import CallRecord, Reminder, UserEvent, VisitRecord
from cases.selectors.reminders import URGENCY_NONE, annotate_urgency
from realtime import groups
from realtime.events import DashboardCounterChanged, ReminderDue, ReminderRead

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=9, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture
def assigned_case(make_case, collector, clerk):
    def _make(*, assigned_at=None, return_date=dt.date(2027, 2, 1), status=CaseStatus.IN_PROGRESS, **kw):
        return make_case(collector=collector, owner_clerk=clerk, status=status, assigned_at=assigned_at,
                         return_date=return_date, entrust_date=dt.date(2026, 8, 1), **kw)

    return _make


def kinds_for(user):
    return sorted(Reminder.objects.filter(user=user).values_list("kind", flat=True))


# --- expiry (P2, C11) -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_reminder_fire_due_expiry_goes_to_collector_and_owner_clerk(assigned_case, collector, clerk, published,
                                                                    django_capture_on_commit_callbacks):
    # given: a case returning in 30 days
    case = assigned_case(return_date=dt.date(2026, 12, 29))
    # when
    with time_machine.travel(at(2026, 11, 29, 8), tick=False), django_capture_on_commit_callbacks(execute=True):
        reminder_fire_due()
    # then
    for user in (collector, clerk):
        reminder = Reminder.objects.get(user=user, case=case)
        assert reminder.kind == ReminderKind.EXPIRY_30
        assert reminder.text == "此案件还有30天到期，请抓紧进行工作"
        [event] = published.sent_to(groups.user(user.pk))
        assert isinstance(event, ReminderDue)
        assert event.reminder_id == reminder.pk
        assert event.unread_count == 1
    assert published.messages_to(groups.user(collector.pk))[0]["event_id"] == \
        UserEvent.objects.get(user=collector).pk


@pytest.mark.django_db
@pytest.mark.parametrize(("days_left", "kind"), [(30, "expiry_30"), (15, "expiry_15"), (7, "expiry_7"),
                                                 (3, "expiry_3"), (0, "expiry_3")])
def test_reminder_fire_due_expiry_thresholds(assigned_case, collector, days_left, kind):
    # given
    today = dt.date(2026, 11, 29)
    assigned_case(return_date=today + dt.timedelta(days=days_left))
    # when
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    # then
    assert kinds_for(collector) == [kind]


@pytest.mark.django_db
def test_reminder_fire_due_expiry_not_before_thirty_days_nor_for_closed_cases(assigned_case, collector):
    # given
    assigned_case(return_date=dt.date(2026, 12, 30))  # 31 days
    assigned_case(return_date=dt.date(2026, 12, 2), status=CaseStatus.SETTLED)
    # when
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    # then
    assert kinds_for(collector) == []


@pytest.mark.django_db
def test_reminder_fire_due_expiry_each_threshold_once_over_the_countdown(assigned_case, collector):
    # given
    assigned_case(return_date=dt.date(2026, 12, 29))
    # when: the scheduler runs every day of the countdown, several times a day
    day = dt.date(2026, 11, 29)
    while day <= dt.date(2026, 12, 29):
        for hour in (0, 9, 18):
            with time_machine.travel(at(day.year, day.month, day.day, hour), tick=False):
                reminder_fire_due()
        day += dt.timedelta(days=1)
    # then: each threshold announced once, each replacing the one before (one row per case and topic)
    assert kinds_for(collector) == ["expiry_3"]
    assert list(UserEvent.objects.filter(user=collector, type="reminder.due").order_by("id")
                .values_list("payload__kind", flat=True)) == ["expiry_30", "expiry_15", "expiry_7", "expiry_3"]


@pytest.mark.django_db
def test_reminder_fire_due_catch_up_after_downtime_sends_only_current_threshold(assigned_case, collector):
    # given: the scheduler was down from 30 days before to 10 days before the return date
    assigned_case(return_date=dt.date(2026, 12, 9))
    # when
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
        reminder_fire_due()
    # then: one reminder, with the days actually left
    [reminder] = Reminder.objects.filter(user=collector)
    assert reminder.kind == ReminderKind.EXPIRY_15
    assert reminder.text == "此案件还有10天到期，请抓紧进行工作"


@pytest.mark.django_db
def test_reminder_fire_due_retention_starts_a_new_countdown(assigned_case, collector):
    # given: the 3-day reminder went out, then the case was retained for a month
    case = assigned_case(return_date=dt.date(2026, 12, 1))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    case.return_date = dt.date(2027, 1, 1)
    case.save(update_fields=["return_date"])
    # when
    with time_machine.travel(at(2026, 12, 29), tick=False):
        reminder_fire_due()
    # then: the new countdown's reminder replaced the old one, unread again
    [reminder] = Reminder.objects.filter(user=collector)
    assert (reminder.kind, reminder.cycle, reminder.read_at, reminder.resolved_at) == (
        "expiry_3", "2027-01-01", None, None)
    assert UserEvent.objects.filter(user=collector, type="reminder.due").count() == 2


# --- first call / first visit (P3) across the 2026 National Day holiday ------------------------------------

@pytest.mark.django_db
def test_first_call_overdue_waits_out_national_day_holiday(assigned_case, collector):
    # given: assigned Monday 2026-09-28; 3 working days are 29th, 30th and (after 1–7 Oct) Thursday 8th
    assigned_case(assigned_at=at(2026, 9, 28, 10))
    # when: on the last day of the holiday week and on the deadline day itself
    for moment in (at(2026, 10, 7, 12), at(2026, 10, 8, 20)):
        with time_machine.travel(moment, tick=False):
            reminder_fire_due()
    # then: nothing yet (Monday–Friday counting would have fired on 2 October)
    assert not Reminder.objects.filter(kind=ReminderKind.FIRST_CALL_OVERDUE).exists()
    # when: the day after the deadline
    with time_machine.travel(at(2026, 10, 9, 0, 5), tick=False):
        reminder_fire_due()
    # then
    [reminder] = Reminder.objects.filter(kind=ReminderKind.FIRST_CALL_OVERDUE)
    assert reminder.user == collector
    assert reminder.due_at == at(2026, 10, 9, 0, 0)
    assert "3个工作日" in reminder.text


@pytest.mark.django_db
def test_first_call_overdue_counts_adjusted_working_saturday(assigned_case, collector):
    # given: assigned Thursday 2026-10-08; Friday 9th, Saturday 10th (adjusted working day), Monday 12th
    assigned_case(assigned_at=at(2026, 10, 8, 15))
    # when: Tuesday 13th (Monday–Friday counting would say the deadline is the 13th itself)
    with time_machine.travel(at(2026, 10, 13, 9), tick=False):
        reminder_fire_due()
    # then
    assert Reminder.objects.filter(user=collector, kind=ReminderKind.FIRST_CALL_OVERDUE).count() == 1


@pytest.mark.django_db
def test_first_call_not_overdue_when_a_call_was_made(assigned_case, collector):
    # given
    case = assigned_case(assigned_at=at(2026, 10, 8, 15))
    CallRecord.objects.create(case=case, collector=collector, number="13800000000", started_at=at(2026, 10, 9, 10))
    # when
    with time_machine.travel(at(2026, 10, 20), tick=False):
        reminder_fire_due()
    # then
    assert not Reminder.objects.filter(kind=ReminderKind.FIRST_CALL_OVERDUE).exists()


@pytest.mark.django_db
def test_first_visit_overdue_after_seven_days_and_resolved_by_visit(make_case, clerk, field_collector, published,
                                                                    django_capture_on_commit_callbacks):
    # given: assigned 1 October to a field collector
    collector = field_collector
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
                     assigned_at=at(2026, 10, 1, 10), return_date=dt.date(2027, 2, 1), entrust_date=dt.date(2026, 8, 1))
    CallRecord.objects.create(case=case, collector=collector, number="13800000000", started_at=at(2026, 10, 2, 10))
    with time_machine.travel(at(2026, 10, 8, 23), tick=False):
        reminder_fire_due()
    assert not Reminder.objects.filter(kind=ReminderKind.FIRST_VISIT_OVERDUE).exists()
    # when: the 9th
    with time_machine.travel(at(2026, 10, 9, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        reminder_fire_due()
    # then
    reminder = Reminder.objects.get(kind=ReminderKind.FIRST_VISIT_OVERDUE)
    assert reminder.resolved_at is None
    dash = published.sent_to(groups.dashboard_all())
    assert dash == [DashboardCounterChanged(day="2026-10-09", collector_id=collector.pk,
                                            branch_id=collector.branch_id, department_id=collector.department_id,
                                            deltas={"overdue_visits": 1})]
    # when: the visit happens and the scheduler runs again
    VisitRecord.objects.create(case=case, collector=collector, entered_by=collector, visited_on=dt.date(2026, 10, 10),
                               address="沈阳市和平区", result="met_debtor")
    with time_machine.travel(at(2026, 10, 10, 18), tick=False), django_capture_on_commit_callbacks(execute=True):
        result = reminder_fire_due()
    # then
    reminder.refresh_from_db()
    assert reminder.resolved_at is not None
    assert result.resolved == 1
    assert published.sent_to(groups.dashboard_all())[-1].deltas == {"overdue_visits": -1}


# --- exactly once ---------------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)  # the command runs the checks in a worker thread
def test_run_scheduler_twice_creates_and_announces_each_reminder_once(assigned_case, collector, clerk):
    # given
    assigned_case(return_date=dt.date(2026, 12, 2), assigned_at=at(2026, 11, 2))
    out = io.StringIO()
    # when
    with time_machine.travel(at(2026, 11, 29), tick=False):
        call_command("run_scheduler", "--once", stdout=io.StringIO())
        call_command("run_scheduler", "--once", stdout=out)
    # then: a phone collector is not reminded of first visits (a field colleague's work)
    assert kinds_for(collector) == ["expiry_3", "first_call_overdue"]
    assert kinds_for(clerk) == ["expiry_3"]
    assert UserEvent.objects.filter(type="reminder.due").count() == 3
    assert "提醒检查完成" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_concurrent_schedulers_create_each_reminder_once(assigned_case, collector, clerk):
    # given: many cases falling due at once
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; concurrent schedulers are exercised on PostgreSQL")
    for _ in range(30):
        assigned_case(return_date=dt.date(2026, 12, 2), assigned_at=at(2026, 11, 2))
    barrier = threading.Barrier(3)
    errors = []

    def run():
        try:
            barrier.wait()
            with time_machine.travel(at(2026, 11, 29), tick=False):
                reminder_fire_due()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    # when: three schedulers run at the same moment
    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # then
    assert errors == []
    assert Reminder.objects.filter(user=collector).count() == 60
    assert Reminder.objects.filter(user=clerk).count() == 30
    assert UserEvent.objects.filter(type="reminder.due").count() == 90


# --- read state -----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_reminder_mark_read_syncs_other_tabs(assigned_case, collector, published,
                                             django_capture_on_commit_callbacks):
    # given: two unread reminders
    assigned_case(return_date=dt.date(2026, 12, 2))
    assigned_case(return_date=dt.date(2026, 12, 3))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    first = Reminder.objects.filter(user=collector).order_by("id").first()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        n = reminder_mark_read(user=collector, reminder_ids=[first.pk])
    # then
    assert n == 1
    assert published.sent_to(groups.user(collector.pk)) == [
        ReminderRead(reminder_ids=(first.pk,), all=False, unread_count=1)]


@pytest.mark.django_db
def test_reminder_mark_read_ignores_other_users_reminders(assigned_case, collector, clerk):
    # given
    assigned_case(return_date=dt.date(2026, 12, 2))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    clerks = Reminder.objects.get(user=clerk)
    # when
    n = reminder_mark_read(user=collector, reminder_ids=[clerks.pk])
    # then
    assert n == 0
    clerks.refresh_from_db()
    assert clerks.read_at is None


@pytest.mark.django_db
def test_reminder_views_list_and_mark_all_read(assigned_case, collector, collector_client):
    # given
    assigned_case(return_date=dt.date(2026, 12, 2))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    # when
    with time_machine.travel(at(2026, 11, 29, 10), tick=False):
        page = collector_client.get(reverse("cases:reminder-list")).content.decode()
        response = collector_client.post(reverse("cases:reminder-read-all"), follow=True)
    # then
    assert "此案件还有3天到期，请抓紧进行工作" in page
    assert "全部标为已读" in page
    assert "已将 1 条提醒标为已读" in response.content.decode()
    assert not Reminder.objects.filter(user=collector, read_at=None).exists()


@pytest.mark.django_db
def test_reminder_mark_read_view_refuses_foreign_reminder(assigned_case, clerk, collector_client):
    # given
    assigned_case(return_date=dt.date(2026, 12, 2))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
    clerks = Reminder.objects.get(user=clerk)
    # when
    response = collector_client.post(reverse("cases:reminder-read", args=[clerks.pk]))
    # then
    assert response.status_code == 404


# --- urgency in the collector's list --------------------------------------------------------------------------

@pytest.mark.django_db
def test_annotate_urgency_orders_overdue_work_then_nearest_return(assigned_case):
    # given
    far = assigned_case(return_date=dt.date(2027, 3, 1))
    soon = assigned_case(return_date=dt.date(2026, 12, 2))
    overdue = assigned_case(return_date=dt.date(2027, 3, 1), assigned_at=at(2026, 11, 2))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
        # when
        rows = list(annotate_urgency(
            type(far).objects.filter(pk__in=[far.pk, soon.pk, overdue.pk])).order_by("urgency", "return_date"))
    # then
    assert [r.pk for r in rows] == [overdue.pk, soon.pk, far.pk]
    assert rows[0].overdue_call and rows[0].urgency == 0
    assert rows[1].urgency == 1
    assert rows[2].urgency == URGENCY_NONE


@pytest.mark.django_db
def test_case_list_flags_and_sorts_by_urgency_for_collector(assigned_case, collector_client):
    # given
    far = assigned_case(return_date=dt.date(2027, 3, 1))
    overdue = assigned_case(return_date=dt.date(2027, 3, 1), assigned_at=at(2026, 11, 2))
    with time_machine.travel(at(2026, 11, 29), tick=False):
        reminder_fire_due()
        # when
        html = collector_client.get(reverse("cases:case-list"), {"sort": "urgency"}).content.decode()
    # then
    assert "首呼超期" in html
    assert html.index(f'id="case-row-{overdue.pk}"') < html.index(f'id="case-row-{far.pk}"')
