"""Repayments (C5): arithmetic, reversals, settlement, roll-up, events, the case-page panel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.actions.repayments import commission_for, repayment_record, repayment_reverse
from cases.enums import CaseEventType, CaseStatus
from cases.exceptions import RepaymentError
from cases.models import CaseEvent, DailyCollectorStats, Repayment, RepaymentDaily
from realtime import groups
from realtime.events_money import CaseBalanceChanged

pytestmark = pytest.mark.django_db
D = Decimal


def _today():
    return timezone.localdate()


def test_repayment_record_lowers_balance_and_writes_timeline(make_case, clerk, collector):
    # given
    case = make_case(entrusted_amount=D("1000.00"), collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    repayment_record(case=case, amount=D("300.50"), repaid_on=_today(), by=clerk, bank_ref="N1")
    # then
    case.refresh_from_db()
    assert (case.repaid_amount, case.balance, case.status) == (D("300.50"), D("699.50"), CaseStatus.IN_PROGRESS)
    event = CaseEvent.objects.get(case=case, type=CaseEventType.REPAYMENT)
    assert "300.50" in event.summary and event.actor == clerk


def test_repayment_record_settles_case_when_balance_reaches_zero(make_case, clerk, collector):
    # given
    case = make_case(entrusted_amount=D("1000.00"), collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    repayment_record(case=case, amount=D("400.00"), repaid_on=_today(), by=clerk)
    repayment_record(case=case, amount=D("600.00"), repaid_on=_today(), by=clerk)
    # then
    case.refresh_from_db()
    assert (case.balance, case.status) == (D("0.00"), CaseStatus.SETTLED)


def test_repayment_record_refuses_more_than_balance_without_overpayment_flag(make_case, clerk):
    # given
    case = make_case(entrusted_amount=D("100.00"))
    # when / then
    with pytest.raises(RepaymentError, match="超过余额"):
        repayment_record(case=case, amount=D("100.01"), repaid_on=_today(), by=clerk)
    case.refresh_from_db()
    assert case.balance == D("100.00") and not Repayment.objects.exists()


def test_repayment_record_allows_negative_balance_with_overpayment_flag(make_case, clerk):
    # given
    case = make_case(entrusted_amount=D("100.00"))
    # when
    repayment = repayment_record(case=case, amount=D("150.00"), repaid_on=_today(), by=clerk, overpayment=True)
    # then
    case.refresh_from_db()
    assert case.balance == D("-50.00") and repayment.overpayment and case.status == CaseStatus.SETTLED


@pytest.mark.parametrize(("amount", "message"), [("0", "大于 0"), ("-5", "大于 0"), ("1.001", "两位小数"),
                                                 ("abc", "不是有效的数字")])
def test_repayment_record_refuses_bad_amounts(make_case, clerk, amount, message):
    # given
    case = make_case()
    # when / then
    with pytest.raises(RepaymentError, match=message):
        repayment_record(case=case, amount=amount, repaid_on=_today(), by=clerk)


def test_repayment_record_refuses_future_date_and_duplicate_reference(make_case, clerk):
    # given
    case = make_case()
    repayment_record(case=case, amount=D("10"), repaid_on=_today(), by=clerk, bank_ref="R-1")
    # when / then
    with pytest.raises(RepaymentError, match="晚于今天"):
        repayment_record(case=case, amount=D("10"), repaid_on=_today() + dt.timedelta(days=1), by=clerk)
    with pytest.raises(RepaymentError, match="R-1"):
        repayment_record(case=case, amount=D("10"), repaid_on=_today(), by=clerk, bank_ref="R-1")


def test_repayment_reverse_restores_balance_and_reopens_settled_case(make_case, clerk, collector):
    # given
    case = make_case(entrusted_amount=D("500.00"), collector=collector, status=CaseStatus.IN_PROGRESS)
    original = repayment_record(case=case, amount=D("500.00"), repaid_on=_today(), by=clerk)
    # when
    reversal = repayment_reverse(repayment=original, by=clerk, reason="银行退回")
    # then
    case.refresh_from_db()
    assert (case.balance, case.status) == (D("500.00"), CaseStatus.IN_PROGRESS)
    assert reversal.amount == D("-500.00") and reversal.reverses == original
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.REPAYMENT_REVERSED).count() == 1
    original.refresh_from_db()
    assert original.amount == D("500.00")  # never edited


def test_repayment_reverse_refuses_twice_and_reversal_of_reversal(make_case, clerk):
    # given
    case = make_case()
    original = repayment_record(case=case, amount=D("10"), repaid_on=_today(), by=clerk)
    reversal = repayment_reverse(repayment=original, by=clerk, reason="错录")
    # when / then
    with pytest.raises(RepaymentError, match="已经冲正"):
        repayment_reverse(repayment=original, by=clerk, reason="再次")
    with pytest.raises(RepaymentError, match="不能再冲正"):
        repayment_reverse(repayment=reversal, by=clerk, reason="再次")
    with pytest.raises(RepaymentError, match="原因"):
        repayment_reverse(repayment=repayment_record(case=case, amount=D("1"), repaid_on=_today(), by=clerk),
                          by=clerk, reason=" ")


def test_repayment_record_publishes_balance_to_collector_and_case(make_case, clerk, collector, published,
                                                                  django_capture_on_commit_callbacks):
    # given
    case = make_case(entrusted_amount=D("1000.00"), collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        repayment_record(case=case, amount=D("250.00"), repaid_on=_today(), by=clerk)
    # then
    for group in (groups.collector(collector.pk), groups.case(case.pk)):
        [event] = [e for e in published.sent_to(group) if isinstance(e, CaseBalanceChanged)]
        assert (event.balance, event.repaid_amount, event.status) == ("750.00", "250.00", "in_progress")


def test_repayment_record_bumps_dashboard_and_rollup(make_case, clerk, collector):
    # given
    case = make_case(entrusted_amount=D("1000.00"), collector=collector, commission_rate=D("0.125000"))
    day = _today() - dt.timedelta(days=3)
    # when
    first = repayment_record(case=case, amount=D("100.01"), repaid_on=day, by=clerk)
    repayment_record(case=case, amount=D("200.00"), repaid_on=day, by=clerk)
    repayment_reverse(repayment=first, by=clerk, reason="错录")
    # then
    row = RepaymentDaily.objects.get(day=day, batch=case.batch)
    assert (row.amount, row.commission, row.count) == (D("200.00"), D("25.00"), 1)
    stats = DailyCollectorStats.objects.get(collector=collector, day=_today())
    assert stats.repaid_amount == D("200.00")


def test_commission_for_rounds_half_up_to_the_fen():
    # given / when / then
    assert commission_for(amount=D("100.01"), rate=D("0.125")) == D("12.50")
    assert commission_for(amount=D("0.04"), rate=D("0.125")) == D("0.01")


amounts = st.decimals(min_value=D("0.01"), max_value=D("5000.00"), places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(amounts, st.booleans()), min_size=1, max_size=8))
def test_repayment_sums_reconcile_with_reversals(make_case, clerk, steps):
    # given a case large enough for any sequence
    case = make_case(entrusted_amount=D("100000.00"), commission_rate=D("0.033333"))
    expected = D("0")
    # when: record each amount, reversing those flagged
    for amount, reverse_it in steps:
        entry = repayment_record(case=case, amount=amount, repaid_on=_today(), by=clerk)
        if reverse_it:
            repayment_reverse(repayment=entry, by=clerk, reason="冲正")
        else:
            expected += amount
    # then: the case, the raw entries and the roll-up agree to the fen
    case.refresh_from_db()
    # (SQLite adds decimals as floats: sums are compared to the fen)
    raw = {k: v.quantize(D("0.01")) for k, v in
           Repayment.objects.filter(case=case).aggregate(a=Sum("amount"), c=Sum("commission")).items()}
    roll = {k: v.quantize(D("0.01")) for k, v in
            RepaymentDaily.objects.filter(batch=case.batch).aggregate(a=Sum("amount"), c=Sum("commission")).items()}
    assert case.repaid_amount == expected == raw["a"] == roll["a"]
    assert case.balance == D("100000.00") - expected
    assert raw["c"] == roll["c"]


def test_repayment_panel_lets_clerk_record_and_reverse(client, make_case, clerk):
    # given
    case = make_case(entrusted_amount=D("800.00"))
    client.force_login(clerk)
    # when
    response = client.post(reverse("cases:repayment-create", args=[case.pk]),
                           {"amount": "800.00", "repaid_on": _today().isoformat(), "bank_ref": "TZ-9"})
    # then
    assert response.status_code == 200 and "TZ-9" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.SETTLED
    entry = Repayment.objects.get(case=case)
    response = client.post(reverse("cases:repayment-reverse", args=[case.pk, entry.pk]), {"reason": "错录"})
    case.refresh_from_db()
    assert "已冲正" in response.content.decode() and case.balance == D("800.00")


def test_repayment_panel_shows_errors_in_chinese(client, make_case, clerk):
    # given
    case = make_case(entrusted_amount=D("100.00"))
    client.force_login(clerk)
    # when
    response = client.post(reverse("cases:repayment-create", args=[case.pk]),
                           {"amount": "200", "repaid_on": _today().isoformat()})
    # then
    assert "超过余额" in response.content.decode() and not Repayment.objects.exists()


def test_repayment_create_refused_for_collector(client, make_case, collector):
    # given
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    client.force_login(collector)
    # when
    response = client.post(reverse("cases:repayment-create", args=[case.pk]),
                           {"amount": "1", "repaid_on": _today().isoformat()})
    # then
    assert response.status_code == 403
    panel = client.get(reverse("cases:repayment-panel", args=[case.pk])).content.decode()
    assert "登记回款" not in panel
