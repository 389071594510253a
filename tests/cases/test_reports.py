"""Reports (C12, M6): exact figures that reconcile with the raw repayments, scoping, xlsx export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from accounts.models import AuditEntry
from cases.actions.repayments import repayment_record, repayment_reverse
from cases.enums import CaseStatus, ProductType
from cases.models import Repayment
from cases.selectors.reports import credit_card_batch_report, progress_report, repayment_report
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def _today():
    return timezone.localdate()


def _sum(rows, index):
    return sum((r[index] for r in rows), D("0.00"))


amounts = st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2, allow_nan=False, allow_infinity=False)
rates = st.sampled_from([D("0.035000"), D("0.125000"), D("0.333333")])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(amounts, rates, st.integers(0, 400), st.booleans()), min_size=1, max_size=10))
def test_repayment_report_breakdowns_reconcile_with_raw_repayments(make_case, bank, clerk, manager, entries):
    # given repayments on cases of several rates and days, some reversed
    for amount, rate, days_ago, reverse_it in entries:
        case = make_case(entrusted_amount=D("5000"), commission_rate=rate)
        entry = repayment_record(case=case, amount=amount, repaid_on=_today() - dt.timedelta(days=days_ago), by=clerk)
        if reverse_it:
            repayment_reverse(repayment=entry, by=clerk, reason="冲正")
    raw = {k: v.quantize(D("0.01")) for k, v in
           Repayment.objects.filter(case__bank=bank).aggregate(a=Sum("amount"), c=Sum("commission")).items()}
    start = _today() - dt.timedelta(days=400)
    # when / then: every period × breakdown sums to its total, and the total is the raw sum
    for period in ("day", "month", "year"):
        for by in ("batch", "rate"):
            table = repayment_report(user=manager, period=period, by=by, date_from=start, date_to=_today())
            assert _sum(table.rows, 3) == table.total[3] == raw["a"]
            assert _sum(table.rows, 4) == table.total[4] == raw["c"]
            assert sum(r[2] for r in table.rows) == table.total[2]


def test_repayment_report_commission_is_repaid_times_rate_per_batch(make_case, clerk, manager):
    # given
    case = make_case(entrusted_amount=D("10000"), commission_rate=D("0.035000"))
    repayment_record(case=case, amount=D("1000.00"), repaid_on=_today(), by=clerk)
    repayment_record(case=case, amount=D("333.33"), repaid_on=_today(), by=clerk)
    # when
    table = repayment_report(user=manager, period="month", by="rate", date_from=_today().replace(day=1),
                             date_to=_today())
    # then
    assert table.rows == [[_today().strftime("%Y-%m"), "3.5%", 2, D("1333.33"), D("46.67")]]


def test_repayment_report_clerk_sees_own_banks_only(make_case, clerk, other_bank, manager):
    # given
    mine = make_case(entrusted_amount=D("100"))
    foreign = make_case(bank=other_bank, entrusted_amount=D("100"))
    repayment_record(case=mine, amount=D("10"), repaid_on=_today(), by=clerk)
    repayment_record(case=foreign, amount=D("20"), repaid_on=_today(), by=manager)
    # when
    clerk_total = repayment_report(user=clerk, period="year", by="batch", date_from=dt.date(2000, 1, 1),
                                   date_to=_today()).total
    manager_total = repayment_report(user=manager, period="year", by="batch", date_from=dt.date(2000, 1, 1),
                                     date_to=_today()).total
    # then
    assert clerk_total[3] == D("10.00") and manager_total[3] == D("30.00")


def test_credit_card_batch_report_percentage(make_case, clerk, manager):
    # given
    case = make_case(entrusted_amount=D("300"), product_type=ProductType.CREDIT_CARD)
    make_case(entrusted_amount=D("700"), product_type=ProductType.CREDIT_CARD, batch=case.batch)
    repayment_record(case=case, amount=D("100"), repaid_on=_today(), by=clerk)
    # when
    table = credit_card_batch_report(user=manager)
    # then
    assert table.rows[0][2:] == [2, D("1000.00"), D("100.00"), "10.00%"]


def test_progress_report_per_collector(make_case, clerk, collector, manager):
    # given
    case = make_case(entrusted_amount=D("400"), collector=collector, status=CaseStatus.IN_PROGRESS)
    make_case(entrusted_amount=D("600"), collector=collector, status=CaseStatus.IN_PROGRESS)
    repayment_record(case=case, amount=D("100"), repaid_on=_today(), by=clerk)
    # when
    table = progress_report(user=manager, group="collector")
    # then
    assert table.rows == [["王催收", 2, 0, 0, 1, D("100.00"), D("1000.00"), "10.00%"]]


def test_report_page_hides_commission_from_nobody_but_refuses_collectors(client, collector, manager):
    # given / when
    client.force_login(collector)
    refused = client.get(reverse("cases:reports"))
    client.force_login(manager)
    page = client.get(reverse("cases:reports"))
    # then
    assert refused.status_code == 403
    assert page.status_code == 200 and "佣金" in page.content.decode()


def test_report_export_xlsx_is_audited_and_neutralises_formulas(client, make_case, clerk, manager):
    # given a collector whose name starts with "="
    evil = f.CollectorFactory(full_name="=HYPERLINK(\"x\")")
    case = make_case(entrusted_amount=D("100"), collector=evil, status=CaseStatus.IN_PROGRESS)
    repayment_record(case=case, amount=D("10"), repaid_on=_today(), by=clerk)
    client.force_login(manager)
    # when
    response = client.get(reverse("cases:reports"), {"kind": "progress", "format": "xlsx"})
    # then
    ws = load_workbook(io.BytesIO(response.content)).active
    cells = [c.value for row in ws.iter_rows() for c in row]
    assert "工作进度（按业务员）" in ws.title and "'=HYPERLINK(\"x\")" in cells
    assert AuditEntry.objects.filter(action="export", object_type="report").count() == 1


def test_collector_names_on_the_dashboard_and_progress_report_open_their_work_page(
        client, make_case, clerk, collector, manager, sysadmin):
    # given: a collector holding a repaid case, and a namesake at another desk
    case = make_case(entrusted_amount=D("400"), collector=collector, status=CaseStatus.IN_PROGRESS)
    repayment_record(case=case, amount=D("100"), repaid_on=_today(), by=clerk)
    namesake = f.CollectorFactory(full_name=collector.full_name)
    make_case(entrusted_amount=D("600"), collector=namesake, status=CaseStatus.IN_PROGRESS)
    work_page = reverse("worklist:collector-activity", args=[collector.pk])
    # when
    client.force_login(manager)
    dashboard = client.get(reverse("cases:dashboard")).content.decode()
    report = client.get(reverse("cases:reports"), {"kind": "progress", "group": "collector"}).content.decode()
    opened = client.get(work_page)
    client.force_login(sysadmin)
    admin_report = client.get(reverse("cases:reports"), {"kind": "progress", "group": "collector"}).content.decode()
    # then: the manager follows the name to the collector's calls, visits, promises and repayments
    assert f'href="{work_page}"' in dashboard and f'href="{work_page}"' in report
    assert opened.status_code == 200
    # namesakes stay two rows, each with its own link
    assert reverse("worklist:collector-activity", args=[namesake.pk]) in report
    # a 系统管理员 may read the report but not a collector's work page: no link to a page they cannot open
    assert work_page not in admin_report and collector.full_name in admin_report
