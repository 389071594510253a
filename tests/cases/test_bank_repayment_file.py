"""The bank's repayment file: parsing, matching (new / recorded / unmatched / invalid), confirm, idempotence."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import AuditEntry
from cases.actions.repayments import repayment_file_confirm, repayment_record
from cases.enums import CaseStatus
from cases.exceptions import RepaymentError
from cases.imports.repayments import parse_repayment_workbook
from cases.models import Repayment
from cases.selectors.repayments import INVALID, NEW, RECORDED, UNMATCHED, repayment_file_match

D = Decimal
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(rows, header=("案件编号", "卡号", "还款金额", "还款日期", "流水号")) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _day(n=1):
    return timezone.localdate() - dt.timedelta(days=n)


def test_parse_repayment_workbook_reads_rows_and_reports_bad_values_in_chinese():
    # given
    data = _xlsx([("A1", "", 100.5, _day(), "R1"), ("A2", "", "abc", _day(), ""), ("", "", 5, _day(), ""),
                  ("A3", "", 10, "2026-13-40", "")])
    # when
    result = parse_repayment_workbook(io.BytesIO(data), today=timezone.localdate())
    # then
    assert [(r.case_no, r.amount, r.bank_ref) for r in result.rows] == [("A1", D("100.50"), "R1")]
    messages = [str(e) for e in result.errors]
    assert messages[0].startswith("第 3 行“还款金额”") and "不是有效的数字" in messages[0]
    assert "请填写案件编号或卡号" in messages[1]
    assert "第 5 行“还款日期”" in messages[2]


def test_parse_repayment_workbook_names_missing_columns():
    # given
    data = _xlsx([("A1", 1)], header=("案件编号", "金额x"))
    # when
    result = parse_repayment_workbook(io.BytesIO(data))
    # then
    assert "表头缺少必填列" in str(result.errors[0]) and "还款金额" in str(result.errors[0])


def test_parse_repayment_workbook_refuses_csv_disguised_as_xlsx():
    # given / when
    result = parse_repayment_workbook(io.BytesIO("案件编号,还款金额\nA1,1\n".encode()))
    # then
    assert not result.rows and "CSV" in str(result.errors[0])


@pytest.mark.django_db
def test_repayment_file_match_sorts_rows(make_case, bank, clerk):
    # given
    a = make_case(case_no="A1", entrusted_amount=D("500"))
    b = make_case(case_no="B1", card_no="6222000011112222", entrusted_amount=D("100"))
    repayment_record(case=a, amount=D("50"), repaid_on=_day(), by=clerk, bank_ref="OLD")
    rows = parse_repayment_workbook(io.BytesIO(_xlsx([
        ("A1", "", 100, _day(), "N1"),        # new
        ("A1", "", 50, _day(), "OLD"),        # recorded already
        ("ZZ9", "", 10, _day(), "N2"),        # unmatched
        ("", "6222000011112222", 60, _day(), "N3"),  # new by card number
        ("", "6222000011112222", 60, _day(), "N4"),  # more than what is left
        ("A1", "", 1, _day(), "N1"),          # duplicate reference within the file
    ]))).rows
    # when
    match = repayment_file_match(bank=bank, rows=rows, sha256="0" * 64)
    # then
    assert [m.status for m in match.rows] == [NEW, RECORDED, UNMATCHED, NEW, INVALID, INVALID]
    assert match.rows[3].case_id == b.pk and match.new_total == D("160.00")
    assert "超过余额" in match.rows[4].message


@pytest.mark.django_db
def test_repayment_file_confirm_records_new_rows_once(make_case, bank, clerk):
    # given
    case = make_case(case_no="A1", entrusted_amount=D("500"), status=CaseStatus.IN_PROGRESS)
    rows = parse_repayment_workbook(io.BytesIO(_xlsx([("A1", "", 100, _day(), ""), ("A1", "", 400, _day(), "")]))).rows
    # when
    result = repayment_file_confirm(bank=bank, sha256="a" * 64, filename="x.xlsx", rows=rows, by=clerk)
    # then
    case.refresh_from_db()
    assert (result.recorded, result.total) == (2, D("500.00"))
    assert (case.balance, case.status) == (D("0.00"), CaseStatus.SETTLED)
    assert AuditEntry.objects.filter(object_type="repayment_file").count() == 1
    # when the same file comes again
    with pytest.raises(RepaymentError, match="没有需要登记的新回款"):
        repayment_file_confirm(bank=bank, sha256="a" * 64, filename="x.xlsx", rows=rows, by=clerk)
    assert Repayment.objects.count() == 2


@pytest.mark.django_db
def test_repayment_file_upload_preview_then_confirm_twice_records_once(client, make_case, bank, clerk):
    # given
    case = make_case(case_no="A1", entrusted_amount=D("500"))
    data = _xlsx([("A1", "", 120.5, _day(), "BK-1"), ("NOPE", "", 3, _day(), "BK-2")])
    client.force_login(clerk)
    # when: upload → preview
    page = client.post(reverse("cases:repayment-file"),
                       {"bank": bank.pk, "file": SimpleUploadedFile("回款.xlsx", data, content_type=XLSX)})
    # then: nothing recorded yet, the preview says what will happen
    html = page.content.decode()
    assert page.status_code == 200 and "将登记" in html and "未匹配" in html and not Repayment.objects.exists()
    sha = page.context["sha256"]
    # when: confirm twice (a double click, or the same file next day)
    for _ in range(2):
        client.post(reverse("cases:repayment-file-confirm"), {"bank": bank.pk, "sha256": sha, "filename": "回款.xlsx"})
    # then
    case.refresh_from_db()
    assert case.repaid_amount == D("120.50") and Repayment.objects.count() == 1


@pytest.mark.django_db
def test_repayment_file_confirm_ignores_rows_sent_by_the_browser(client, make_case, bank, clerk):
    # given: a confirm with a hash of no stored file
    client.force_login(clerk)
    # when
    response = client.post(reverse("cases:repayment-file-confirm"), {"bank": bank.pk, "sha256": "f" * 64,
                                                                     "rows": "A1,999999"})
    # then
    assert response.status_code == 400 and "请重新上传" in response.content.decode()
    assert not Repayment.objects.exists()


@pytest.mark.django_db
def test_repayment_file_refuses_bank_outside_clerk_scope(client, other_bank, clerk):
    # given
    client.force_login(clerk)
    # when
    response = client.post(reverse("cases:repayment-file"), {"bank": other_bank.pk, "file": SimpleUploadedFile(
        "x.xlsx", _xlsx([]), content_type=XLSX)})
    # then
    assert response.status_code == 400 and "请选择银行" in response.content.decode()
