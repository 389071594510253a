"""The import action: all or nothing, exact totals, timeline, audit, duplicate batches and C9 continuations."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import AuditAction, AuditEntry
from cases.actions import batches
from cases.actions.batches import batch_import, batch_import_file
from cases.enums import CaseEventType, CaseStatus, ProductType
from cases.exceptions import BatchAlreadyImportedError, ImportRejectedError
from cases.imports.excel import HEADERS, OLE2_MAGIC, REQUIRED_HEADERS
from cases.models import Batch, Case, CaseContact, CaseEvent
from cases.selectors.cases import case_event_list
from tests.cases.test_import_excel import make_id, make_workbook, valid_row
from tests.factories import BatchFactory, CaseFactory, CollectorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Two rows a chunk: every multi-row file here goes through the streamed path (several chunks stored,
    on PostgreSQL by the worker thread, before a later row's problem rolls them back)."""
    monkeypatch.setattr(batches, "_CHUNK", 2)


def run_import(bank, clerk, content: bytes, filename: str = "委案.xlsx"):
    return batch_import_file(bank=bank, uploaded_by=clerk, file=io.BytesIO(content), filename=filename)


def written() -> tuple[int, int, int, int, int]:
    return (Batch.objects.count(), Case.objects.count(), CaseContact.objects.count(), CaseEvent.objects.count(),
            AuditEntry.objects.filter(action=AuditAction.IMPORT).count())


def test_batch_import_file_writes_batch_cases_contacts_and_exact_total(bank, clerk):
    # given
    rows = [valid_row(1, 委案金额="12,345.67"), valid_row(2, 委案金额=0.01, 其他电话=""),
            valid_row(3, 委案金额="99999999.99", 退案日期="2027-03-15", 委案日期="2026-10-20")]
    content = make_workbook(rows, [*HEADERS, "账单日"])
    # when
    batch = run_import(bank, clerk, content)
    # then
    assert (batch.bank, batch.batch_no, batch.imported_by) == (bank, "ZS2026110001", clerk)
    assert (batch.case_count, batch.continuation_count) == (3, 0)
    assert batch.total_amount == Decimal("100012345.67")
    assert (batch.entrust_date, batch.return_date) == (dt.date(2026, 10, 20), dt.date(2027, 3, 15))
    assert batch.product_type == ProductType.CREDIT_CARD
    assert batch.source_filename == "委案.xlsx" and len(batch.source_sha256) == 64
    case = Case.objects.get(case_no="ZS000001")
    assert case.status == CaseStatus.UNASSIGNED and case.collector is None and case.previous_case is None
    assert (case.entrusted_amount, case.balance, case.repaid_amount) == (
        Decimal("12345.67"), Decimal("12345.67"), Decimal("0.00"))
    assert case.commission_rate == Decimal("0.035000")
    assert case.original_return_date == case.return_date == dt.date(2027, 2, 1)
    assert case.id_number == make_id(1) and case.batch == batch and case.bank == bank
    assert list(case.contacts.values_list("relation", "name", "phone")) == [
        ("本人", "客户1", "13812345678"), ("本人", "客户1", "13987654321"), ("本人", "客户1", "024-23801234"),
        ("配偶", "李四", "13900001111")]
    assert CaseContact.objects.count() == 4 + 2 + 4


def test_batch_import_file_stores_no_per_case_timeline_rows_but_each_case_opens_with_its_import(bank, clerk):
    # given
    content = make_workbook([valid_row(n) for n in range(1, 4)])
    # when
    batch = run_import(bank, clerk, content)
    # then: the 导入 entry is the batch's, shown on every case without a stored row per case
    assert not CaseEvent.objects.exists()
    for case in batch.cases.all():
        (entry,) = case_event_list(case=case)
        assert (entry.type, entry.actor, entry.summary) == (CaseEventType.IMPORTED, clerk, "随批次 ZS2026110001 导入")
        assert entry.created_at == batch.imported_at and entry.data == {"batch_id": batch.pk}
    audit = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert audit.actor == clerk and audit.object_id == str(batch.pk)
    assert audit.detail["batch_no"] == "ZS2026110001"
    assert audit.detail["rows"] == 3
    assert audit.detail["total_amount"] == "37037.01"
    assert "37,037.01" in audit.summary


def test_batch_import_file_keeps_extra_columns(bank, clerk):
    # given
    content = make_workbook([valid_row(1, 账单日="5日")], [*HEADERS, "账单日"])
    # when
    run_import(bank, clerk, content)
    # then
    assert Case.objects.get().extra == {"账单日": "5日"}


def test_batch_product_type_is_other_when_rows_differ(bank, clerk):
    # given
    content = make_workbook([valid_row(1), valid_row(2, 产品类型="贷款")])
    # when
    batch = run_import(bank, clerk, content)
    # then
    assert batch.product_type == ProductType.OTHER
    assert set(Case.objects.values_list("product_type", flat=True)) == {"credit_card", "loan"}


def _forged(*_):
    return b"not a workbook at all"


@pytest.mark.parametrize(("build", "fragment"), [
    (lambda: make_workbook([valid_row(1), valid_row(2, 证件号码="210102198506150010")]), "校验位错误"),
    (lambda: make_workbook([valid_row(1)], [h for h in HEADERS if h != "委案金额"]), "缺少必填列“委案金额”"),
    (lambda: make_workbook([valid_row(1), valid_row(2, 案件编号="ZS000001")]), "重复"),
    (lambda: make_workbook([valid_row(1), valid_row(2, 退案日期="2026-01-01")]), "早于委案日期"),
    (lambda: OLE2_MAGIC + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le"), "已加密"),
    (lambda: b"batch,case\n1,2\n", "文本文件"),
])
def test_batch_import_file_rejects_and_writes_nothing(bank, clerk, build, fragment):
    # when
    with pytest.raises(ImportRejectedError) as caught:
        run_import(bank, clerk, build())
    # then
    assert any(fragment in str(e) for e in caught.value.errors), caught.value.errors
    assert written() == (0, 0, 0, 0, 0)
    assert "未导入任何数据" in str(caught.value)


def test_batch_import_file_refuses_the_same_batch_twice(bank, clerk):
    # given
    run_import(bank, clerk, make_workbook([valid_row(1)]))
    # when
    with pytest.raises(BatchAlreadyImportedError) as caught:
        run_import(bank, clerk, make_workbook([valid_row(2)]))
    # then
    assert str(caught.value) == "招商银行 的批次 ZS2026110001 已经导入过，不能重复导入"
    assert (Batch.objects.count(), Case.objects.count()) == (1, 1)


def test_batch_import_file_reports_a_duplicate_batch_before_row_problems(bank, clerk):
    # given
    run_import(bank, clerk, make_workbook([valid_row(1)]))
    # when / then
    with pytest.raises(BatchAlreadyImportedError):
        run_import(bank, clerk, make_workbook([valid_row(2, 委案金额="abc")]))


def test_the_same_batch_number_is_fine_for_another_bank(bank, other_bank, clerk):
    # given
    run_import(bank, clerk, make_workbook([valid_row(1)]))
    # when
    batch = run_import(other_bank, clerk, make_workbook([valid_row(1)]))
    # then
    assert batch.continuation_count == 0
    assert Case.objects.filter(bank=other_bank, previous_case__isnull=True).count() == 1


def test_batch_import_refuses_rows_with_two_batch_numbers(bank, clerk):
    # given
    from cases.imports.excel import parse_case_workbook

    rows = parse_case_workbook(io.BytesIO(make_workbook([valid_row(1), valid_row(2)]))).rows
    rows[1].batch_no = "OTHER"
    # when
    with pytest.raises(ImportRejectedError) as caught:
        batch_import(bank=bank, uploaded_by=clerk, filename="x.xlsx", rows=rows)
    # then
    assert [(e.row_number, e.column) for e in caught.value.errors] == [(3, "批次号")]
    assert written() == (0, 0, 0, 0, 0)


def test_batch_import_refuses_repeated_case_numbers(bank, clerk):
    # given
    from cases.imports.excel import parse_case_workbook

    rows = parse_case_workbook(io.BytesIO(make_workbook([valid_row(1), valid_row(2)]))).rows
    rows[1].case_no = rows[0].case_no
    # when
    with pytest.raises(ImportRejectedError) as caught:
        batch_import(bank=bank, uploaded_by=clerk, filename="x.xlsx", rows=rows)
    # then
    assert [(e.row_number, e.column) for e in caught.value.errors] == [(3, "案件编号")]
    assert written() == (0, 0, 0, 0, 0)


def test_too_many_rows_are_refused(bank, clerk, settings):
    # given
    settings.IMPORT_MAX_ROWS = 3
    # when
    with pytest.raises(ImportRejectedError) as caught:
        run_import(bank, clerk, make_workbook([valid_row(n) for n in range(1, 5)]))
    # then
    assert "超过单次导入上限 3 行" in str(caught.value.errors[0])
    assert written() == (0, 0, 0, 0, 0)


def test_upload_over_the_size_limit_is_refused(bank, clerk, settings):
    # given
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    # when
    with pytest.raises(ImportRejectedError) as caught:
        run_import(bank, clerk, make_workbook([valid_row(1)]))
    # then
    assert "上传上限" in str(caught.value.errors[0])


def test_zip_bomb_is_refused_by_the_uncompressed_limit(bank, clerk, settings):
    # given
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 4096
    # when
    with pytest.raises(ImportRejectedError) as caught:
        run_import(bank, clerk, make_workbook([valid_row(n) for n in range(1, 30)]))
    # then
    assert "疑似恶意压缩文件" in str(caught.value.errors[0])
    assert written() == (0, 0, 0, 0, 0)


def test_a_problem_after_stored_chunks_rolls_back_and_lists_every_problem(bank, clerk):
    # given: rows 2-5 are valid (two chunks are stored before the problems), rows 6 and 8 are not
    rows = [valid_row(n) for n in range(1, 8)]
    rows[4] = valid_row(5, 委案金额="abc")
    rows[6] = valid_row(7, 证件号码="123")
    # when
    with pytest.raises(ImportRejectedError) as caught:
        run_import(bank, clerk, make_workbook(rows))
    # then
    assert [(e.row_number, e.column) for e in caught.value.errors] == [(6, "委案金额"), (8, "证件号码")]
    assert written() == (0, 0, 0, 0, 0)


def test_a_streamed_import_keeps_file_order_and_the_exact_total(bank, clerk):
    # given
    rows = [valid_row(n, 委案金额=f"{n}.0{n}", 委案日期=f"2026-10-{10 + n}") for n in range(1, 8)]
    # when
    batch = run_import(bank, clerk, make_workbook(rows))
    # then
    assert (batch.case_count, batch.total_amount) == (7, Decimal("28.28"))
    assert (batch.entrust_date, batch.return_date) == (dt.date(2026, 10, 11), dt.date(2027, 2, 1))
    cases = list(Case.objects.order_by("id").values_list("case_no", flat=True))
    assert cases == [f"ZS{n:06d}" for n in range(1, 8)]
    assert Batch.objects.get().case_count == 7


def test_a_database_failure_in_a_later_chunk_rolls_everything_back(bank, clerk, monkeypatch):
    # given: the third chunk fails to store
    real_write, calls = batches._CaseWriter.write, []

    def failing_write(self, chunk):
        calls.append(len(chunk.rows))
        if len(calls) == 3:
            raise RuntimeError("database went away")
        real_write(self, chunk)

    monkeypatch.setattr(batches._CaseWriter, "write", failing_write)
    # when
    with pytest.raises(RuntimeError, match="database went away"):
        run_import(bank, clerk, make_workbook([valid_row(n) for n in range(1, 8)]))
    # then
    assert calls == [2, 2, 2]  # nothing more was sent after the failure
    assert written() == (0, 0, 0, 0, 0)


# --- C9: the bank retains a case under a new batch number ----------------------------------------------


def _earlier_case(bank, clerk, **overrides):
    batch = BatchFactory(bank=bank, batch_no="ZS2026080001", entrust_date=dt.date(2026, 8, 1),
                         return_date=dt.date(2026, 11, 1))
    fields = {"case_no": "ZS000001", "id_number": make_id(1), "owner_clerk": clerk,
              "status": CaseStatus.IN_PROGRESS, **overrides}
    return CaseFactory(batch=batch, **fields)


def test_continuation_closes_the_open_earlier_case_and_links_the_new_one(bank, clerk):
    # given
    collector = CollectorFactory()
    earlier = _earlier_case(bank, clerk, collector=collector)
    content = make_workbook([valid_row(1, 委案日期="2026-11-20", 退案日期="2027-02-20"), valid_row(2)])
    # when
    batch = run_import(bank, clerk, content)
    # then
    earlier.refresh_from_db()
    assert earlier.status == CaseStatus.RETURNED
    new = Case.objects.get(batch=batch, case_no="ZS000001")
    assert new.previous_case == earlier
    assert (new.entrust_date, new.return_date, new.original_return_date) == (
        dt.date(2026, 11, 20), dt.date(2026, 12, 20), dt.date(2026, 12, 20))
    assert (new.collector, new.owner_clerk, new.status) == (collector, clerk, CaseStatus.NOT_STARTED)
    assert new.assigned_at is not None
    assert batch.continuation_count == 1 and batch.case_count == 2
    assert batch.return_date == dt.date(2027, 2, 1)  # the other row's date; the continuation runs a month


def test_continuations_in_later_chunks_are_linked_and_the_other_rows_are_not(bank, clerk):
    # given: two earlier cases whose numbers come in the file's second and third chunks (two rows a chunk)
    collector = CollectorFactory()
    first = _earlier_case(bank, clerk, collector=collector, case_no="ZS000003", id_number=make_id(3))
    second = CaseFactory(batch=first.batch, case_no="ZS000006", id_number=make_id(6), owner_clerk=clerk,
                         collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    batch = run_import(bank, clerk, make_workbook([valid_row(n) for n in range(1, 8)]))
    # then: exactly those two continue their earlier cases, with its collector; the rest are new and unassigned
    cases = {c.case_no: c for c in batch.cases.all()}
    assert {n for n, c in cases.items() if c.previous_case_id} == {"ZS000003", "ZS000006"}
    assert (cases["ZS000003"].previous_case, cases["ZS000006"].previous_case) == (first, second)
    assert {c.collector for n, c in cases.items()} == {collector, None}
    assert all(c.collector is None and c.status == CaseStatus.UNASSIGNED
               for n, c in cases.items() if n not in ("ZS000003", "ZS000006"))
    assert [c.case_no for c in batch.cases.order_by("id")] == [f"ZS{n:06d}" for n in range(1, 8)]
    assert batch.continuation_count == 2 and CaseContact.objects.filter(case__batch=batch).count() > 7


def test_continuation_writes_timeline_entries_on_both_cases(bank, clerk):
    # given
    earlier = _earlier_case(bank, clerk, collector=CollectorFactory())
    # when
    batch = run_import(bank, clerk, make_workbook([valid_row(1)]))
    # then
    new = Case.objects.get(batch=batch)
    assert list(earlier.events.values_list("type", flat=True)) == [CaseEventType.SUPERSEDED]
    assert [e.type for e in case_event_list(case=new)] == [CaseEventType.CONTINUED, CaseEventType.IMPORTED]
    continued = new.events.get(type=CaseEventType.CONTINUED)
    assert continued.data == {"previous_case_id": earlier.pk} and "ZS2026080001" in continued.summary


def test_continuation_without_collector_is_unassigned(bank, clerk):
    # given
    _earlier_case(bank, clerk, status=CaseStatus.UNASSIGNED, owner_clerk=None)
    # when
    batch = run_import(bank, clerk, make_workbook([valid_row(1)]))
    # then
    new = Case.objects.get(batch=batch)
    assert (new.status, new.collector, new.owner_clerk) == (CaseStatus.UNASSIGNED, None, None)


def test_continuation_of_a_closed_case_leaves_it_closed(bank, clerk):
    # given
    earlier = _earlier_case(bank, clerk, status=CaseStatus.SETTLED)
    # when
    batch = run_import(bank, clerk, make_workbook([valid_row(1)]))
    # then
    earlier.refresh_from_db()
    assert earlier.status == CaseStatus.SETTLED
    assert not earlier.events.exists()
    assert Case.objects.get(batch=batch).previous_case == earlier


def test_continuation_links_to_the_latest_case_of_a_chain(bank, clerk):
    # given
    run_import(bank, clerk, make_workbook([valid_row(1)]))
    second = run_import(bank, clerk, make_workbook([valid_row(1, 批次号="ZS2026120001", 委案日期="2026-12-01")]))
    # when
    third = run_import(bank, clerk, make_workbook([valid_row(1, 批次号="ZS2027010001", 委案日期="2027-01-01")]))
    # then
    middle = Case.objects.get(batch=second)
    latest = Case.objects.get(batch=third)
    assert latest.previous_case == middle
    assert Case.objects.filter(case_no="ZS000001", status__in=["unassigned", "not_started"]).count() == 1
    assert latest.return_date == dt.date(2027, 2, 1)


def test_continuation_refused_when_the_case_number_belongs_to_another_debtor(bank, clerk):
    # given
    earlier = _earlier_case(bank, clerk, id_number=make_id(7))
    # when
    with pytest.raises(ImportRejectedError) as caught:
        run_import(bank, clerk, make_workbook([valid_row(2), valid_row(1)]))
    # then
    error = caught.value.errors[0]
    assert (error.row_number, error.column) == (3, "证件号码")
    assert "ZS2026080001" in error.message and "另一位客户" in error.message
    earlier.refresh_from_db()
    assert earlier.status == CaseStatus.IN_PROGRESS
    assert Batch.objects.count() == 1  # only the earlier one


def test_continuation_refusals_are_listed_from_every_chunk(bank, clerk):
    # given: case numbers of rows 2 and 7 belong to other debtors, in different chunks
    batch = BatchFactory(bank=bank, batch_no="ZS2026080001")
    CaseFactory(batch=batch, case_no="ZS000001", id_number=make_id(11))
    CaseFactory(batch=batch, case_no="ZS000006", id_number=make_id(16))
    # when
    with pytest.raises(ImportRejectedError) as caught:
        run_import(bank, clerk, make_workbook([valid_row(n) for n in range(1, 8)]))
    # then
    assert [(e.row_number, e.column) for e in caught.value.errors] == [(2, "证件号码"), (7, "证件号码")]
    assert (Batch.objects.count(), Case.objects.count(), CaseEvent.objects.count()) == (1, 2, 0)


def test_continuation_accepts_a_legacy_number_upgraded_to_18_digits(bank, clerk):
    # given
    legacy = "210102850615001"  # make_id(1) in its 15-digit form
    _earlier_case(bank, clerk, id_number=legacy)
    # when
    batch = run_import(bank, clerk, make_workbook([valid_row(1)]))
    # then
    assert batch.continuation_count == 1


def test_case_numbers_of_another_bank_are_not_continuations(bank, other_bank, clerk):
    # given
    _earlier_case(other_bank, clerk)
    # when
    batch = run_import(bank, clerk, make_workbook([valid_row(1)]))
    # then
    assert batch.continuation_count == 0


# --- random corruption never writes a partial import ----------------------------------------------------

VALID = make_workbook([valid_row(n) for n in range(1, 6)])


def _import_in_rollback(bank, clerk, content: bytes) -> tuple[str, tuple]:
    """Run one import and report what it wrote, then roll it back so examples stay independent."""
    with transaction.atomic():
        try:
            run_import(bank, clerk, content)
            outcome = "imported"
        except (ImportRejectedError, BatchAlreadyImportedError):
            outcome = "rejected"
        counts = written()
        transaction.set_rollback(True)
    return outcome, counts


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(min_value=100, max_value=len(VALID)))
def test_random_byte_corruption_imports_all_or_nothing(bank, clerk, flips, keep):
    # given
    data = bytearray(VALID[:keep])
    for position, value in flips:
        if position < len(data):
            data[position] = value
    # when
    outcome, counts = _import_in_rollback(bank, clerk, bytes(data))
    # then
    if outcome == "rejected":
        assert counts == (0, 0, 0, 0, 0)
    else:  # the corruption hit a part the import does not read: the whole file went in, or nothing
        assert counts[:2] == (1, 5)


BAD_VALUES = {
    "证件号码": st.sampled_from(["", "123", "210102198506150010", "ABCDEFGHIJKLMNOPQR", "2101021985061500111"]),
    "委案金额": st.sampled_from(["", "0", "-1", "1.234", "abc", "1,2,3"]),
    "佣金比例": st.sampled_from(["", "0", "200%", "x%", "-3"]),
    "委案日期": st.sampled_from(["", "2026-02-30", "明天", "13/13/2026"]),
    "退案日期": st.sampled_from(["", "2026-01-01", "2026-13-01"]),
    "手机号码": st.sampled_from(["123", "23812345678", "1381234567x"]),
    "批次号": st.sampled_from(["", "ANOTHER"]),
    "案件编号": st.sampled_from(["", "ZS000001"]),
}


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(2, 5), st.sampled_from(sorted(BAD_VALUES)), st.data())
def test_one_bad_cell_anywhere_rejects_the_whole_file(bank, clerk, row_no, header, data):
    # given
    value = data.draw(BAD_VALUES[header])
    rows = [valid_row(n) for n in range(1, 6)]
    rows[row_no - 1] = valid_row(row_no, **{header: value})
    headers = [h for h in HEADERS if h in REQUIRED_HEADERS or h == "手机号码"]
    # when
    outcome, counts = _import_in_rollback(bank, clerk, make_workbook(rows, headers))
    # then
    assert outcome == "rejected"
    assert counts == (0, 0, 0, 0, 0)


def test_more_rows_than_announced_still_get_their_own_ids(bank, clerk, monkeypatch):
    # given: a file whose rows outnumber the ids reserved up front (the encoder reserves more; PostgreSQL)
    if connection.vendor != "postgresql":
        pytest.skip("case ids are reserved ahead only for COPY on PostgreSQL")
    real_init = batches._CopyEncoder.__init__
    monkeypatch.setattr(batches._CopyEncoder, "__init__", lambda self, expected_rows: real_init(self, 1))
    # when
    batch = run_import(bank, clerk, make_workbook([valid_row(n) for n in range(1, 8)]))
    # then: every case stored once, in file order, with its own contacts
    cases = list(batch.cases.order_by("id"))
    assert [c.case_no for c in cases] == [f"ZS{n:06d}" for n in range(1, 8)]
    assert all(c.contacts.filter(name=c.debtor_name).exists() for c in cases)
    assert CaseContact.objects.values("case_id").distinct().count() == 7
