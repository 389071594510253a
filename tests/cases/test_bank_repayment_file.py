"""The bank's repayment file: parsing, reconciliation (new / recorded / conflict / unmatched / invalid, entries
missing from the file, monthly totals), confirm, idempotence."""

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
from cases.actions.repayments import repayment_file_confirm, repayment_record, repayment_reverse
from cases.enums import CaseStatus
from cases.exceptions import RepaymentError
from cases.imports.repayments import parse_repayment_workbook
from cases.models import Repayment
from cases.selectors.repayments import CONFLICT, INVALID, NEW, RECORDED, UNMATCHED, repayment_file_reconcile

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
def test_repayment_file_reconcile_sorts_rows(make_case, bank, clerk):
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
    match = repayment_file_reconcile(bank=bank, rows=rows)
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


# --- Reconciliation: cumulative lists, conflicts, entries missing from the bank's file, monthly totals --------

def _upload(client, bank, data, name="回款.xlsx"):
    return client.post(reverse("cases:repayment-file"),
                       {"bank": bank.pk, "file": SimpleUploadedFile(name, data, content_type=XLSX)})


def _confirm(client, bank, page, **extra):
    return client.post(reverse("cases:repayment-file-confirm"),
                       {"bank": bank.pk, "sha256": page.context["sha256"], "filename": "回款.xlsx", **extra})


@pytest.mark.django_db
def test_cumulative_bank_file_resent_with_old_rows_records_only_the_new_one(client, make_case, bank, clerk):
    # given: the bank's list of the 3rd, confirmed; later its cumulative list (the 3rd again, and the 5th)
    case = make_case(case_no="A1", entrusted_amount=D("1000"), status=CaseStatus.IN_PROGRESS)
    client.force_login(clerk)
    first = _upload(client, bank, _xlsx([("A1", "", 100, _day(5), "")]))
    _confirm(client, bank, first)
    # when
    second = _upload(client, bank, _xlsx([("A1", "", 100, _day(5), ""), ("A1", "", 50, _day(3), "")]))
    # then: the preview says one row is recorded already, one is new
    assert [m.status for m in second.context["match"].rows] == [RECORDED, NEW]
    _confirm(client, bank, second)
    case.refresh_from_db()
    assert case.repaid_amount == D("150.00") and Repayment.objects.count() == 2


@pytest.mark.django_db
def test_two_equal_payments_on_one_day_are_counted_not_merged(client, make_case, bank, clerk):
    # given: one 100 recorded on the 5th; the bank's list has two payments of 100 that day
    case = make_case(case_no="A1", entrusted_amount=D("1000"), status=CaseStatus.IN_PROGRESS)
    repayment_record(case=case, amount=D("100"), repaid_on=_day(5), by=clerk)
    client.force_login(clerk)
    # when
    page = _upload(client, bank, _xlsx([("A1", "", 100, _day(5), ""), ("A1", "", 100, _day(5), "")]))
    _confirm(client, bank, page)
    # then
    assert [m.status for m in page.context["match"].rows] == [RECORDED, NEW]
    case.refresh_from_db()
    assert case.repaid_amount == D("200.00")


@pytest.mark.django_db
def test_bank_ref_recorded_with_another_amount_is_a_conflict_and_never_recorded(client, make_case, bank, clerk):
    # given: 99 typed in by hand under 流水号 R-7; the bank's file says R-7 was 10 (and has one new row)
    case = make_case(case_no="A1", entrusted_amount=D("1000"), status=CaseStatus.IN_PROGRESS)
    make_case(case_no="B1", entrusted_amount=D("1000"), status=CaseStatus.IN_PROGRESS)
    repayment_record(case=case, amount=D("99"), repaid_on=_day(2), by=clerk, bank_ref="R-7")
    client.force_login(clerk)
    data = _xlsx([("A1", "", 10, _day(2), "R-7"), ("B1", "", 20, _day(2), "R-8")])
    # when
    page = _upload(client, bank, data)
    # then: the row is a conflict, named as such with both figures, not 已登记
    html = page.content.decode()
    [conflict, new] = page.context["match"].rows
    assert (conflict.status, new.status) == (CONFLICT, NEW)
    assert "冲突" in html and "99.00" in conflict.message and "10.00" in conflict.message
    assert 'name="conflicts_seen"' in html
    # when: confirmed without saying the conflict was seen
    refused = _confirm(client, bank, page)
    # then: nothing is recorded
    assert "冲突" in refused.content.decode() and Repayment.objects.count() == 1
    # when: confirmed after ticking 已核对冲突
    _confirm(client, bank, page, conflicts_seen="1")
    # then: the new row is recorded, the conflicting one is not
    case.refresh_from_db()
    assert case.repaid_amount == D("99.00") and Repayment.objects.filter(case=case).count() == 1
    assert Repayment.objects.filter(case__case_no="B1", amount=D("20")).exists()
    entry = AuditEntry.objects.get(object_type="repayment_file")
    assert entry.detail["conflicts"] == 1 and entry.detail["conflict_rows"][0]["row"] == 2


@pytest.mark.django_db
def test_conflict_resolved_by_reversing_the_wrong_entry_then_records_the_banks_figure(client, make_case, bank,
                                                                                      clerk):
    # given: the wrong 99 under R-7 is reversed on the case page
    case = make_case(case_no="A1", entrusted_amount=D("1000"), status=CaseStatus.IN_PROGRESS)
    wrong = repayment_record(case=case, amount=D("99"), repaid_on=_day(2), by=clerk, bank_ref="R-7")
    repayment_reverse(repayment=wrong, by=clerk, reason="银行文件为 10 元")
    client.force_login(clerk)
    # when: the bank's file is uploaded again
    page = _upload(client, bank, _xlsx([("A1", "", 10, _day(2), "R-7")]))
    _confirm(client, bank, page)
    # then
    assert page.context["match"].rows[0].status == NEW
    case.refresh_from_db()
    assert case.repaid_amount == D("10.00")


@pytest.mark.django_db
def test_same_case_day_and_amount_under_another_bank_ref_is_a_conflict(make_case, bank, clerk):
    # given
    case = make_case(case_no="A1", entrusted_amount=D("1000"), status=CaseStatus.IN_PROGRESS)
    repayment_record(case=case, amount=D("30"), repaid_on=_day(2), by=clerk, bank_ref="NOTICE-1")
    repayment_record(case=case, amount=D("40"), repaid_on=_day(2), by=clerk)
    rows = parse_repayment_workbook(io.BytesIO(_xlsx([("A1", "", 30, _day(2), "TX-1"),
                                                      ("A1", "", 40, _day(2), "TX-2")]))).rows
    # when
    match = repayment_file_reconcile(bank=bank, rows=rows)
    # then: 30 is recorded under another 流水号 (a person decides); 40 was typed in without one (the same payment)
    assert [m.status for m in match.rows] == [CONFLICT, RECORDED]
    assert "NOTICE-1" in match.rows[0].message


@pytest.mark.django_db
def test_reconciliation_lists_entries_missing_from_the_file_and_monthly_totals(client, make_case, bank, clerk):
    # given: two months of the bank's list; the system has one entry the bank's list does not have
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    a = make_case(case_no="A1", entrusted_amount=D("5000"), status=CaseStatus.IN_PROGRESS)
    b = make_case(case_no="B1", entrusted_amount=D("5000"), status=CaseStatus.IN_PROGRESS, debtor_name="孙漏登")
    repayment_record(case=a, amount=D("100"), repaid_on=last_month, by=clerk)
    repayment_record(case=b, amount=D("70"), repaid_on=last_month + dt.timedelta(days=1), by=clerk, bank_ref="X9")
    client.force_login(clerk)
    # when
    page = _upload(client, bank, _xlsx([("A1", "", 100, last_month, ""), ("A1", "", 1234.5, this_month, "")]))
    # then
    match = page.context["match"]
    assert [(m.case_no, m.amount, m.bank_ref) for m in match.missing] == [("B1", D("70.00"), "X9")]
    assert [(p.month, p.file_count, p.file_amount, p.system_count, p.system_amount) for p in match.periods] == [
        (last_month, 1, D("100.00"), 2, D("170.00")), (this_month, 1, D("1234.50"), 0, D("0.00"))]
    html = page.content.decode()
    assert "系统已登记、银行文件中没有" in html and "孙漏登" in html and "1,234.50" in html and "按月合计" in html


def _twin_world(make_case, collector, clerk, tag):
    """Three cases of one batch: two rows on the first (the second settles it), one with a promise, one plain."""
    from cases.actions.calls import call_record_create
    from cases.actions.reminders import reminder_create
    from cases.enums import ReminderKind
    from tests import factories as f

    batch = f.BatchFactory(bank=clerk.bank_scopes.first().bank)
    cases = [make_case(batch=batch, case_no=f"{tag}{i}", entrusted_amount=D(amount), collector=collector,
                       owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, commission_rate=D("0.1500"))
             for i, amount in enumerate(("300", "800", "1000"))]
    call_record_create(case=cases[1], collector=collector, number="13800000000", by=collector, result="promise",
                       started_at=timezone.now() - dt.timedelta(hours=1), promise_date=timezone.localdate(),
                       promise_amount=D("500.00"))
    reminder_create(user_id=collector.pk, case_id=cases[0].pk, case_no=cases[0].case_no, debtor_name="x",
                    kind=ReminderKind.EXPIRY_15, cycle="t", due_at=timezone.now(), text="15天内到期")
    rows = [(cases[0], "100", ""), (cases[1], "500", f"{tag}R1"), (cases[0], "200", ""), (cases[2], "10.01", "")]
    return cases, rows


@pytest.mark.django_db
def test_a_file_leaves_everything_as_recording_its_rows_one_by_one_would(make_case, clerk, published,
                                                                       django_capture_on_commit_callbacks):
    """The file path records its rows together; the result must be what one repayment_record per row leaves:
    entries, case figures and status, timeline lines, roll-ups, the collector's day counter, the promise kept,
    the settled case's reminders resolved, and one CaseBalanceChanged per row with the figures after it."""
    from cases.enums import ReminderKind
    from cases.models import CaseEvent, DailyCollectorStats, Reminder, RepaymentDaily
    from tests import factories as f
    from worklist.models import Promise

    one, two = f.CollectorFactory(), f.CollectorFactory()
    file_cases, file_rows = _twin_world(make_case, one, clerk, "F")
    hand_cases, hand_rows = _twin_world(make_case, two, clerk, "H")
    # when: the first world's rows come in a bank file, the second's are recorded one by one
    with django_capture_on_commit_callbacks(execute=True):
        rows = parse_repayment_workbook(io.BytesIO(_xlsx([(c.case_no, "", float(a), _day(0), r)
                                                          for c, a, r in file_rows]))).rows
        repayment_file_confirm(bank=file_cases[0].bank, sha256="c" * 64, filename="f.xlsx", rows=rows, by=clerk)
    with django_capture_on_commit_callbacks(execute=True):
        for case, amount, ref in hand_rows:
            repayment_record(case=case, amount=D(amount), repaid_on=_day(0), by=clerk, bank_ref=ref)

    def state(cases, collector):
        for c in cases:
            c.refresh_from_db()
        entries = [(r.case.case_no[1:], r.amount, r.commission, r.bank_ref[1:], r.collector_id == collector.pk)
                   for r in Repayment.objects.filter(case__in=cases).order_by("pk")]
        figures = [(c.repaid_amount, c.balance, c.status) for c in cases]
        lines = [e.summary.replace("流水号 F", "流水号 ").replace("流水号 H", "流水号 ")
                 for e in CaseEvent.objects.filter(case__in=cases, type="repayment").order_by("pk")]
        daily = list(RepaymentDaily.objects.filter(batch=cases[0].batch).values_list("amount", "commission", "count"))
        # today's counter (the call an hour before falls on yesterday's when the suite runs just after midnight)
        counter = DailyCollectorStats.objects.get(collector=collector, day=timezone.localdate()).repaid_amount
        promises = list(Promise.objects.filter(case__in=cases).values_list("status", "paid_amount"))
        reminders = list(Reminder.objects.filter(case__in=cases, kind=ReminderKind.EXPIRY_15)
                         .values_list("resolved_at", flat=True))
        balances = [(m["repaid_amount"], m["balance"], m["status"], m["text"][1:])
                    for c in cases for m in published.messages_to(f"case.{c.pk}")
                    if m["type"] == "case.balance_changed"]
        return entries, figures, lines, daily, counter, promises, [r is not None for r in reminders], balances

    by_file, by_hand = state(file_cases, one), state(hand_cases, two)
    assert by_file == by_hand
    entries, figures, lines, daily, counter, promises, resolved, balances = by_file
    assert figures[0] == (D("300.00"), D("0.00"), CaseStatus.SETTLED) and len(entries) == 4
    assert daily == [(D("810.01"), D("121.50"), 4)] and counter == D("810.01")
    assert promises == [("kept", D("500.00"))] and resolved == [True]
    assert [b[1] for b in balances][:2] == ["200.00", "0.00"] and len(lines) == 4


@pytest.mark.django_db
def test_a_thousand_row_file_takes_a_few_statements_per_thousand_rows(make_case, bank, clerk,
                                                                      django_assert_max_num_queries):
    # given: a thousand cases, one row each, none with a promise
    from tests import factories as f

    batch = f.BatchFactory(bank=bank)
    cases = f.CaseFactory.create_batch(1000, batch=batch, entrusted_amount=D("900"), status=CaseStatus.IN_PROGRESS)
    rows = parse_repayment_workbook(io.BytesIO(_xlsx([(c.case_no, "", 100, _day(), "") for c in cases]))).rows
    # when / then: reconciliation, locks, entries, figures, timeline, roll-ups and audit in bounded statements
    # (one per row for the worklist's promise look-up, which a row without a promise answers from an index)
    with django_assert_max_num_queries(1000 + 60):
        result = repayment_file_confirm(bank=bank, sha256="d" * 64, filename="big.xlsx", rows=rows, by=clerk)
    assert result.recorded == 1000
    assert Repayment.objects.filter(case__batch=batch).count() == 1000
