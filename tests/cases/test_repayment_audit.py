"""C5 (PIPL): every repayment, every reversing correction and every confirmed bank file leaves one audit entry."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import AuditAction, AuditEntry
from cases.actions.repayments import repayment_file_confirm, repayment_record, repayment_reverse
from cases.enums import CaseStatus
from cases.imports.repayments import parse_repayment_workbook
from cases.models import Repayment

pytestmark = pytest.mark.django_db
D = Decimal


def _day(n=1):
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture
def case(make_case, collector):
    return make_case(case_no="A1", debtor_name="赵甲", entrusted_amount=D("500.00"), collector=collector,
                     status=CaseStatus.IN_PROGRESS)


def test_repayment_record_writes_one_audit_entry(case, clerk):
    # when
    repayment = repayment_record(case=case, amount=D("500.00"), repaid_on=_day(), by=clerk, bank_ref="R1")
    # then
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_type, entry.object_id) == (
        AuditAction.REPAYMENT, clerk, "Repayment", str(repayment.pk))
    assert "A1 赵甲 ¥500.00" in entry.summary and "余额 ¥0.00" in entry.summary
    assert entry.detail == {"case_id": case.pk, "amount": "500.00", "repaid_on": f"{_day()}", "bank_ref": "R1",
                            "overpayment": False, "balance": "0.00", "settled": True}


def test_repayment_reverse_writes_one_audit_entry_with_reason(case, clerk):
    # given
    original = repayment_record(case=case, amount=D("120.50"), repaid_on=_day(), by=clerk)
    # when
    reversal = repayment_reverse(repayment=original, by=clerk, reason="银行通知金额有误")
    # then
    entry = AuditEntry.objects.get(action=AuditAction.REPAYMENT_REVERSAL)
    assert entry.object_id == str(reversal.pk) and entry.actor == clerk
    assert "冲正 ¥120.50" in entry.summary and "银行通知金额有误" in entry.summary
    assert entry.detail["original_id"] == original.pk and entry.detail["amount"] == "-120.50"
    assert entry.detail["balance"] == "500.00"
    assert AuditEntry.objects.filter(action=AuditAction.REPAYMENT).count() == 1


def test_refused_repayment_writes_no_audit_entry(case, clerk):
    # when: more than the balance without the overpayment flag
    with pytest.raises(Exception, match="超过余额"):
        repayment_record(case=case, amount=D("600.00"), repaid_on=_day(), by=clerk)
    # then
    assert not AuditEntry.objects.exists()


def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["案件编号", "卡号", "还款金额", "还款日期", "流水号"])
    for row in rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_bank_file_confirm_writes_one_audit_entry_with_counts(case, bank, clerk, make_case):
    # given: two new rows, one already recorded, one unknown case number
    make_case(case_no="B1", entrusted_amount=D("300.00"), status=CaseStatus.IN_PROGRESS)
    repayment_record(case=case, amount=D("50.00"), repaid_on=_day(), by=clerk, bank_ref="OLD")
    before = AuditEntry.objects.count()
    rows = parse_repayment_workbook(io.BytesIO(_xlsx([
        ("A1", "", 100, _day(), "N1"), ("B1", "", 30, _day(), "N2"), ("A1", "", 50, _day(), "OLD"),
        ("ZZ9", "", 10, _day(), "N3")]))).rows
    # when
    repayment_file_confirm(bank=bank, sha256="b" * 64, filename="十一月回款.xlsx", rows=rows, by=clerk)
    # then: one entry for the file, none per row
    new = AuditEntry.objects.order_by("id")[before:]
    assert [e.action for e in new] == [AuditAction.REPAYMENT_FILE]
    entry = new[0]
    assert entry.detail == {**entry.detail, "rows": 4, "recorded": 2, "already_recorded": 1, "unmatched": 1,
                                 "invalid": 0, "total": "130.00", "filename": "十一月回款.xlsx"}
    assert "登记 2 笔，合计 ¥130.00" in entry.summary and "未匹配 1 行" in entry.summary
    assert Repayment.objects.filter(source_sha256="b" * 64).count() == 2


def test_repayment_views_leave_audit_entries(client, case, clerk):
    # given
    client.force_login(clerk)
    # when: the clerk records a repayment and reverses it on the case page
    client.post(reverse("cases:repayment-create", args=[case.pk]),
                {"amount": "80.00", "repaid_on": f"{_day():%Y-%m-%d}", "bank_ref": "W1", "note": ""})
    repayment = Repayment.objects.get()
    client.post(reverse("cases:repayment-reverse", args=[case.pk, repayment.pk]), {"reason": "重复登记"})
    # then
    money = AuditEntry.objects.exclude(action=AuditAction.LOGIN).order_by("id")
    assert list(money.values_list("action", flat=True)) == [AuditAction.REPAYMENT, AuditAction.REPAYMENT_REVERSAL]
