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
