"""Exports (M4): all cases for managers, filtered like the case list, formulas neutralised, audited."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEntry
from cases.documents.workbook import safe_cell

pytestmark = pytest.mark.django_db


def _sheet(response):
    data = b"".join(response.streaming_content)
    return [[c.value for c in row] for row in load_workbook(io.BytesIO(data)).active.iter_rows()]


def test_cases_export_writes_every_visible_case_and_audits(client, make_case, manager):
    # given
    make_case(case_no="C-1", entrusted_amount=Decimal("123.45"))
    make_case(case_no="C-2")
    client.force_login(manager)
    # when
    rows = _sheet(client.get(reverse("cases:cases-export")))
    # then
    assert rows[0][:3] == ["案件编号", "客户姓名", "证件号码"]
    assert sorted(r[0] for r in rows[1:]) == ["C-1", "C-2"]
    assert AuditEntry.objects.filter(action="export", object_type="cases").count() == 1


def test_cases_export_applies_case_list_filters(client, make_case, manager):
    # given
    wanted = make_case(case_no="W-1")
    make_case(case_no="X-1")
    client.force_login(manager)
    # when
    rows = _sheet(client.get(reverse("cases:cases-export"), {"batch": wanted.batch_id}))
    # then
    assert [r[0] for r in rows[1:]] == ["W-1"]


def test_cases_export_neutralises_formulas(client, make_case, manager):
    # given a debtor name and note typed to run as formulas
    make_case(case_no="F-1", debtor_name="=1+1", note="@SUM(A1)")
    client.force_login(manager)
    # when
    rows = _sheet(client.get(reverse("cases:cases-export")))
    # then
    assert "'=1+1" in rows[1] and "'@SUM(A1)" in rows[1]


@pytest.mark.parametrize("value", ["=cmd", "+1", "-1", "@x", "\tx", "\rx"])
def test_safe_cell_neutralises_every_formula_start(value):
    # given / when / then
    assert safe_cell(value) == "'" + value


def test_cases_export_refused_for_clerks_and_collectors(client, clerk, collector):
    # given / when / then
    for user in (clerk, collector):
        client.force_login(user)
        assert client.get(reverse("cases:cases-export")).status_code == 403
