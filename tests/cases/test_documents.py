from __future__ import annotations

import io
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from docx import Document

from accounts.models import AuditAction, AuditEntry
from cases.actions.calls import call_record_create
from cases.actions.documents import visit_form_export
from cases.documents.context import visit_form_context
from cases.documents.docx import visit_form_docx
from cases.documents.pdf import visit_form_pdf
from cases.enums import CallResult, CaseEventType, CaseStatus
from cases.models import CaseEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

LONG_ADDRESS = "辽宁省沈阳市和平区南京北街一段二十八号院三号楼二单元十八层一八零二室（和平大街与南京北街交汇处东北角）"


@pytest.fixture
def case(make_case, collector, clerk):
    clerk.phone = "024-88886666"
    clerk.save()
    c = make_case(debtor_name="钱多多", case_no="ZS-2026-0777", collector=collector, owner_clerk=clerk,
                  status=CaseStatus.IN_PROGRESS, mobile="13912345678", home_address=LONG_ADDRESS,
                  employer="沈阳某某机械厂 & 分厂", entrusted_amount=Decimal("12345.67"),
                  repaid_amount=Decimal("345.67"), balance=Decimal("12000.00"), commission_rate=Decimal("0.123400"))
    f.CaseContactFactory(case=c, name="钱母", relation="母亲", phone="13800001111")
    call_record_create(case=c, collector=collector, by=collector, number="13800001111",
                       contact=c.contacts.get(), result=CallResult.THIRD_PARTY, note="母亲称其在外地打工")
    return c


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return done.stdout.decode()


def pdf_pages(data: bytes) -> int:
    out = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def test_visit_form_docx_carries_customer_contacts_amounts_and_phone_work(case, clerk):
    # when
    text = docx_text(visit_form_docx(visit_form_context(case=case, user=clerk)))
    # then
    for expected in ("外访记录表", "ZS-2026-0777", "钱多多", case.id_number, "13912345678", LONG_ADDRESS,
                     "沈阳某某机械厂 & 分厂", "12,345.67", "345.67", "12,000.00", "母亲", "钱母", "13800001111",
                     "第三方接听", "母亲称其在外地打工", "李内勤", "024-88886666", "外访人员签字", "被访人签字",
                     "共 1 次"):
        assert expected in text, expected
    assert "佣金" not in text and "12.34" not in text
    assert "{{" not in text and "{%" not in text


def test_visit_form_for_a_collector_masks_numbers_like_the_case_page(case, collector):
    # when
    text = docx_text(visit_form_docx(visit_form_context(case=case, user=collector)))
    # then
    assert "138****1111" in text and "13800001111" not in text
    assert case.masked_id_number in text and case.id_number not in text


def test_visit_form_docx_without_calls_or_contacts_says_so(make_case, clerk):
    # given
    bare = make_case(debtor_name="孙无话")
    # when
    text = docx_text(visit_form_docx(visit_form_context(case=bare, user=clerk)))
    # then
    assert "（暂无电话记录）" in text and "（无联系人）" in text and "（首次外访）" in text


def test_visit_form_pdf_is_a4_chinese_text_without_clipping(case, clerk):
    # when
    data = visit_form_pdf(visit_form_context(case=case, user=clerk))
    # then
    assert data.startswith(b"%PDF-")
    assert pdf_pages(data) in (1, 2)
    text = pdf_text(data)
    flat = "".join(text.split())
    for expected in ("外访记录表", "钱多多", "ZS-2026-0777", "12,000.00", "第三方接听", "母亲称其在外地打工",
                     "外访人员签字"):
        assert expected in flat, expected
    # The long address wraps inside its cell but every character is on the page.
    assert "".join(LONG_ADDRESS.split()) in flat
    assert "佣金" not in text
    size = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert "(A4)" in size


def test_visit_form_export_records_timeline_and_audit(case, collector):
    # when
    doc = visit_form_export(case=case, fmt="docx", by=collector)
    # then
    assert doc.filename.startswith("外访记录表_ZS-2026-0777_钱多多_") and doc.filename.endswith(".docx")
    event = CaseEvent.objects.get(case=case, type=CaseEventType.VISIT_FORM_EXPORTED)
    assert event.actor == collector and "Word" in event.summary
    assert AuditEntry.objects.get(action=AuditAction.EXPORT).object_id == str(case.pk)


@pytest.mark.parametrize(("fmt", "content_type"), [
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("pdf", "application/pdf"),
])
def test_visit_form_downloads_from_the_case_page(case, collector_client, fmt, content_type):
    # when
    response = collector_client.get(reverse("cases:visit-form", args=[case.pk, fmt]))
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"]


def test_visit_form_of_another_collectors_case_is_404(case, other_collector):
    # given
    from django.test import Client

    client = Client()
    client.force_login(other_collector)
    # when
    response = client.get(reverse("cases:visit-form", args=[case.pk, "pdf"]))
    # then
    assert response.status_code == 404
