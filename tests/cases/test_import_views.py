"""The import page and the template download, as a clerk, another clerk and non-clerks."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from cases.imports.excel import HEADERS
from cases.models import Batch, Case
from tests.cases.test_import_excel import make_workbook, valid_row
from tests.factories import ClerkFactory

pytestmark = pytest.mark.django_db
URL = reverse("cases:batch-import")


def upload(content: bytes, name: str = "委案.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_import_page_lists_only_the_clerks_banks(clerk_client, bank, other_bank):
    # when
    response = clerk_client.get(URL)
    # then
    assert response.status_code == 200
    choices = list(response.context["form"].fields["bank"].queryset)
    assert choices == [bank]
    html = response.content.decode()
    assert "招商银行（ZSYH）" in html and "建设银行" not in html
    assert reverse("cases:batch-template") in html


def test_import_page_preselects_the_only_bank(clerk_client, bank):
    # when
    response = clerk_client.get(URL)
    # then
    assert response.context["form"].initial["bank"] == bank


@pytest.mark.parametrize("client_fixture", ["collector_client", "manager_client"])
def test_import_page_is_for_clerks_only(request, client_fixture):
    # given
    client = request.getfixturevalue(client_fixture)
    # when / then
    assert client.get(URL).status_code == 403
    assert client.get(reverse("cases:batch-template")).status_code == 403


def test_import_page_tells_a_clerk_without_banks_whom_to_ask(client, db):
    # given
    client.force_login(ClerkFactory())
    # when
    html = client.get(URL).content.decode()
    # then
    assert "您还没有负责的银行" in html and 'id="import-form"' not in html


def test_import_page_imports_a_valid_file_and_shows_the_totals(clerk_client, bank):
    # given
    content = make_workbook([valid_row(1, 委案金额="12,345.67"), valid_row(2, 委案金额="1000000.01")])
    # when
    response = clerk_client.post(URL, {"bank": bank.pk, "file": upload(content)})
    # then
    assert response.status_code == 200
    batch = Batch.objects.get()
    html = response.content.decode()
    assert "导入成功：批次 ZS2026110001" in html
    assert "1,012,345.68" in html
    assert "2 件" in html and "0 件" in html
    assert f"?batch={batch.pk}" in html
    assert Case.objects.filter(batch=batch).count() == 2


def test_import_page_htmx_post_returns_only_the_result_block(clerk_client, bank):
    # given
    content = make_workbook([valid_row(1)])
    # when
    response = clerk_client.post(URL, {"bank": bank.pk, "file": upload(content)}, HTTP_HX_REQUEST="true")
    # then
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="import-result"')
    assert "<html" not in html and "导入成功" in html


def test_import_page_lists_every_problem_and_imports_nothing(clerk_client, bank):
    # given
    rows = [valid_row(1), valid_row(2, 证件号码="123", 委案金额="abc"), valid_row(3, 手机号码="12345")]
    # when
    response = clerk_client.post(URL, {"bank": bank.pk, "file": upload(make_workbook(rows))})
    # then
    html = response.content.decode()
    assert "委案.xlsx 未导入：发现 3 处问题" in html
    assert [(e.row_number, e.column) for e in response.context["errors"]] == [
        (3, "证件号码"), (3, "委案金额"), (4, "手机号码")]
    assert "<td class=\"num row\">3</td>" in html and "金额“abc”不是有效的数字" in html
    assert Case.objects.count() == 0 and Batch.objects.count() == 0


def test_import_page_shows_file_level_problems(clerk_client, bank):
    # given
    content = make_workbook([valid_row(1)], [h for h in HEADERS if h not in ("批次号", "委案日期")])
    # when
    html = clerk_client.post(URL, {"bank": bank.pk, "file": upload(content)}).content.decode()
    # then
    assert "缺少必填列“批次号”" in html and "缺少必填列“委案日期”" in html


def test_import_page_refuses_a_forged_file(clerk_client, bank):
    # when
    html = clerk_client.post(URL, {"bank": bank.pk, "file": upload(b"%PDF-1.4 not excel")}).content.decode()
    # then
    assert "不是 Excel 工作簿" in html
    assert Batch.objects.count() == 0


def test_import_page_refuses_another_clerks_bank(clerk_client, bank, other_bank):
    # given
    content = make_workbook([valid_row(1)])
    # when
    response = clerk_client.post(URL, {"bank": other_bank.pk, "file": upload(content)})
    # then
    assert response.status_code == 200
    assert "只能选择您负责的银行" in response.content.decode()
    assert Batch.objects.count() == 0


def test_import_page_says_when_the_batch_was_imported_before(clerk_client, bank):
    # given
    content = make_workbook([valid_row(1)])
    clerk_client.post(URL, {"bank": bank.pk, "file": upload(content)})
    # when
    html = clerk_client.post(URL, {"bank": bank.pk, "file": upload(content)}).content.decode()
    # then
    assert "招商银行 的批次 ZS2026110001 已经导入过，不能重复导入" in html
    assert Batch.objects.count() == 1


def test_import_page_requires_bank_and_file(clerk_client, bank):
    # when
    html = clerk_client.post(URL, {}).content.decode()
    # then
    assert "请选择银行" in html and "请选择要上传的 .xlsx 文件" in html


def test_template_download_opens_in_openpyxl_with_the_headers(clerk_client):
    # when
    response = clerk_client.get(reverse("cases:batch-template"))
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    first = next(workbook.worksheets[0].iter_rows(max_row=1, values_only=True))
    assert list(first) == list(HEADERS)
    assert "填写说明" in workbook.sheetnames
