"""Excel bulk intake: the template round-trips, every row is checked with its Excel row, column and a Chinese
reason, one bad row imports nothing, the same file is not imported twice; the intake form checks the ID."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from accounts.models import AuditAction, AuditEntry
from assessment.actions.applicants import applicant_import_file
from assessment.exceptions import DuplicateIntakeFileError
from assessment.imports.excel import HEADERS, parse_applicant_workbook
from assessment.imports.template import build_applicant_template
from assessment.models import Applicant
from cases.exceptions import ImportRejectedError
from tests import factories as f

TODAY = dt.date(2026, 11, 29)
ID_A = f.make_id_number(11, dt.date(1980, 1, 2))
ID_B = f.make_id_number(12, dt.date(1995, 12, 31))


def workbook(rows, header=HEADERS) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def good(id_number=ID_A, name="张三"):
    return [name, id_number, "13812345678", "沈阳某厂", "3.5", "8,000.00", "", "1500", "100000", 36, "装修", "", 0]


def test_template_has_every_column_and_parses_as_empty():
    # given
    data = build_applicant_template()
    # when
    wb = load_workbook(io.BytesIO(data))
    result = parse_applicant_workbook(io.BytesIO(data), today=TODAY)
    # then
    assert [c.value for c in wb["申请人"][1]] == list(HEADERS)
    assert "填写说明" in wb.sheetnames
    assert [str(e) for e in result.errors] == ["文件只有表头，没有数据行"]


def test_valid_rows_are_read_with_age_and_sex_from_the_id_number():
    # when
    result = parse_applicant_workbook(workbook([good(), good(ID_B, "李四")]), today=TODAY)
    # then
    assert result.ok and len(result.rows) == 2
    first = result.rows[0]
    assert (first.name, first.id_number, first.birth_date, first.sex) == ("张三", ID_A, dt.date(1980, 1, 2), "M")
    assert first.monthly_income == Decimal("8000.00") and first.total_debt == Decimal("0.00")
    assert first.employment_years == Decimal("3.5") and first.loan_term_months == 36 and first.row_number == 2


def test_every_bad_cell_is_reported_with_row_column_and_reason():
    # given
    bad_id = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    minor = f.make_id_number(13, dt.date(2010, 5, 5))
    rows = [
        good(),
        ["", bad_id, "12345", "", "-1", "abc", "", "", "0", 400, "", "", "x"],
        good(minor, "小明"),
        good(ID_A, "重复"),
    ]
    # when
    result = parse_applicant_workbook(workbook(rows), today=TODAY)
    # then
    found = {(e.row_number, e.column): e.message for e in result.errors}
    assert result.rows == []
    assert found[(3, "姓名")] == "必填，不能为空"
    assert "校验位错误" in found[(3, "证件号码")]
    assert "手机号码“12345”无效" in found[(3, "手机号码")]
    assert found[(3, "工作年限")] == "工作年限不能为负数"
    assert "不是有效的数字" in found[(3, "月收入")]
    assert found[(3, "申请金额")] == "申请金额必须大于 0"
    assert "1 到 360 的整数" in found[(3, "申请期限")]
    assert "不是有效的数字" in found[(3, "逾期记录")]
    assert "未满 18 周岁" in found[(4, "证件号码")]
    assert found[(5, "证件号码")] == f"证件号码“{ID_A}”与第 2 行重复"
    assert str(result.errors[0]).startswith("第 3 行“")


def test_missing_required_column_and_non_excel_files_are_refused():
    # when
    no_id = parse_applicant_workbook(workbook([["张三"]], header=["姓名"]), today=TODAY)
    csv = parse_applicant_workbook(io.BytesIO("姓名,证件号码\n张三,1".encode()), today=TODAY)
    # then
    assert any(e.column == "证件号码" and "缺少必填列" in e.message for e in no_id.errors)
    assert "不是 Excel 工作簿" in csv.errors[0].message


def test_a_repeated_header_is_named_with_its_row_and_nothing_is_read():
    # when: 姓名 twice, the header below three empty rows
    result = parse_applicant_workbook(workbook([[], [], [*HEADERS, "姓名"], good()], header=[]), today=TODAY)
    # then
    assert [(e.row_number, e.column, e.message) for e in result.errors] == [(4, "姓名", "表头重复出现，请只保留一列")]
    assert result.rows == []


@pytest.mark.django_db
def test_one_bad_row_imports_nothing(bank, clerk):
    # given
    rows = [good(), good(ID_B, "李四"), ["王五"] + [""] * 12]
    # when
    with pytest.raises(ImportRejectedError) as caught:
        applicant_import_file(bank=bank, file=workbook(rows), filename="申请人.xlsx", by=clerk)
    # then
    assert caught.value.errors and caught.value.errors[0].row_number == 4
    assert Applicant.objects.count() == 0


@pytest.mark.django_db
def test_valid_file_imports_every_row_once_and_is_audited(bank, clerk):
    # given
    data = workbook([good(), good(ID_B, "李四")]).getvalue()
    # when
    intake = applicant_import_file(bank=bank, file=io.BytesIO(data), filename="申请人.xlsx", by=clerk)
    # then
    assert intake.row_count == 2
    assert sorted(Applicant.objects.values_list("name", flat=True)) == ["张三", "李四"]
    assert Applicant.objects.get(name="李四").sex == "F" and Applicant.objects.filter(intake=intake).count() == 2
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT, object_type="ApplicantImport").count() == 1
    with pytest.raises(DuplicateIntakeFileError, match="已于"):
        applicant_import_file(bank=bank, file=io.BytesIO(data), filename="再来一次.xlsx", by=clerk)
    assert Applicant.objects.count() == 2


@pytest.mark.django_db
def test_import_page_lists_problems_by_excel_row(clerk_client, bank):
    # given
    rows = [good(), good("110101199003070018")]
    # when
    response = clerk_client.post(reverse("assessment:applicant-import"),
                                 {"bank": bank.pk, "file": _upload(workbook(rows))})
    # then
    text = response.content.decode()
    assert response.status_code == 400
    assert "未导入：发现 1 处问题" in text and "校验位错误" in text and ">3<" in text
    assert Applicant.objects.count() == 0


@pytest.mark.django_db
def test_intake_form_derives_age_and_sex_and_refuses_a_bad_id(clerk_client, bank):
    # given
    form = {"bank": bank.pk, "name": "周表单", "id_number": ID_A.lower(), "phone": "138 1234 5678",
            "employment_years": "2", "monthly_income": "6000", "loan_amount": "20000", "loan_term_months": "12",
            "overdue_records": "0"}
    # when
    bad = clerk_client.post(reverse("assessment:applicant-create"), {**form, "id_number": "2101021980"})
    ok = clerk_client.post(reverse("assessment:applicant-create"), form)
    # then
    assert "应为 18 位" in bad.content.decode()
    applicant = Applicant.objects.get(name="周表单")
    assert ok.status_code == 302 and applicant.birth_date == dt.date(1980, 1, 2) and applicant.phone == "13812345678"


def _upload(buffer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("申请人.xlsx", buffer.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
