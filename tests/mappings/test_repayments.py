"""Bank repayment files in the bank's own layout, read through a mapping into the rows the reconciliation uses."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Repayment
from mappings.actions import (
    mapping_save,
    upload_confirm_repayments,
    upload_open,
    upload_read_repayments,
    upload_receive,
)
from mappings.imports.headers import propose
from mappings.models import UploadStatus

pytestmark = pytest.mark.django_db


def repayment_csv(rows: list[list[str]]) -> bytes:
    lines = ["招商银行 还款明细（委外）", "借据号,入账日期,实还金额,交易流水号,摘要", *(",".join(r) for r in rows)]
    return "\r\n".join(lines).encode("gbk")


def saved_upload(bank, clerk, content: bytes):
    upload = upload_receive(bank=bank, kind="repayments", file=io.BytesIO(content), filename="还款明细.csv", by=clerk)
    read = upload_open(upload)
    spec = propose(kind="repayments", labels=read.header.labels)
    version = mapping_save(bank=bank, kind="repayments", spec=spec, headers=read.header.labels, header_rows=1,
                           by=clerk, name="招行还款明细")
    return upload, version


def test_repayment_file_in_the_banks_layout_records_the_matched_rows(bank, clerk, make_case):
    # given: two cases and the bank's GBK list with a title line, compact dates and "元" amounts
    day = timezone.localdate() - dt.timedelta(days=2)
    first = make_case(case_no="HT-1", entrusted_amount=Decimal("5000.00"))
    second = make_case(case_no="HT-2", entrusted_amount=Decimal("8000.00"))
    content = repayment_csv([["HT-1", f"{day:%Y%m%d}", "\"1,234.50元\"", "LS001", "网银"],
                             ["HT-2", f"{day.year}年{day.month}月{day.day}日", "0.08万", "LS002", ""],
                             ["HT-9", f"{day:%Y%m%d}", "100", "LS003", ""]])
    upload, version = saved_upload(bank, clerk, content)
    parsed = upload_read_repayments(upload=upload, version=version)
    assert [(r.row_number, r.case_no, r.amount, r.repaid_on, r.bank_ref) for r in parsed.rows] == [
        (3, "HT-1", Decimal("1234.50"), day, "LS001"), (4, "HT-2", Decimal("800.00"), day, "LS002"),
        (5, "HT-9", Decimal("100.00"), day, "LS003")]
    # when
    result = upload_confirm_repayments(upload=upload, version=version, by=clerk)
    # then: the matched rows are recorded once, the unmatched one is left
    assert (result.recorded, result.total, result.skipped) == (2, Decimal("2034.50"), 1)
    assert {(r.case_id, r.amount) for r in Repayment.objects.all()} == {(first.pk, Decimal("1234.50")),
                                                                      (second.pk, Decimal("800.00"))}
    upload.refresh_from_db()
    assert upload.status == UploadStatus.IMPORTED and upload.version == version


def test_repayment_file_errors_name_the_banks_columns(bank, clerk, make_case):
    # given
    make_case(case_no="HT-1")
    upload, version = saved_upload(bank, clerk, repayment_csv([["HT-1", "2026/13/40", "abc", "LS1", ""]]))
    # when
    parsed = upload_read_repayments(upload=upload, version=version)
    # then
    assert {(e.row_number, e.column) for e in parsed.errors} == {(3, "入账日期"), (3, "实还金额")}


def test_repayment_review_page_shows_the_match_and_confirms(clerk_client, bank, clerk, make_case):
    # given
    make_case(case_no="HT-1", entrusted_amount=Decimal("5000.00"))
    day = timezone.localdate()
    upload, version = saved_upload(bank, clerk, repayment_csv([["HT-1", f"{day:%Y%m%d}", "300", "LS9", ""]]))
    url = reverse("mappings:review", args=[upload.pk])
    # when
    page = clerk_client.get(url)
    # then
    html = page.content.decode()
    assert page.status_code == 200 and "招行还款明细（第 1 版）" in html and "确认登记 1 笔回款" in html
    assert clerk_client.post(url, {"version": version.pk}).status_code == 302
    assert Repayment.objects.get().amount == Decimal("300.00")
    assert "登记 1 笔回款" in clerk_client.get(url).content.decode()


def test_mapped_repayment_file_is_reconciled_like_the_standard_one(clerk_client, bank, clerk, make_case):
    # given: 99 recorded by hand under 流水号 LS7; the bank's own list says LS7 was 10, and has a new row
    from cases.actions.repayments import repayment_record

    day = timezone.localdate() - dt.timedelta(days=1)
    case = make_case(case_no="HT-1", entrusted_amount=Decimal("5000.00"))
    make_case(case_no="HT-2", entrusted_amount=Decimal("5000.00"))
    repayment_record(case=case, amount=Decimal("99"), repaid_on=day, by=clerk, bank_ref="LS7")
    upload, version = saved_upload(bank, clerk, repayment_csv([["HT-1", f"{day:%Y%m%d}", "10", "LS7", ""],
                                                               ["HT-2", f"{day:%Y%m%d}", "20", "LS8", ""]]))
    url = reverse("mappings:review", args=[upload.pk])
    # when
    html = clerk_client.get(url).content.decode()
    # then: the same reconciliation page: the conflict named, to be acknowledged before confirming
    assert "冲突" in html and "流水号 LS7 已登记为 ¥99.00" in html and 'name="conflicts_seen"' in html
    clerk_client.post(url, {"version": version.pk})
    assert Repayment.objects.count() == 1
    clerk_client.post(url, {"version": version.pk, "conflicts_seen": "1"})
    assert sorted(Repayment.objects.values_list("amount", flat=True)) == [Decimal("20.00"), Decimal("99.00")]
