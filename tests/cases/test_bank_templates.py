from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry
from cases.actions.templates import bank_template_delete, bank_template_upload
from cases.enums import CaseStatus, TemplateKind
from cases.exceptions import UploadRejectedError
from cases.models import BankTemplate
from tests.cases import samples as s
from tests.cases.samples import media_root  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("name", "data", "kind"), [
    ("承诺书.docx", s.docx(), TemplateKind.DOCX), ("还款计划.xlsx", s.xlsx(), TemplateKind.XLSX),
    ("说明.pdf", s.pdf(), TemplateKind.PDF),
])
def test_bank_template_upload_detects_the_kind_by_content(bank, clerk, name, data, kind):
    # when
    template = bank_template_upload(bank=bank, title="模板", upload=s.upload(name, data), by=clerk)
    # then
    assert template.kind == kind
    assert (s.media() / template.file.name).read_bytes() == data


def test_bank_template_upload_refuses_a_renamed_file_and_keeps_nothing(bank, clerk):
    # when
    with pytest.raises(UploadRejectedError) as err:
        bank_template_upload(bank=bank, title="伪装", upload=s.upload("伪装.docx", s.jpeg()), by=clerk)
    assert str(err.value) == "文件《伪装.docx》的内容不是 Word（.docx）、Excel（.xlsx）或 PDF 文档，而是 JPEG 图片"
    # then
    assert not BankTemplate.objects.exists() and s.stored_files() == []


def test_clerk_uploads_through_the_page_and_collector_of_the_bank_downloads(bank, clerk, collector, make_case):
    # given
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    response = client_for(clerk).post(reverse("cases:template-list"), {
        "bank": bank.pk, "title": "还款承诺书", "file": s.upload("还款承诺书.docx", s.docx("承诺按期还款")),
    })
    # then
    assert response.status_code == 302
    template = BankTemplate.objects.get()
    page = client_for(collector).get(reverse("cases:template-list")).content.decode()
    assert "还款承诺书" in page and "招商银行" in page
    download = client_for(collector).get(reverse("cases:template-download", args=[template.pk]))
    assert download.status_code == 200
    from docx import Document

    body = b"".join(download.streaming_content)
    assert len(body) == template.size and Document(io.BytesIO(body)).paragraphs[0].text == "承诺按期还款"
    assert "filename*=utf-8''" in download["Content-Disposition"]


def test_collector_without_cases_of_the_bank_neither_sees_nor_downloads(bank, clerk, other_collector):
    # given
    template = bank_template_upload(bank=bank, title="还款承诺书", upload=s.upload("t.pdf", s.pdf()), by=clerk)
    client = client_for(other_collector)
    # when
    page = client.get(reverse("cases:template-list")).content.decode()
    download = client.get(reverse("cases:template-download", args=[template.pk]))
    # then
    assert "还款承诺书" not in page
    assert download.status_code == 404


def test_clerk_cannot_upload_for_a_bank_outside_their_scope(other_bank, clerk):
    # when
    response = client_for(clerk).post(reverse("cases:template-list"), {
        "bank": other_bank.pk, "title": "越权", "file": s.upload("t.pdf", s.pdf()),
    })
    # then
    assert response.status_code == 200  # the bank is not among the choices: a form error
    assert "越权" not in [t.title for t in BankTemplate.objects.all()]


def test_bank_template_delete_removes_bytes_and_audits(bank, clerk, django_capture_on_commit_callbacks):
    # given
    template = bank_template_upload(bank=bank, title="旧模板", upload=s.upload("t.pdf", s.pdf()), by=clerk)
    path = s.media() / template.file.name
    # when
    with django_capture_on_commit_callbacks(execute=True):
        bank_template_delete(template=template, by=clerk)
    # then
    assert not path.exists() and not BankTemplate.objects.exists()
    assert "旧模板" in AuditEntry.objects.get(action=AuditAction.DELETE).summary
