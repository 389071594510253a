"""Collector commission (提成, issue 18 item 3): schemes and tiers at their edges, effective dates, statements
approved and locked, reversals across months, and scoping (a collector sees only their own statement and never
the bank's commission rate)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditAction, AuditEntry
from cases.actions.assignments import assignment_create
from cases.actions.repayments import repayment_record, repayment_reverse
from cases.enums import CaseStatus
from performance.actions.commission import scheme_create, statement_approve
from performance.exceptions import CommissionError
from performance.models import CollectorStatement, SchemeKind
from performance.selectors.commission import draft_statements, statement_for
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def this_month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def last_month(this_month):
    return (this_month - dt.timedelta(days=1)).replace(day=1)


@pytest.fixture
def case(make_case, collector, clerk, bank):
    # The bank's commission to the agency is 12.34%: it must never reach the collector.
    return make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
                     entrusted_amount=D("20000.00"), balance=D("20000.00"), commission_rate=D("0.123400"),
                     case_no="TC-001")


def _flat(bank, manager, rate="0.02", start=dt.date(2020, 1, 1), end=None, batch=None):
    return scheme_create(name=f"固定{rate}", bank=bank, batch=batch, kind=SchemeKind.FLAT, rate=D(rate), tiers=[],
                         effective_from=start, effective_to=end, by=manager)


def _pay(case, clerk, amount, day, ref=""):
    return repayment_record(case=case, amount=D(amount), repaid_on=day, by=clerk, bank_ref=ref)


def _statement(collector, month):
    return statement_for(collector_id=collector.pk, month=month)


def test_flat_rate_on_recovered_amount(case, bank, manager, clerk, collector, this_month):
    # given
    _flat(bank, manager, "0.02")
    _pay(case, clerk, "1000.00", this_month, "A")
    _pay(case, clerk, "555.55", this_month, "B")
    # when
    st = _statement(collector, this_month)
    # then: 2% of each line, rounded half up to the fen
    assert (st.cases, st.entries, st.recovered) == (1, 2, D("1555.55"))
    assert [line.commission for line in st.lines] == [D("20.00"), D("11.11")]
    assert st.commission == D("31.11")


@pytest.mark.parametrize(("paid", "rate"), [("9999.99", D("0.01")), ("10000.00", D("0.02")),
                                            ("49999.99", D("0.02")), ("50000.00", D("0.03"))])
def test_amount_tiers_at_their_edges(make_case, collector, clerk, bank, manager, this_month, paid, rate):
    # given: 1% from 0, 2% from 10,000, 3% from 50,000 元 (inclusive)
    scheme_create(name="金额阶梯", bank=bank, batch=None, kind=SchemeKind.AMOUNT_TIERS, rate=None,
                  tiers=[(D("0"), D("0.01")), (D("10000"), D("0.02")), (D("50000"), D("0.03"))],
                  effective_from=dt.date(2020, 1, 1), effective_to=None, by=manager)
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS, entrusted_amount=D("90000"),
                     balance=D("90000"))
    _pay(case, clerk, paid, this_month)
    # when
    st = _statement(collector, this_month)
    # then
    assert st.groups[0].rate == rate
    assert st.commission == (D(paid) * rate).quantize(D("0.01"))


@pytest.mark.parametrize(("paid", "rate"), [("4999.99", D("0.01")), ("5000.00", D("0.04"))])
def test_recovery_rate_tiers_at_their_edges(make_case, collector, clerk, bank, manager, this_month, paid, rate):
    # given: 4% once the month recovers 25% of the entrusted amount the collector holds at the bank (20,000)
    scheme_create(name="回收率阶梯", bank=bank, batch=None, kind=SchemeKind.RATE_TIERS, rate=None,
                  tiers=[(D("0"), D("0.01")), (D("25"), D("0.04"))], effective_from=dt.date(2020, 1, 1),
                  effective_to=None, by=manager)
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS, entrusted_amount=D("20000"),
                     balance=D("20000"))
    _pay(case, clerk, paid, this_month)
    # when
    st = _statement(collector, this_month)
    # then
    assert st.groups[0].rate == rate
    assert "回收率" in st.groups[0].basis


def test_batch_scheme_beats_the_bank_and_schemes_follow_their_dates(case, bank, manager, clerk, collector,
                                                                   this_month, last_month):
    # given: the bank paid 2% until the end of last month and 3% since; this batch has its own 5% from this month
    _flat(bank, manager, "0.02", end=this_month - dt.timedelta(days=1))
    _flat(bank, manager, "0.03", start=this_month)
    other = f.CaseFactory(bank=bank, collector=collector, status=CaseStatus.IN_PROGRESS,
                          entrusted_amount=D("5000"), balance=D("5000"))
    scheme_create(name="批次5%", bank=None, batch=case.batch, kind=SchemeKind.FLAT, rate=D("0.05"), tiers=[],
                  effective_from=this_month, effective_to=None, by=manager)
    _pay(case, clerk, "100.00", last_month + dt.timedelta(days=9), "L")
    _pay(case, clerk, "100.00", this_month, "T")
    _pay(other, clerk, "100.00", this_month, "O")
    # when
    before = _statement(collector, last_month)
    now = _statement(collector, this_month)
    # then
    assert [line.rate for line in before.lines] == [D("0.02")]
    assert sorted(line.rate for line in now.lines) == [D("0.03"), D("0.05")]


def test_overlapping_schemes_and_bad_rates_are_refused(bank, manager):
    _flat(bank, manager, "0.02", start=dt.date(2026, 1, 1))
    with pytest.raises(CommissionError, match="有效期重叠"):
        _flat(bank, manager, "0.03", start=dt.date(2026, 6, 1))
    with pytest.raises(CommissionError, match="0% 到 100%"):
        scheme_create(name="x", bank=bank, batch=None, kind=SchemeKind.FLAT, rate=D("1.5"), tiers=[],
                      effective_from=dt.date(2030, 1, 1), effective_to=None, by=manager)
    with pytest.raises(CommissionError, match="阶梯起点不能重复"):
        scheme_create(name="y", bank=bank, batch=None, kind=SchemeKind.AMOUNT_TIERS, rate=None,
                      tiers=[(D("1"), D("0.01")), (D("1"), D("0.02"))], effective_from=dt.date(2030, 1, 1),
                      effective_to=None, by=manager)


def test_approval_locks_the_statement(case, bank, manager, clerk, collector, last_month, this_month):
    # given
    _flat(bank, manager, "0.02")
    _pay(case, clerk, "1000.00", last_month + dt.timedelta(days=3), "N1")
    # when
    locked = statement_approve(collector=collector, month=last_month, by=manager)
    _pay(case, clerk, "300.00", last_month + dt.timedelta(days=20), "N2")  # a late notice of last month
    # then: the locked statement keeps its figures; the late entry goes to this month's statement
    assert (locked.recovered, locked.commission) == (D("1000.00"), D("20.00"))
    again = _statement(collector, last_month)
    assert again.locked and again.recovered == D("1000.00") and len(again.lines) == 1
    assert [line.amount for line in _statement(collector, this_month).lines] == [D("300.00")]
    with pytest.raises(CommissionError, match="已审批并锁定"):
        statement_approve(collector=collector, month=last_month, by=manager)
    assert AuditEntry.objects.filter(action=AuditAction.STATEMENT_APPROVE, object_id=str(locked.pk)).exists()


def test_an_earlier_month_cannot_be_approved_after_a_later_one(collector, manager, this_month, last_month):
    statement_approve(collector=collector, month=this_month, by=manager)
    with pytest.raises(CommissionError, match="不能再审批更早的月份"):
        statement_approve(collector=collector, month=last_month, by=manager)


def test_reversal_of_a_settled_entry_is_charged_back_next_month_at_its_rate(case, bank, manager, clerk, collector,
                                                                          last_month, this_month):
    # given: last month 1,000 earned 2% and was locked; this month the bank pays 5%
    _flat(bank, manager, "0.02", end=this_month - dt.timedelta(days=1))
    _flat(bank, manager, "0.05", start=this_month)
    entry = _pay(case, clerk, "1000.00", last_month + dt.timedelta(days=5), "R1")
    statement_approve(collector=collector, month=last_month, by=manager)
    _pay(case, clerk, "400.00", this_month, "R2")
    # when: the bank withdraws last month's entry
    repayment_reverse(repayment=entry, by=clerk, reason="银行退票")
    st = _statement(collector, this_month)
    # then: this month nets 400 − 1,000 = −600; the reversal is charged back at the 2% it earned
    back = next(line for line in st.lines if line.amount < 0)
    assert (back.kind, back.rate, back.commission) == ("冲正（已结算）", D("0.02"), D("-20.00"))
    assert st.recovered == D("-600.00") and st.reversals == D("-1000.00")
    assert st.commission == D("20.00") - D("20.00")  # 400 × 5% = 20, less the 20 charged back
    assert CollectorStatement.objects.get(month=last_month).commission == D("20.00")


def test_reversal_within_the_month_nets_out(case, bank, manager, clerk, collector, this_month):
    _flat(bank, manager, "0.02")
    entry = _pay(case, clerk, "1000.00", this_month, "W1")
    repayment_reverse(repayment=entry, by=clerk, reason="录错")
    st = _statement(collector, this_month)
    assert (st.recovered, st.commission, st.entries) == (D("0.00"), D("0.00"), 1)


def test_a_repayment_is_credited_to_the_collector_holding_the_case_when_recorded(case, bank, manager, clerk,
                                                                               collector, other_collector, this_month):
    # given
    _flat(bank, manager, "0.02")
    _pay(case, clerk, "100.00", this_month, "C1")
    assignment_create(cases=[case], collector=other_collector, by=clerk)
    _pay(case, clerk, "200.00", this_month, "C2")
    # when
    drafts = draft_statements(month=this_month)
    # then
    assert drafts[collector.pk].recovered == D("100.00")
    assert drafts[other_collector.pk].recovered == D("200.00")


def test_collector_sees_only_their_own_statement_and_never_the_bank_rate(case, bank, manager, clerk, collector,
                                                                       other_collector, this_month, client):
    # given
    _flat(bank, manager, "0.02")
    entry = _pay(case, clerk, "1000.00", this_month, "S1")
    assert entry.commission == D("123.40")  # the bank's commission to the agency
    client.force_login(collector)
    # when
    mine = client.get(reverse("performance:statement-mine")).content.decode()
    direct = client.get(reverse("performance:statement-detail", args=[collector.pk]))
    theirs = client.get(reverse("performance:statement-detail", args=[other_collector.pk]))
    listing = client.get(reverse("performance:statements"))
    xlsx = client.get(reverse("performance:statement-mine") + "?format=xlsx")
    approve = client.post(reverse("performance:statement-approve", args=[collector.pk]),
                          {"month": f"{this_month:%Y-%m}"})
    schemes = client.get(reverse("performance:schemes"))
    # then
    assert "TC-001" in mine and "2.00%" in mine and "20.00" in mine
    assert direct.status_code == 200 and theirs.status_code == 404
    assert listing.status_code == 302 and approve.status_code == 403 and schemes.status_code == 403
    cells = [str(v) for row in load_workbook(io.BytesIO(xlsx.content)).active.values for v in row if v is not None]
    for page in (mine, direct.content.decode(), " ".join(cells)):
        assert "12.34" not in page and "123.40" not in page and "0.1234" not in page
    assert not CollectorStatement.objects.exists()


def test_manager_approves_from_the_page_and_exports_the_month(case, bank, manager, clerk, collector, this_month,
                                                              manager_client):
    # given
    _flat(bank, manager, "0.02")
    _pay(case, clerk, "1000.00", this_month, "M1")
    # when
    response = manager_client.post(reverse("performance:statement-approve", args=[collector.pk]),
                                   {"month": f"{this_month:%Y-%m}"})
    summary = manager_client.get(reverse("performance:statements") + f"?month={this_month:%Y-%m}&format=xlsx")
    # then
    assert response.status_code == 302
    assert CollectorStatement.objects.get(collector=collector).commission == D("20.00")
    rows = list(load_workbook(io.BytesIO(summary.content)).active.values)
    assert rows[0][:3] == ("业务员", "部门", "案件数")
    line = next(r for r in rows if r[0] == collector.display_name)
    assert (D(str(line[6])), line[7]) == (D("20"), "已审批锁定")


def test_manager_creates_a_tiered_scheme_on_the_page_and_bad_input_is_named(bank, manager_client):
    url = reverse("performance:schemes")
    bad = manager_client.post(url, {"name": "阶梯", "bank": bank.pk, "kind": "amount_tiers", "tiers": "0 1%\n很多 2%",
                                    "effective_from": "2026-12-01"})
    good = manager_client.post(url, {"name": "阶梯", "bank": bank.pk, "kind": "amount_tiers",
                                     "tiers": "0 1%\n10000 2%", "effective_from": "2026-12-01"})
    assert "阶梯起点“很多”不是数字" in bad.content.decode()
    assert good.status_code == 302
    page = manager_client.get(url).content.decode()
    assert "≥ 10000.00 元：2%" in page
