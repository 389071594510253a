"""Per-batch progress (issue 18 item 4): figures per batch from the roll-up, kept fresh by the work actions, the
drill-down per collector adding up to its batch, clerk scoping and the .xlsx export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases.actions.calls import call_record_create
from cases.actions.files import work_record_delete
from cases.actions.repayments import repayment_record
from cases.actions.returns import case_retain, case_return
from cases.actions.visits import visit_record_create
from cases.enums import CallResult, CaseStatus, VisitResult
from cases.selectors.reports import batch_progress_by_collector, batch_progress_list
from tests import factories as f
from tests.cases.samples import media_root  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]
D = Decimal


@pytest.fixture
def batch(bank):
    return f.BatchFactory(bank=bank, batch_no="PC-进度-1", return_date=timezone.localdate() + dt.timedelta(days=12))


@pytest.fixture
def cases(batch, collector, other_collector, clerk):
    made = [f.CaseFactory(batch=batch, bank=batch.bank, collector=c, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
                          entrusted_amount=D("1000.00"), balance=D("1000.00"))
            for c in (collector, collector, collector, other_collector, other_collector)]
    made.append(f.CaseFactory(batch=batch, bank=batch.bank, collector=None, status=CaseStatus.UNASSIGNED,
                              entrusted_amount=D("500.00"), balance=D("500.00")))
    return made


def _row(user, batch, **kw):
    return next(r for r in batch_progress_list(user=user, state="all", **kw) if r.batch_id == batch.pk)


def _work(cases, collector, other_collector, clerk):
    today = timezone.localdate()
    call_record_create(case=cases[0], collector=collector, by=collector, number="13912345678",
                       result=CallResult.PROMISE, promise_date=today + dt.timedelta(days=3),
                       promise_amount=D("300.00"))
    call_record_create(case=cases[0], collector=collector, by=collector, number="13912345678",
                       result=CallResult.NO_ANSWER)
    call_record_create(case=cases[1], collector=collector, by=collector, number="13912345678",
                       result=CallResult.NO_ANSWER)
    visit_record_create(case=cases[3], collector=other_collector, by=other_collector, visited_on=today,
                        address="沈阳市", result=VisitResult.NOBODY_HOME)
    repayment_record(case=cases[0], amount=D("250.00"), repaid_on=today, by=clerk)
    repayment_record(case=cases[3], amount=D("1000.00"), repaid_on=today, by=clerk)


def test_batch_progress_counts_every_figure_of_the_batch(manager, cases, batch, collector, other_collector, clerk):
    # given
    _work(cases, collector, other_collector, clerk)
    # when
    row = _row(manager, batch)
    # then
    fig = row.figures
    assert (fig.cases, fig.entrusted, fig.contacted, fig.visited, fig.promised) == (6, D("5500.00"), 2, 1, 1)
    assert (fig.repaid_cases, fig.repaid, fig.settled) == (2, D("1250.00"), 1)
    assert fig.rate == "22.73%"
    assert row.days_left == 12
    assert fig.in_hand == 5


def test_batch_progress_follows_work_recorded_after_it_was_counted(manager, cases, batch, collector, clerk,
                                                                   other_collector, sysadmin):
    # given: the batch was counted once, before any work
    assert _row(manager, batch).figures.contacted == 0
    # when
    _work(cases, collector, other_collector, clerk)
    call = cases[1].calls.get()
    work_record_delete(record=call, by=sysadmin, reason="录错案件")
    case_return(case=cases[4], by=clerk)
    case_retain(case=cases[2], by=clerk, reason="银行同意")
    # then: the deleted call no longer makes its case contacted; the return and the retention show
    fig = _row(manager, batch).figures
    assert (fig.contacted, fig.returned, fig.retained) == (1, 1, 1)
    assert fig.in_hand == 6 - 1 - 1


def test_batch_drill_down_adds_up_to_the_batch(manager, cases, batch, collector, other_collector, clerk):
    # given
    _work(cases, collector, other_collector, clerk)
    # when
    per = batch_progress_by_collector(batch=batch)
    whole = _row(manager, batch).figures
    # then
    assert [r.collector_id for r in per] == [other_collector.pk, collector.pk, None]
    for name in ("cases", "entrusted", "contacted", "visited", "promised", "repaid_cases", "repaid", "settled"):
        assert sum(getattr(r.figures, name) for r in per) == getattr(whole, name), name
    assert per[-1].name == "（未分配）"


def test_open_batches_leave_out_batches_returned_whole(manager, bank, clerk, collector):
    # given
    done = f.BatchFactory(bank=bank)
    f.CaseFactory(batch=done, bank=bank, collector=collector, status=CaseStatus.RETURNED)
    running = f.BatchFactory(bank=bank)
    f.CaseFactory(batch=running, bank=bank, collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    open_ids = [r.batch_id for r in batch_progress_list(user=manager, state="open")]
    all_ids = [r.batch_id for r in batch_progress_list(user=manager, state="all")]
    # then
    assert running.pk in open_ids and done.pk not in open_ids
    assert {running.pk, done.pk} <= set(all_ids)


def test_clerk_sees_only_batches_of_their_banks(clerk, other_clerk, cases, batch, client):
    # when
    mine = [r.batch_id for r in batch_progress_list(user=clerk, state="all")]
    theirs = [r.batch_id for r in batch_progress_list(user=other_clerk, state="all")]
    client.force_login(other_clerk)
    detail = client.get(reverse("cases:batch-progress-detail", args=[batch.pk]))
    page = client.get(reverse("cases:batch-progress") + "?state=all").content.decode()
    # then
    assert batch.pk in mine and batch.pk not in theirs
    assert detail.status_code == 404
    assert "PC-进度-1" not in page


def test_batch_progress_page_lists_the_batch_and_links_its_drill_down(clerk_client, cases, batch):
    # when
    html = clerk_client.get(reverse("cases:batch-progress")).content.decode()
    detail = clerk_client.get(reverse("cases:batch-progress-detail", args=[batch.pk])).content.decode()
    # then
    assert reverse("cases:batch-progress-detail", args=[batch.pk]) in html
    assert "12 天" in html and "5,500.00" in html
    assert "各业务员进度" in detail and "（未分配）" in detail and "还有 12 天" in detail


def test_batch_progress_exports_rows_and_total(manager_client, cases, batch, collector, other_collector, clerk):
    # given
    _work(cases, collector, other_collector, clerk)
    # when
    response = manager_client.get(reverse("cases:batch-progress") + "?state=all&format=xlsx")
    detail = manager_client.get(reverse("cases:batch-progress-detail", args=[batch.pk]) + "?format=xlsx")
    # then
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:6] == ("银行", "批次", "委案日期", "退案日期", "距退案（天）", "案件数")
    line = next(r for r in rows if r[1] == "PC-进度-1")
    assert line[5] == 6 and D(str(line[11])) == D("1250.00") and line[12] == "22.73%"
    assert rows[-1][0] == "合计"
    per = list(load_workbook(io.BytesIO(detail.content)).active.values)
    assert per[0][:3] == ("业务员", "部门", "案件数") and per[-1][0] == "合计" and per[-1][2] == 6


def test_batch_drill_down_is_one_query_over_the_cases_and_one_for_names(cases, batch, collector, other_collector,
                                                                         clerk, django_assert_num_queries):
    # given: calls, a visit and a promise on the batch's cases
    _work(cases, collector, other_collector, clerk)
    # when: contact, visit and promise come from probes per case, not one query per kind of record
    with django_assert_num_queries(2):
        per = batch_progress_by_collector(batch=batch)
    # then
    mine = next(r for r in per if r.collector_id == collector.pk)
    assert (mine.figures.contacted, mine.figures.promised, mine.name) == (2, 1, collector.display_name)
    assert next(r for r in per if r.collector_id == other_collector.pk).figures.visited == 1
