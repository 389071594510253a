"""The bank-file import pages, rendered as the clerk who may use them; others are refused."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Batch, Case
from mappings.models import BankFileUpload, ImportMapping, MappingVersion
from tests.mappings import banks

pytestmark = pytest.mark.django_db


def upload_file(client, bank, content: bytes, name: str, kind: str = "cases"):
    return client.post(reverse("mappings:upload"), {"bank": bank.pk, "kind": kind,
                                                   "file": SimpleUploadedFile(name, content)})


def editor_post(response) -> dict[str, str]:
    """The editor's form as the browser would submit it, from the rendered proposal."""
    columns = response.context["columns"]
    data = {f"target_{c.index}": c.rule.target for c in columns}
    data.update({f"unit_{c.index}": c.rule.unit for c in columns})
    data.update({f"date_order_{c.index}": c.rule.date_order for c in columns})
    return data


def test_upload_page_renders_for_a_clerk_with_the_bank_and_kinds(clerk_client, bank):
    # when
    response = clerk_client.get(reverse("mappings:upload"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "上传并识别" in html and "招商银行（ZSYH）" in html and "回款文件" in html


@pytest.mark.parametrize("client_fixture", ["collector_client", "manager_client"])
def test_bank_file_pages_are_for_clerks_only(request, client_fixture):
    # given
    client = request.getfixturevalue(client_fixture)
    # when / then
    assert client.get(reverse("mappings:upload")).status_code == 403
    assert client.get(reverse("mappings:mapping-list")).status_code == 403


def test_new_layout_goes_to_the_editor_and_saving_then_importing_takes_two_posts(clerk_client, bank):
    # given: a first file of a new layout
    cases = banks.month_cases(9, prefix="JH")
    response = upload_file(clerk_client, bank, banks.ccb(cases, "JH-09"), "建行9月.xlsx")
    upload = BankFileUpload.objects.get()
    assert response.status_code == 302
    review = clerk_client.get(response["Location"])
    assert review.status_code == 302 and review["Location"] == reverse("mappings:edit", args=[upload.pk])
    # when: the clerk opens the editor, fixes the contact pair, adds the rate and saves
    editor = clerk_client.get(review["Location"])
    html = editor.content.decode()
    assert editor.status_code == 200
    assert "这是招商银行的新格式" in html and "欠款总额" in html and "必填字段“佣金比例”还没有对应" in html
    data = editor_post(editor)
    pair = next(c.index for c in editor.context["columns"] if c.header == "紧急联系人")
    data.update({f"target_{pair}": "联系人1姓名及关系", "const_佣金比例": "5%", "name": "建行委外清单",
                 "action": "save"})
    saved = clerk_client.post(review["Location"], data)
    version = MappingVersion.objects.get()
    assert saved.status_code == 302 and saved["Location"].endswith(f"?version={version.pk}")
    page = clerk_client.get(saved["Location"])
    assert "已自动识别" in page.content.decode() and "建行委外清单（第 1 版）" in page.content.decode()
    imported = clerk_client.post(reverse("mappings:review", args=[upload.pk]), {"version": version.pk})
    # then
    assert "导入成功：批次 JH-09" in imported.content.decode()
    assert Batch.objects.get().case_count == 3 and Case.objects.count() == 3
    upload.refresh_from_db()
    assert upload.version == version


def test_next_file_of_a_known_layout_shows_the_chosen_mapping_and_preview(clerk_client, bank, clerk):
    # given: a saved mapping
    test_new_layout_goes_to_the_editor_and_saving_then_importing_takes_two_posts(clerk_client, bank)
    # when: October's file is uploaded
    response = upload_file(clerk_client, bank, banks.ccb(banks.month_cases(10, prefix="JH"), "JH-10"), "建行10月.xlsx")
    page = clerk_client.get(response["Location"])
    # then: the page names the mapping and previews the rows as imported, side by side
    html = page.content.decode()
    assert page.status_code == 200
    assert "已自动识别" in html and "建行委外清单（第 1 版）" in html and "确认导入" in html
    assert "银行文件原样" in html and "导入后" in html and "JH100001" in html


def test_changed_layout_asks_the_clerk_to_confirm_the_mapping(clerk_client, bank, clerk):
    # given
    test_new_layout_goes_to_the_editor_and_saving_then_importing_takes_two_posts(clerk_client, bank)
    content = banks.ccb(banks.month_cases(10, prefix="JH"), "JH-10")
    from tests.mappings.test_bank_layouts import _rename_header

    response = upload_file(clerk_client, bank, _rename_header(content, {"分行": "所属分行"}), "建行10月.xlsx")
    # when
    page = clerk_client.get(response["Location"])
    # then
    html = page.content.decode()
    assert "文件的表头与映射“建行委外清单（第 1 版）”不一致，请重新确认映射" in html
    assert "所属分行" in html and "确认映射" in html and "确认导入" not in html
    editor = clerk_client.get(reverse("mappings:edit", args=[BankFileUpload.objects.first().pk]),
                              {"from": MappingVersion.objects.get().pk})
    assert editor.status_code == 200 and "确认映射：建行委外清单" in editor.content.decode()


def test_import_errors_show_the_bank_files_rows_and_columns(clerk_client, bank):
    # given: a saved mapping and a file whose second case has a bad amount
    test_new_layout_goes_to_the_editor_and_saving_then_importing_takes_two_posts(clerk_client, bank)
    from tests.mappings.test_bank_layouts import _set_cell

    content = _set_cell(banks.ccb(banks.month_cases(10, prefix="JH"), "JH-10"), 3, 5, "一万")
    response = upload_file(clerk_client, bank, content, "建行10月.xlsx")
    upload = BankFileUpload.objects.order_by("-pk").first()
    # when
    page = clerk_client.post(reverse("mappings:review", args=[upload.pk]),
                             {"version": MappingVersion.objects.get().pk})
    # then
    html = page.content.decode()
    assert response.status_code == 302
    assert "发现 1 处问题" in html and "欠款总额" in html and "“一万”不是有效的数字" in html
    assert Batch.objects.count() == 1


def test_mapping_list_and_detail_show_versions_and_the_batches_they_read(clerk_client, bank):
    # given
    test_new_layout_goes_to_the_editor_and_saving_then_importing_takes_two_posts(clerk_client, bank)
    mapping = ImportMapping.objects.get()
    # when
    listing = clerk_client.get(reverse("mappings:mapping-list")).content.decode()
    detail = clerk_client.get(reverse("mappings:mapping-detail", args=[mapping.pk])).content.decode()
    # then
    assert "建行委外清单" in listing and "第 1 版" in listing
    assert "紧急联系人" in detail and "联系人1姓名及关系" in detail and "JH-09" in detail and "5%" in detail


def test_another_clerks_upload_is_not_found(client, bank, other_bank, clerk, other_clerk):
    # given: an upload of the other clerk's bank
    import io

    from mappings.actions import upload_receive

    upload = upload_receive(bank=other_bank, kind="cases", file=io.BytesIO(banks.ccb(banks.month_cases(9), "X")),
                            filename="x.xlsx", by=other_clerk)
    client.force_login(clerk)
    # when / then
    assert client.get(reverse("mappings:review", args=[upload.pk])).status_code == 404
    assert client.get(reverse("mappings:edit", args=[upload.pk])).status_code == 404


def test_upload_refuses_a_file_that_is_no_spreadsheet(clerk_client, bank):
    # when
    response = upload_file(clerk_client, bank, b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, "名单.xlsx")
    # then
    assert response.status_code == 200
    assert "无法读取" in response.content.decode() and BankFileUpload.objects.count() == 0


def test_a_standard_template_file_is_read_by_the_standard_template_mapping(clerk_client, bank):
    # given: a file in the standard template
    from tests.cases.test_import_excel import make_workbook, valid_row

    response = upload_file(clerk_client, bank, make_workbook([valid_row(1), valid_row(2)]), "标准模板.xlsx")
    page = clerk_client.get(response["Location"])
    assert "按 <b>标准模板</b> 读取（表头就是标准模板）" in page.content.decode()
    # when
    imported = clerk_client.post(response["Location"], {"version": "standard"})
    # then
    assert "导入成功：批次 ZS2026110001" in imported.content.decode()
    upload = BankFileUpload.objects.get()
    assert upload.version is None and upload.batch.case_count == 2


def test_a_standard_layout_csv_is_imported_through_the_standard_template_too(clerk_client, bank):
    # given: the standard template's columns saved as a GBK CSV
    import csv
    import io as _io

    from cases.imports.excel import HEADERS
    from tests.cases.test_import_excel import valid_row

    text = _io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    for n in (1, 2):
        row = valid_row(n)
        writer.writerow([row[h].isoformat() if hasattr(row[h], "isoformat") else row[h] for h in HEADERS])
    response = upload_file(clerk_client, bank, text.getvalue().encode("gbk"), "标准模板.csv")
    # when
    imported = clerk_client.post(response["Location"], {"version": "standard"})
    # then
    assert "导入成功：批次 ZS2026110001" in imported.content.decode()
    assert sorted(Case.objects.values_list("case_no", flat=True)) == ["ZS000001", "ZS000002"]
    assert Case.objects.get(case_no="ZS000001").contacts.count() == 4


def test_the_clerk_can_switch_to_another_mapping_of_the_bank(clerk_client, bank, clerk):
    # given: two mappings of the bank; the file matches the first
    test_new_layout_goes_to_the_editor_and_saving_then_importing_takes_two_posts(clerk_client, bank)
    first = MappingVersion.objects.get()
    upload = upload_file(clerk_client, bank, banks.bocom(banks.month_cases(11), "JT2611"), "交行.csv")
    editor = clerk_client.get(reverse("mappings:edit", args=[BankFileUpload.objects.order_by("-pk").first().pk]))
    data = editor_post(editor) | {"const_佣金比例": "3%", "name": "交行清单", "action": "save"}
    clerk_client.post(editor.request["PATH_INFO"], data)
    second = MappingVersion.objects.exclude(pk=first.pk).get()
    october = upload_file(clerk_client, bank, banks.ccb(banks.month_cases(10, prefix="JH"), "JH-10"), "建行10月.xlsx")
    assert upload.status_code == 302
    # when: the clerk switches the October file to the other mapping
    page = clerk_client.get(october["Location"], {"version": second.pk})
    # then: that mapping is shown as chosen, and as not fitting this file
    html = page.content.decode()
    assert f'<option value="{second.pk}" selected>' in html
    assert "文件的表头与映射“交行清单（第 1 版）”不一致" in html and "确认导入" not in html
    back = clerk_client.get(october["Location"], {"version": first.pk}).content.decode()
    assert "已自动识别" in back and "确认导入" in back
