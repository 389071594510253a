"""Money as people read it: thousands separators wherever money is shown (the dashboard's tiles and table, the
assignment picker), no empty filter card on reports without filters, a favicon on every page, and an overpaid
case's negative balance shown as 多还 (overpaid), not as owed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from cases.actions.repayments import repayment_record
from cases.enums import CaseStatus

pytestmark = pytest.mark.django_db


def test_dashboard_tiles_and_table_show_money_with_thousands_separators(manager_client, make_case, collector, clerk):
    # given: ¥12,345.67 repaid today on a case of the collector
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS, entrusted_amount=Decimal("50000"))
    repayment_record(case=case, amount=Decimal("12345.67"), repaid_on=timezone.localdate(), by=clerk)
    # when
    html = manager_client.get(reverse("cases:dashboard")).content.decode()
    # then
    assert "¥12,345.67" in html  # the tile
    assert ">12,345.67</td>" in html  # the collector's, department's and branch's rows
    assert "12345.67<" not in html


def test_assignment_picker_shows_each_collectors_load_with_thousands_separators(clerk_client, make_case,
                                                                                collector):
    # given: the collector holds ¥1,234,567 of open cases
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS, entrusted_amount=Decimal("1234567.00"))
    # when
    html = clerk_client.get(reverse("cases:assign-collectors"), {"cdept": collector.department_id}).content.decode()
    # then
    assert "1,234,567 元" in html and "1234567 元" not in html


@pytest.mark.parametrize(("kind", "has_filters"), [("credit_card", False), ("complaints", False),
                                                   ("repayments", True), ("progress", True)])
def test_report_shows_a_filter_card_only_when_there_is_something_to_choose(manager_client, kind, has_filters):
    # when
    html = manager_client.get(reverse("cases:reports"), {"kind": kind}).content.decode()
    # then
    assert ('<form method="get" class="filters">' in html) is has_filters


def test_every_page_has_a_favicon_and_favicon_ico_is_not_a_404(client, manager_client):
    # when
    page = manager_client.get(reverse("cases:case-list")).content.decode()
    login = client.get(reverse("accounts:login")).content.decode()
    ico = client.get("/favicon.ico")
    # then
    assert 'rel="icon" href="/static/favicon.svg"' in page and 'rel="icon"' in login
    assert ico.status_code == 301 and ico["Location"] == "/static/favicon.svg"
    assert finders.find("favicon.svg")


def test_overpaid_case_shows_its_negative_balance_as_overpaid_not_owed(client, make_case, clerk, collector):
    # given: ¥1,000.00 entrusted, ¥2,234.50 repaid (the bank confirmed an overpayment)
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
                     entrusted_amount=Decimal("1000.00"))
    repayment_record(case=case, amount=Decimal("2234.50"), repaid_on=timezone.localdate() - dt.timedelta(days=1),
                     by=clerk, overpayment=True)
    client.force_login(collector)
    # when
    detail = client.get(reverse("cases:case-detail", args=[case.pk])).content.decode()
    listed = client.get(reverse("cases:case-list"), {"status": CaseStatus.SETTLED}).content.decode()
    # then: 多还 1,234.50, styled as overpaid, never as a red owed -1,234.50
    assert 'class="overpaid"><span>余额</span><b data-figure="balance">多还 1,234.50</b>' in detail
    assert "-1,234.50" not in detail and 'class="owed"' not in detail
    assert 'title="超额还款">多还 1,234.50</td>' in listed and "-1,234.50</td>" not in listed
