"""Report roll-ups (C12, M6): the monthly repayment roll-up and the progress / credit-card roll-ups stay equal to
what the raw repayments, cases, calls and visits say, through every action that moves them, reversals and
deleted records included; the rebuild command gives the same figures; long report tables are paged."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import rollups
from cases.actions.assignments import assignment_create
from cases.actions.calls import call_record_create
from cases.actions.files import work_record_delete
from cases.actions.repayments import repayment_record, repayment_reverse
from cases.actions.visits import visit_record_create
from cases.enums import CallResult, CaseStatus, ProductType, VisitResult
from cases.models import (
    BatchProgress,
    CallRecord,
    Case,
    CollectorProgress,
    Repayment,
    RepaymentDaily,
    RepaymentMonthly,
    RollupDirty,
    VisitRecord,
)
from cases.selectors.reports import credit_card_batch_report, progress_report, repayment_report
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def _today():
    return timezone.localdate()


def _raw_progress():
    """Per collector name, the work-progress figures computed straight from cases, calls and visits."""
    out: dict[str, list] = {}
    for case in Case.objects.filter(collector__isnull=False).select_related("collector"):
        row = out.setdefault(case.collector.full_name, [0, 0, 0, 0, D("0.00"), D("0.00")])
        row[0] += 1
        row[1] += CallRecord.objects.filter(case=case, deleted_at=None).exists()
        row[2] += VisitRecord.objects.filter(case=case, deleted_at=None).exists()
        row[3] += case.repaid_amount > 0
        row[4] += case.repaid_amount
        row[5] += case.entrusted_amount
    return out


def _report_progress(user):
    return {r[0]: r[1:7] for r in progress_report(user=user, group="collector").rows}


def _monthly_from_daily():
    out: dict[tuple, list] = {}
    for r in RepaymentDaily.objects.all():
        acc = out.setdefault((r.day.replace(day=1), r.batch_id, r.commission_rate), [D("0"), D("0"), 0])
        acc[0] += r.amount
        acc[1] += r.commission
        acc[2] += r.count
    return out


def _monthly():
    return {(r.month, r.batch_id, r.commission_rate): [r.amount, r.commission, r.count]
            for r in RepaymentMonthly.objects.all()}


def test_monthly_rollup_kept_by_repayment_and_reversal(make_case, clerk):
    # given two entries in different months of one case
    case = make_case(entrusted_amount=D("5000"), commission_rate=D("0.125000"))
    last_month = _today().replace(day=1) - dt.timedelta(days=1)
    first = repayment_record(case=case, amount=D("100.10"), repaid_on=last_month, by=clerk)
    repayment_record(case=case, amount=D("33.33"), repaid_on=_today(), by=clerk)
    # when the first is reversed
    repayment_reverse(repayment=first, by=clerk, reason="银行撤回")
    # then the monthly roll-up is the daily one per month, and last month's bucket nets to zero
    assert _monthly() == _monthly_from_daily()
    gone = RepaymentMonthly.objects.get(month=last_month.replace(day=1))
    assert (gone.amount, gone.commission, gone.count) == (D("0.00"), D("0.00"), 0)
    assert RepaymentMonthly.objects.get(month=_today().replace(day=1)).amount == D("33.33")


days_ago = st.integers(0, 800)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2), days_ago,
                                  st.booleans()), min_size=1, max_size=8),
       start=days_ago, length=st.integers(0, 800), period=st.sampled_from(["month", "year"]),
       by=st.sampled_from(["batch", "rate"]))
def test_month_and_year_reports_equal_raw_sums_for_any_date_range(make_case, clerk, manager, entries, start, length,
                                                                  period, by):
    # given entries on many days, some reversed, and a range that starts and ends inside months
    for amount, ago, reverse_it in entries:
        case = make_case(entrusted_amount=D("5000"), commission_rate=D("0.035000"))
        entry = repayment_record(case=case, amount=amount, repaid_on=_today() - dt.timedelta(days=ago), by=clerk)
        if reverse_it:
            repayment_reverse(repayment=entry, by=clerk, reason="冲正")
    date_from = _today() - dt.timedelta(days=start)
    date_to = min(_today(), date_from + dt.timedelta(days=length))
    raw = Repayment.objects.filter(repaid_on__gte=date_from, repaid_on__lte=date_to).aggregate(
        a=Sum("amount"), c=Sum("commission"))
    # when
    table = repayment_report(user=manager, period=period, by=by, date_from=date_from, date_to=date_to)
    # then the whole-month roll-up and the edge days add up to exactly the raw entries of the range
    assert table.total[3] == (raw["a"] or D("0")).quantize(D("0.01"))
    assert table.total[4] == (raw["c"] or D("0")).quantize(D("0.01"))
    assert sum((r[3] for r in table.rows), D("0.00")) == table.total[3]


def test_progress_rollup_follows_every_action_that_moves_it(make_case, bank, clerk, collector, other_collector,
                                                           manager):
    # given two cases held by one collector, and the report read once (roll-up filled)
    a = make_case(entrusted_amount=D("400"), collector=collector, status=CaseStatus.IN_PROGRESS)
    b = make_case(entrusted_amount=D("600"), collector=collector, status=CaseStatus.IN_PROGRESS)
    f.CaseContactFactory(case=a, phone="13800000001")
    assert _report_progress(manager) == {"王催收": [2, 0, 0, 0, D("0.00"), D("1000.00")]}
    # when the collector calls and visits a, a repayment is recorded on b and then b is handed to another collector
    call = call_record_create(case=a, collector=collector, by=collector, number="13800000001",
                              result=CallResult.SELF_ANSWERED)
    visit_record_create(case=a, collector=collector, by=collector, visited_on=_today(), address="和平区",
                        result=VisitResult.MET_DEBTOR)
    entry = repayment_record(case=b, amount=D("150.00"), repaid_on=_today(), by=clerk)
    assignment_create(cases=[b], collector=other_collector, by=clerk)
    # then the report says what the raw rows say
    assert _report_progress(manager) == _raw_progress() == {
        "王催收": [1, 1, 1, 0, D("0.00"), D("400.00")], "周催收": [1, 0, 0, 1, D("150.00"), D("600.00")]}
    # when the call record is deleted (C15) and the repayment reversed
    work_record_delete(record=call, by=clerk, reason="录错案件")
    repayment_reverse(repayment=entry, by=clerk, reason="银行撤回")
    # then
    assert _report_progress(manager) == _raw_progress() == {
        "王催收": [1, 0, 1, 0, D("0.00"), D("400.00")], "周催收": [1, 0, 0, 0, D("0.00"), D("600.00")]}
    assert not RollupDirty.objects.exists()


def test_progress_rollup_counts_a_batch_imported_after_the_last_refresh(make_case, collector, manager):
    # given a refreshed roll-up
    make_case(entrusted_amount=D("100"), collector=collector, status=CaseStatus.IN_PROGRESS)
    assert _report_progress(manager)["王催收"][0] == 1
    # when a new batch arrives with a continued case already held by the collector (no action marks it)
    make_case(entrusted_amount=D("250"), collector=collector, status=CaseStatus.NOT_STARTED)
    # then the refresh finds the new batch by itself
    assert _report_progress(manager) == _raw_progress() == {"王催收": [2, 0, 0, 0, D("0.00"), D("350.00")]}


def test_progress_report_scoped_to_clerk_banks(make_case, other_bank, clerk, collector):
    # given a collector with cases of two banks, a clerk of one
    make_case(entrusted_amount=D("100"), collector=collector, status=CaseStatus.IN_PROGRESS)
    make_case(bank=other_bank, entrusted_amount=D("900"), collector=collector, status=CaseStatus.IN_PROGRESS)
    # when / then
    assert _report_progress(clerk) == {"王催收": [1, 0, 0, 0, D("0.00"), D("100.00")]}


def test_credit_card_rollup_follows_repayments_and_reversals(make_case, clerk, manager):
    # given a credit-card batch with a loan case in it
    card = make_case(entrusted_amount=D("300"), product_type=ProductType.CREDIT_CARD)
    make_case(entrusted_amount=D("700"), product_type=ProductType.LOAN, batch=card.batch)
    assert credit_card_batch_report(user=manager).rows[0][2:] == [1, D("300.00"), D("0.00"), "0.00%"]
    # when
    entry = repayment_record(case=card, amount=D("100"), repaid_on=_today(), by=clerk)
    after_entry = credit_card_batch_report(user=manager).rows[0][2:]
    repayment_reverse(repayment=entry, by=clerk, reason="冲正")
    after_reversal = credit_card_batch_report(user=manager).rows[0][2:]
    # then
    assert after_entry == [1, D("300.00"), D("100.00"), "33.33%"]
    assert after_reversal == [1, D("300.00"), D("0.00"), "0.00%"]


def test_rebuild_gives_the_same_rollups_as_the_actions(make_case, clerk, collector, manager):
    # given roll-ups kept by actions: calls (one deleted), a visit, entries and a reversal
    case = make_case(entrusted_amount=D("1000"), collector=collector, status=CaseStatus.IN_PROGRESS,
                     product_type=ProductType.CREDIT_CARD)
    other = make_case(entrusted_amount=D("500"), collector=collector, status=CaseStatus.IN_PROGRESS)
    call_record_create(case=case, collector=collector, by=collector, number="13800000001",
                       result=CallResult.NO_ANSWER)
    mistaken = call_record_create(case=other, collector=collector, by=collector, number="13800000002",
                                  result=CallResult.NO_ANSWER)
    work_record_delete(record=mistaken, by=clerk, reason="录错")
    visit_record_create(case=other, collector=collector, by=collector, visited_on=_today(), address="和平区",
                        result=VisitResult.PROMISE, promise_date=_today() + dt.timedelta(days=2),
                        promise_amount=D("50"))
    broken = call_record_create(case=case, collector=collector, by=collector, number="13800000001",
                                result=CallResult.PROMISE, promise_date=_today() + dt.timedelta(days=2),
                                promise_amount=D("80"))
    work_record_delete(record=broken, by=clerk, reason="录错")
    entry = repayment_record(case=case, amount=D("10.01"), repaid_on=_today() - dt.timedelta(days=40), by=clerk)
    repayment_record(case=case, amount=D("20.02"), repaid_on=_today(), by=clerk)
    repayment_reverse(repayment=entry, by=clerk, reason="冲正")
    rollups.refresh()

    def snapshot():
        return (
            sorted(RepaymentDaily.objects.values_list("day", "batch_id", "commission_rate", "amount", "commission",
                                                      "count")),
            sorted(RepaymentMonthly.objects.values_list("month", "batch_id", "commission_rate", "amount",
                                                        "commission", "count")),
            sorted(CollectorProgress.objects.values_list("collector_id", "bank_id", "held", "contacted", "visited",
                                                         "repaid_cases", "repaid_amount", "entrusted_amount")),
            sorted(BatchProgress.objects.values_list("batch_id", "card_cases", "card_entrusted", "card_repaid",
                                                     "contacted", "visited", "promised")),
        )

    kept = snapshot()
    assert kept[2][0][2:6] == (2, 1, 1, 1)  # held, contacted (the deleted call does not count), visited, repaid
    # the batches' contacted, visited, promised: `other`'s promise by its visit counts, `case`'s deleted one not
    assert sorted(row[4:] for row in kept[3]) == [(0, 1, 1), (1, 0, 0)]
    # when (the rebuild reads every collector and batch in one joined pass, the refresh probed per case)
    out = io.StringIO()
    call_command("rebuild_report_rollups", stdout=out)
    # then
    assert snapshot() == kept
    assert "回款合计 20.02 元（汇总 20.02 元）" in out.getvalue()


def test_report_page_pages_long_tables_with_totals_of_every_row(client, make_case, clerk, manager):
    # given 130 days with a repayment each (one row per day in the day report)
    case = make_case(entrusted_amount=D("100000"))
    for ago in range(130):
        repayment_record(case=case, amount=D("1.00"), repaid_on=_today() - dt.timedelta(days=ago), by=clerk)
    client.force_login(manager)
    query = {"kind": "repayments", "period": "day", "by": "batch",
             "from": (_today() - dt.timedelta(days=200)).isoformat(), "to": _today().isoformat()}
    # when
    first = client.get(reverse("cases:reports"), query)
    second = client.get(reverse("cases:reports"), {**query, "page": "2"})
    # then
    assert len(first.context["display_rows"]) == 100 and len(second.context["display_rows"]) == 30
    assert first.context["display_total"] == second.context["display_total"]
    assert "130.00" in first.context["display_total"][1]
    assert "共 130 行" in first.content.decode()


def test_progress_repayment_refresh_recomputes_a_collector_whose_rows_are_missing(make_case, clerk, collector,
                                                                                 manager):
    # given a called case and a roll-up that lost the collector's row (e.g. restored from an older backup)
    case = make_case(entrusted_amount=D("800"), collector=collector, status=CaseStatus.IN_PROGRESS)
    call_record_create(case=case, collector=collector, by=collector, number="13800000003",
                       result=CallResult.NO_ANSWER)
    rollups.refresh()
    CollectorProgress.objects.all().delete()
    # when a repayment marks only the case's amounts
    repayment_record(case=case, amount=D("80.00"), repaid_on=_today(), by=clerk)
    # then the refresh notices the missing row and recomputes everything for that collector
    assert _report_progress(manager) == _raw_progress() == {"王催收": [1, 1, 0, 1, D("80.00"), D("800.00")]}
