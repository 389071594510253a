"""Batch import (C1, C2, C9): persist parsed rows of one bank's file as one batch, all or nothing.

Parsing is `cases.imports.excel` (pure); this module owns the database side: the duplicate-batch and
continuation checks, the writes and the timeline. On PostgreSQL the rows go in with COPY (Django's
bulk_create spends most of its time building SQL and is several times slower for 100k rows); on SQLite
bulk_create in chunks. Either way everything happens inside one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import history
from cases.enums import OPEN_STATUSES, CaseEventType, CaseStatus, ContactSource, ProductType
from cases.exceptions import BatchAlreadyImportedError, ImportRejectedError
from cases.imports.excel import add_one_month, parse_case_workbook
from cases.imports.rows import CaseRow, RowError
from cases.models import Bank, Batch, Case, CaseContact, CaseEvent
from cases.validators import id_check_digit

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
_LOOKUP_CHUNK = 5000
_SQLITE_CHUNK = 2000
# What the import page and the command report: the Batch carries the batch number, case count,
# continuation count and the exact total.
ImportOutcome = Batch


@dataclass(frozen=True, slots=True)
class _Earlier:
    """The latest existing case of the bank with a case number of the file (C9 continuation source)."""

    id: int
    status: str
    collector_id: int | None
    owner_clerk_id: int | None
    id_number: str
    batch_no: str


def batch_import_file(*, bank: Bank, uploaded_by: User | None, file: BinaryIO, filename: str) -> ImportOutcome:
    """Parse `file` and import it as one batch of `bank`; returns the Batch.

    Emits: nothing.
    Raises: ImportRejectedError (with every row error), BatchAlreadyImportedError.
    """
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    data = file.read(limit + 1)
    if len(data) > limit:
        raise ImportRejectedError([RowError(0, "", f"文件超过 {limit // (1024 * 1024)} MB 的上传上限，请拆分后导入")])
    source_sha256 = hashlib.sha256(data).hexdigest()
    upload = _ReadOnce(data)
    del data  # the parser holds the only reference and drops it once calamine has the file (20 MB for 100k rows)
    result = parse_case_workbook(upload)  # type: ignore[arg-type]
    del upload
    # The duplicate batch is the first thing a clerk needs to know, even when the file has other problems.
    if result.batch_no and Batch.objects.filter(bank=bank, batch_no=result.batch_no).exists():
        raise BatchAlreadyImportedError(bank.name, result.batch_no)
    if result.errors:
        raise ImportRejectedError(result.errors)
    return batch_import(bank=bank, uploaded_by=uploaded_by, filename=filename, rows=result.rows,
                        source_sha256=source_sha256)


class _ReadOnce:
    """A file that hands out its bytes once and forgets them: the reader then decides when they are freed."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int = -1) -> bytes:
        data, self._data = self._data, b""
        return data


@transaction.atomic
def batch_import(*, bank: Bank, uploaded_by: User | None, filename: str, rows: list[CaseRow],
                 source_sha256: str = "") -> Batch:
    """Create the batch, its cases, contacts and 导入 timeline entries; close cases the bank retained anew (C9).

    Emits: nothing (the import page shows the result; assignment notifies collectors later).
    Raises: ImportRejectedError (no rows, mixed batch numbers, a case number held by another debtor),
        BatchAlreadyImportedError.
    """
    if not rows:
        raise ImportRejectedError([RowError(0, "", "文件中没有数据行")])
    batch_no = rows[0].batch_no
    mixed = [RowError(r.row_number, "批次号", f"一个文件只能有一个批次号（首行为“{batch_no}”）")
             for r in rows if r.batch_no != batch_no]
    if mixed:
        raise ImportRejectedError(mixed)
    first_row: dict[str, int] = {}
    repeated = [RowError(r.row_number, "案件编号", f"案件编号“{r.case_no}”与第 {first_row[r.case_no]} 行重复")
                for r in rows if first_row.setdefault(r.case_no, r.row_number) != r.row_number]
    if repeated:
        raise ImportRejectedError(repeated)
    # Serialise imports of one bank: the duplicate-batch check and the continuation lookup below must not
    # race another import of the same bank.
    Bank.objects.select_for_update().filter(pk=bank.pk).values_list("pk", flat=True).first()
    if Batch.objects.filter(bank=bank, batch_no=batch_no).exists():
        raise BatchAlreadyImportedError(bank.name, batch_no)

    earlier = _earlier_cases(bank=bank, case_nos=[r.case_no for r in rows])
    errors = [
        RowError(r.row_number, "证件号码",
                 f"案件编号“{r.case_no}”在批次 {earlier[r.case_no].batch_no} 中属于另一位客户（证件号码不同），"
                 "不能作为续案导入，请核对")
        for r in rows
        if r.case_no in earlier and not _same_person(earlier[r.case_no].id_number, r.id_number)
    ]
    if errors:
        raise ImportRejectedError(errors)

    now = timezone.now()
    product_types = {r.product_type for r in rows}
    return_dates = [_return_date(r, r.case_no in earlier) for r in rows]
    try:
        with transaction.atomic():
            batch = Batch.objects.create(
                bank=bank, batch_no=batch_no,
                product_type=product_types.pop() if len(product_types) == 1 else ProductType.OTHER,
                imported_by=uploaded_by,
                entrust_date=min(r.entrust_date for r in rows), return_date=max(return_dates),
                case_count=len(rows), total_amount=sum((r.entrusted_amount for r in rows), ZERO),
                continuation_count=sum(1 for r in rows if r.case_no in earlier),
                source_filename=filename[:255], source_sha256=source_sha256,
            )
    except IntegrityError as error:  # another import of the same batch committed first
        raise BatchAlreadyImportedError(bank.name, batch_no) from error

    # C9: the partial unique constraint on open case numbers requires the earlier case closed first.
    superseded = [e.id for e in earlier.values() if e.status in OPEN_STATUSES]
    for chunk in _chunks(superseded, _LOOKUP_CHUNK):
        Case.objects.filter(pk__in=chunk).update(status=CaseStatus.RETURNED, status_changed_at=now, updated_at=now)

    if connection.vendor == "postgresql":
        case_ids = _copy_cases(batch=batch, rows=rows, return_dates=return_dates, earlier=earlier,
                               actor=uploaded_by, now=now)
    else:
        case_ids = _bulk_create_cases(batch=batch, rows=rows, return_dates=return_dates, earlier=earlier,
                                      actor=uploaded_by, now=now)

    if earlier:
        _write_continuation_history(batch=batch, rows=rows, case_ids=case_ids, earlier=earlier,
                                    superseded=set(superseded), actor=uploaded_by)
    audit_record(
        actor=uploaded_by, action=AuditAction.IMPORT,
        summary=f"导入{bank.name}批次 {batch_no}：{batch.case_count} 件（续案 {batch.continuation_count} 件），"
                f"委案总金额 {batch.total_amount:,.2f} 元",
        object_type="batch", object_id=batch.pk,
        detail={"bank": bank.code, "batch_no": batch_no, "rows": batch.case_count,
                "continuations": batch.continuation_count, "total_amount": str(batch.total_amount),
                "filename": batch.source_filename, "sha256": source_sha256},
    )
    logger.info("batch %s of bank %s imported: %d cases, total %s", batch_no, bank.code, batch.case_count,
                batch.total_amount)
    return batch


# --- database checks ---------------------------------------------------------------------------------------


def _earlier_cases(*, bank: Bank, case_nos: Sequence[str]) -> dict[str, _Earlier]:
    """For each case number already used by `bank`, its latest case (the head of the continuation chain)."""
    found: dict[str, _Earlier] = {}
    for chunk in _chunks(list(case_nos), _LOOKUP_CHUNK):
        rows = (Case.objects.filter(bank=bank, case_no__in=chunk).order_by("id")
                .values_list("id", "case_no", "status", "collector_id", "owner_clerk_id", "id_number",
                             "batch__batch_no"))
        for pk, case_no, status, collector_id, owner_id, id_number, batch_no in rows:
            found[case_no] = _Earlier(pk, status, collector_id, owner_id, id_number, batch_no)
    return found


def _same_person(earlier: str, new: str) -> bool:
    return _as_18(earlier) == _as_18(new)


def _as_18(id_number: str) -> str:
    """A 15-digit legacy number as its 18-digit form, so a bank's upgrade of the number is not a mismatch."""
    if len(id_number) == 15 and id_number.isdigit():
        first17 = id_number[:6] + "19" + id_number[6:]
        return first17 + id_check_digit(first17)
    return id_number.upper()


def _return_date(row: CaseRow, continues: bool) -> dt.date:
    # C9: a case retained under a new batch number is valid for one month from its entrust date.
    return add_one_month(row.entrust_date) if continues else row.return_date


# --- writes --------------------------------------------------------------------------------------------


def _case_values(*, batch: Batch, row: CaseRow, return_date: dt.date, earlier: _Earlier | None,
                 now: dt.datetime) -> dict[str, object]:
    collector_id = earlier.collector_id if earlier else None
    return {
        "bank_id": batch.bank_id, "batch_id": batch.pk, "case_no": row.case_no, "debtor_name": row.debtor_name,
        "id_number": row.id_number, "product_type": row.product_type, "card_no": row.card_no,
        "mobile": row.mobile, "home_address": row.home_address, "employer": row.employer,
        "work_address": row.work_address, "region": row.region, "note": row.note,
        "entrusted_amount": row.entrusted_amount, "principal": row.principal, "interest": row.interest,
        "fees": row.fees, "overdue_days": row.overdue_days, "commission_rate": row.commission_rate,
        "repaid_amount": ZERO, "balance": row.entrusted_amount,
        "entrust_date": row.entrust_date, "return_date": return_date, "original_return_date": return_date,
        "status": CaseStatus.NOT_STARTED if collector_id else CaseStatus.UNASSIGNED,
        "status_changed_at": now,
        "owner_clerk_id": earlier.owner_clerk_id if earlier else None,
        "collector_id": collector_id, "assigned_at": now if collector_id else None,
        "previous_case_id": earlier.id if earlier else None,
        "extra": row.extra, "created_at": now, "updated_at": now,
    }


def _imported_summary(batch: Batch) -> tuple[str, dict[str, object]]:
    # The same text and data as cases.history.cases_imported writes on SQLite.
    return f"随批次 {batch.batch_no} 导入", {"batch_id": batch.pk}


def _bulk_create_cases(*, batch: Batch, rows: list[CaseRow], return_dates: list[dt.date],
                       earlier: dict[str, _Earlier], actor: User | None, now: dt.datetime) -> list[int]:
    case_ids: list[int] = []
    for start in range(0, len(rows), _SQLITE_CHUNK):
        part = rows[start:start + _SQLITE_CHUNK]
        cases = [Case(**_case_values(batch=batch, row=row, return_date=return_dates[start + i],
                                     earlier=earlier.get(row.case_no), now=now))
                 for i, row in enumerate(part)]
        Case.objects.bulk_create(cases)
        CaseContact.objects.bulk_create(
            [CaseContact(case_id=case.pk, name=c.name, relation=c.relation, phone=c.phone,
                         source=ContactSource.IMPORT)
             for case, row in zip(cases, part, strict=True) for c in row.contacts],
        )
        case_ids.extend(case.pk for case in cases)
    history.cases_imported(case_ids=case_ids, batch=batch, actor=actor)
    return case_ids


# The columns the import sets, in COPY order. Any other concrete column (one added to the model later)
# is sent with its Python default, so COPY keeps working when the models grow.
_CASE_COLUMNS = (
    "id", "bank_id", "batch_id", "case_no", "debtor_name", "id_number", "product_type", "card_no", "mobile",
    "home_address", "employer", "work_address", "region", "note", "entrusted_amount", "principal", "interest",
    "fees", "overdue_days", "commission_rate", "repaid_amount", "balance", "entrust_date", "return_date",
    "original_return_date", "status", "status_changed_at", "owner_clerk_id", "collector_id", "assigned_at",
    "previous_case_id", "extra", "created_at", "updated_at",
)
_CONTACT_COLUMNS = ("case_id", "name", "relation", "phone", "source", "created_at")
_EVENT_COLUMNS = ("case_id", "type", "actor_id", "summary", "data", "created_at")


def _copy_cases(*, batch: Batch, rows: list[CaseRow], return_dates: list[dt.date],
                earlier: dict[str, _Earlier], actor: User | None, now: dt.datetime) -> list[int]:
    """COPY the cases, their contacts and their 导入 timeline entries, with ids reserved up front."""
    table, pk_column = Case._meta.db_table, Case._meta.pk.column
    with connection.cursor() as django_cursor:
        django_cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk_column, len(rows)],
        )
        case_ids = [r[0] for r in django_cursor.fetchall()]
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: left so, every row's checks would queue
        # up and run at COMMIT, on the server alone, after the client is done. Checked immediately they
        # run while the rows stream in, in parallel with building the next rows here.
        django_cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor = django_cursor.cursor  # the psycopg 3 cursor: same connection, same transaction

        bank_id, batch_id = batch.bank_id, batch.pk
        unassigned, not_started = CaseStatus.UNASSIGNED.value, CaseStatus.NOT_STARTED.value
        empty_json = "{}"
        # Values shared by every row go as ready-made text: psycopg would otherwise format the same aware
        # datetime and Decimal again for each of several hundred thousand rows.
        now_text, zero_text = now.isoformat(), str(ZERO)
        # The parser shares one dict between rows with the same extra values: serialise each dict once.
        extra_json: dict[int, str] = {}

        def case_rows() -> Iterator[tuple[object, ...]]:
            for case_id, row, return_date in zip(case_ids, rows, return_dates, strict=True):
                source = earlier.get(row.case_no) if earlier else None
                collector_id = source.collector_id if source else None
                yield (
                    case_id, bank_id, batch_id, row.case_no, row.debtor_name, row.id_number, row.product_type,
                    row.card_no, row.mobile, row.home_address, row.employer, row.work_address, row.region, row.note,
                    row.entrusted_amount, row.principal, row.interest, row.fees, row.overdue_days,
                    row.commission_rate, zero_text, row.entrusted_amount, row.entrust_date,
                    return_date, return_date, not_started if collector_id else unassigned, now_text,
                    source.owner_clerk_id if source else None, collector_id, now_text if collector_id else None,
                    source.id if source else None, _extra_json(row.extra) if row.extra else empty_json,
                    now_text, now_text,
                )

        def _extra_json(extra: dict[str, str]) -> str:
            text = extra_json.get(id(extra))
            if text is None:
                text = json.dumps(extra, ensure_ascii=False)
                if len(extra_json) < 10_000:
                    extra_json[id(extra)] = text  # the rows keep every dict alive, so ids are not reused
            return text

        _copy(cursor, Case, _CASE_COLUMNS, case_rows())

        source_import = ContactSource.IMPORT.value

        def contact_rows() -> Iterator[tuple[object, ...]]:
            for case_id, row in zip(case_ids, rows, strict=True):
                for c in row.contacts:
                    yield (case_id, c.name, c.relation, c.phone, source_import, now_text)

        _copy(cursor, CaseContact, _CONTACT_COLUMNS, contact_rows())

        summary, data = _imported_summary(batch)
        actor_id = actor.pk if actor is not None else None
        event = (CaseEventType.IMPORTED.value, actor_id, summary, json.dumps(data), now_text)
        _copy(cursor, CaseEvent, _EVENT_COLUMNS, ((case_id, *event) for case_id in case_ids))
        django_cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's default for the transaction
    return case_ids


def _copy(cursor: object, model: type[models.Model], columns: Sequence[str],
          rows: Iterable[tuple[object, ...]]) -> None:
    """COPY `rows` (tuples in `columns` order, by attname) into `model`'s table.

    Concrete columns not in `columns` (other than the primary key) are sent with their Python default.
    """
    fields = {f.attname: f for f in model._meta.concrete_fields}
    missing = [f for name, f in fields.items() if name not in columns and not f.primary_key]
    tail = tuple(_default_for_copy(f) for f in missing)
    names = [fields[name].column for name in columns] + [f.column for f in missing]
    sql = (f"COPY {connection.ops.quote_name(model._meta.db_table)} "
           f"({', '.join(connection.ops.quote_name(n) for n in names)}) FROM STDIN")
    with cursor.copy(sql) as copy:  # type: ignore[attr-defined]
        write = copy.write_row
        if tail:
            for row in rows:
                write(row + tail)
        else:
            for row in rows:
                write(row)


def _default_for_copy(field: models.Field) -> object:  # type: ignore[type-arg]
    value = field.get_default()
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, models.Choices):
        return value.value
    auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    if value is None and not field.null and auto:
        return timezone.now()
    return value


def _write_continuation_history(*, batch: Batch, rows: list[CaseRow], case_ids: list[int],
                                earlier: dict[str, _Earlier], superseded: set[int], actor: User | None) -> None:
    previous_cases = Case.objects.select_related("batch").in_bulk([e.id for e in earlier.values()])
    for case_id, row in zip(case_ids, rows, strict=True):
        source = earlier.get(row.case_no)
        if source is None:
            continue
        previous = previous_cases[source.id]
        if source.id in superseded:
            history.case_superseded(case=previous, successor_batch=batch, actor=actor)
        history.case_continued(case=Case(pk=case_id, bank_id=batch.bank_id, batch=batch), previous=previous,
                               actor=actor)


def _chunks(items: list[int] | list[str], size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
