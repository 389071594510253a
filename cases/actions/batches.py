"""Batch import (C1, C2, C9): persist parsed rows of one bank's file as one batch, all or nothing.

Parsing is `cases.imports.excel` (pure); this module owns the database side: the duplicate-batch and
continuation checks, the writes and the timeline. The file is read a chunk of rows at a time and each chunk is
stored while the next one is parsed, all inside one transaction: on any problem reading goes on (so the clerk
gets every problem of the file), nothing more is sent, and the transaction is rolled back.

On PostgreSQL the rows go in with COPY (Django's bulk_create spends most of its time building SQL and is
several times slower for 100k rows), from a worker thread sharing the request's connection: the server checks
foreign keys and updates a dozen indexes per case, and does so for one chunk while Python parses and encodes
the next (psycopg releases the GIL while it waits for the server; the worker itself only sends bytes, so the
server never waits for Python). On SQLite bulk_create in chunks, inline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import queue
import re
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import BinaryIO, Protocol, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from psycopg.copy import Copy, FileWriter
from psycopg.types.json import Jsonb

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import history
from cases.enums import OPEN_STATUSES, CaseStatus, ContactSource, ProductType
from cases.exceptions import BatchAlreadyImportedError, ImportRejectedError
from cases.imports.excel import CaseRowStream, add_one_month
from cases.imports.rows import CaseRow, RowError
from cases.models import Bank, Batch, Case, CaseContact
from cases.validators import id_check_digit

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
_LOOKUP_CHUNK = 5000
_SQLITE_CHUNK = 2000
# Rows per chunk of the streamed import: small enough that the server starts early and the chunks in flight
# stay a few MB, large enough that the per-statement costs (COPY set-up, the continuation lookup) vanish.
_CHUNK = 4000
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
    del data  # the reader holds the only reference and drops it once calamine has the file (20 MB for 100k rows)
    stream = CaseRowStream(upload)
    del upload
    return batch_import_stream(bank=bank, uploaded_by=uploaded_by, stream=stream, filename=filename,
                               source_sha256=source_sha256)


class CaseRowSource(Protocol):
    """What `batch_import_stream` reads: CaseRowStream for the standard template, or a bank's own layout read
    through an import mapping (mappings app), which yields the same CaseRows."""

    @property
    def errors(self) -> list[RowError]: ...
    @property
    def batch_no(self) -> str: ...
    @property
    def sheet_rows(self) -> int: ...
    # A generator: batch_import_stream closes it, so a reader stopped half-way releases its file at once.
    def chunks(self, size: int = ...) -> Generator[list[CaseRow], None, None]: ...


def batch_import_stream(*, bank: Bank, uploaded_by: User | None, stream: CaseRowSource, filename: str,
                        source_sha256: str) -> ImportOutcome:
    """Import the rows of `stream` as one batch of `bank`, all or nothing; returns the Batch.

    Emits: nothing.
    Raises: ImportRejectedError (with every row error), BatchAlreadyImportedError.
    """
    with closing(stream.chunks(_CHUNK)) as chunks:
        # The first chunk is read before the database is touched; when the file has a problem early on, this
        # reads the whole file (nothing is yielded after a problem), so the error list is complete.
        first = next(chunks, None)
        # The duplicate batch is the first thing a clerk needs to know, even when the file has other problems.
        if stream.batch_no and Batch.objects.filter(bank=bank, batch_no=stream.batch_no).exists():
            raise BatchAlreadyImportedError(bank.name, stream.batch_no)
        if first is None:
            raise ImportRejectedError(stream.errors or [RowError(0, "", "文件中没有数据行")])
        return _import_chunks(bank=bank, uploaded_by=uploaded_by, filename=filename, source_sha256=source_sha256,
                              first=first, rest=chunks, problems=stream.errors, expected_rows=stream.sheet_rows)


class _ReadOnce:
    """A file that hands out its bytes once and forgets them: the reader then decides when they are freed."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int = -1) -> bytes:
        data, self._data = self._data, b""
        return data


def batch_import(*, bank: Bank, uploaded_by: User | None, filename: str, rows: list[CaseRow],
                 source_sha256: str = "") -> Batch:
    """Create the batch, its cases and contacts; close cases the bank retained anew (C9).

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
    chunks = (rows[start:start + _CHUNK] for start in range(0, len(rows), _CHUNK))
    return _import_chunks(bank=bank, uploaded_by=uploaded_by, filename=filename, source_sha256=source_sha256,
                          first=next(chunks), rest=chunks, problems=[], expected_rows=len(rows))


@transaction.atomic
def _import_chunks(*, bank: Bank, uploaded_by: User | None, filename: str, source_sha256: str,
                   first: list[CaseRow], rest: Iterator[list[CaseRow]], problems: list[RowError],
                   expected_rows: int) -> Batch:
    """Store `first` and then every chunk of `rest` as one batch; roll everything back if `problems` (the
    reader's list, which grows while `rest` is read) or the continuation check finds anything.
    `expected_rows`: at least the number of rows to come (case ids are reserved for that many at once)."""
    head = first[0]
    batch_no = head.batch_no
    # Serialise imports of one bank: the duplicate-batch check and the continuation lookups below must not
    # race another import of the same bank.
    Bank.objects.select_for_update().filter(pk=bank.pk).values_list("pk", flat=True).first()
    if Batch.objects.filter(bank=bank, batch_no=batch_no).exists():
        raise BatchAlreadyImportedError(bank.name, batch_no)
    try:
        with transaction.atomic():
            # Counts, total and date range are known only at the end; set then, in this transaction.
            batch = Batch.objects.create(
                bank=bank, batch_no=batch_no, product_type=head.product_type, imported_by=uploaded_by,
                entrust_date=head.entrust_date, return_date=head.entrust_date,
                source_filename=filename[:255], source_sha256=source_sha256,
            )
    except IntegrityError as error:  # another import of the same batch committed first
        raise BatchAlreadyImportedError(bank.name, batch_no) from error

    postgres = connection.vendor == "postgresql"
    writer = _CaseWriter(batch=batch, actor=uploaded_by, now=timezone.now(),
                         encoder=_CopyEncoder(expected_rows) if postgres else None)
    if postgres:
        with connection.cursor() as cursor:
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: left so, every row's checks would queue
            # up and run at COMMIT, on the server alone, after the client is done. Checked immediately they run
            # at the end of each chunk's COPY, while the next chunk is parsed.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with _Pipeline(writer.prepare, writer.write, threaded=postgres) as pipeline:
        pipeline.send(first)
        del first
        for chunk in rest:
            pipeline.send(chunk)
    if problems:
        raise ImportRejectedError(list(problems))
    if writer.errors:
        raise ImportRejectedError(writer.errors)
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's default for the transaction

    batch.product_type = writer.product_types.pop() if len(writer.product_types) == 1 else ProductType.OTHER
    assert writer.entrust_date is not None and writer.return_date is not None  # `first` was stored
    batch.entrust_date, batch.return_date = writer.entrust_date, writer.return_date
    batch.case_count, batch.total_amount = writer.case_count, writer.total_amount
    batch.continuation_count = len(writer.continuations)
    batch.save(update_fields=["product_type", "entrust_date", "return_date", "case_count", "total_amount",
                              "continuation_count"])
    if writer.continuations:
        _write_continuation_history(batch=batch, continuations=writer.continuations,
                                    superseded=writer.superseded, actor=uploaded_by)
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


@dataclass(slots=True)
class _Chunk:
    """Rows of the file on their way to the database; on PostgreSQL with their case ids and their COPY data,
    made in the parsing thread on the assumption that no row continues an earlier case (C9)."""

    rows: list[CaseRow]
    case_ids: list[int] = field(default_factory=list)
    cases_copy: bytes = b""
    contacts_copy: bytes = b""


class _CaseWriter:
    """Stores chunks of rows of one batch and keeps the batch's figures.

    `prepare` runs in the parsing thread; `write` in the pipeline's worker thread. On PostgreSQL `prepare`
    encodes the chunk's COPY data, so the worker only sends bytes and the server never waits for Python; a
    chunk with continuations is encoded again by `write` once the earlier cases are known.
    """

    def __init__(self, *, batch: Batch, actor: User | None, now: dt.datetime,
                 encoder: _CopyEncoder | None) -> None:
        self.batch, self.actor, self.now, self.encoder = batch, actor, now, encoder
        self.errors: list[RowError] = []
        self.case_count = 0
        self.total_amount = ZERO
        self.entrust_date: dt.date | None = None
        self.return_date: dt.date | None = None
        self.product_types: set[str] = set()
        self.continuations: list[tuple[int, _Earlier]] = []  # (new case id, the case it continues)
        self.superseded: set[int] = set()

    def prepare(self, rows: list[CaseRow]) -> _Chunk:
        if self.encoder is None:
            return _Chunk(rows)
        ids = self.encoder.take_ids(len(rows))
        return _Chunk(rows, ids, *self.encoder.encode(batch=self.batch, rows=rows, case_ids=ids, earlier={},
                                                     now=self.now))

    def write(self, chunk: _Chunk) -> None:
        batch, rows = self.batch, chunk.rows
        earlier = _earlier_cases(bank_id=batch.bank_id, case_nos=[r.case_no for r in rows])
        self.errors.extend(
            RowError(r.row_number, "证件号码",
                     f"案件编号“{r.case_no}”在批次 {earlier[r.case_no].batch_no} 中属于另一位客户（证件号码不同），"
                     "不能作为续案导入，请核对")
            for r in rows
            if r.case_no in earlier and not _same_person(earlier[r.case_no].id_number, r.id_number)
        )
        if self.errors:
            return  # nothing more is stored; later chunks are still checked, so the list is complete
        return_dates = [_return_date(r, r.case_no in earlier) for r in rows]
        self.case_count += len(rows)
        self.total_amount += sum((r.entrusted_amount for r in rows), ZERO)
        entrust, back = min(r.entrust_date for r in rows), max(return_dates)
        self.entrust_date = entrust if self.entrust_date is None else min(self.entrust_date, entrust)
        self.return_date = back if self.return_date is None else max(self.return_date, back)
        self.product_types.update(r.product_type for r in rows)

        # C9: the partial unique constraint on open case numbers requires the earlier case closed first.
        superseded = [e.id for e in earlier.values() if e.status in OPEN_STATUSES]
        if superseded:
            Case.objects.filter(pk__in=superseded).update(status=CaseStatus.RETURNED, status_changed_at=self.now,
                                                          updated_at=self.now)
            self.superseded.update(superseded)
        if self.encoder is None:
            case_ids = _bulk_create_cases(batch=batch, rows=rows, return_dates=return_dates, earlier=earlier,
                                          now=self.now)
        else:
            case_ids = chunk.case_ids
            cases_copy, contacts_copy = chunk.cases_copy, chunk.contacts_copy
            if earlier:
                cases_copy, contacts_copy = self.encoder.encode(batch=batch, rows=rows, case_ids=case_ids,
                                                                earlier=earlier, now=self.now)
            _send_copy(self.encoder.layouts[Case], cases_copy)
            _send_copy(self.encoder.layouts[CaseContact], contacts_copy)
        if earlier:
            self.continuations.extend((case_id, earlier[row.case_no])
                                      for case_id, row in zip(case_ids, rows, strict=True) if row.case_no in earlier)


class _Pipeline:
    """Hands chunks, once `prepare`d in the caller's thread, to `write`: in a worker thread when `threaded`, so
    the caller parses the next chunk while the database stores this one; inline otherwise.

    The worker uses the caller's database connection (Django's thread sharing) and therefore its transaction;
    the caller must not use the database between entering and leaving. Leaving waits for the worker. The
    worker's first failure is raised in the caller: at the next `send`, or on leaving.
    """

    def __init__(self, prepare: Callable[[list[CaseRow]], _Chunk], write: Callable[[_Chunk], None], *,
                 threaded: bool) -> None:
        self._prepare, self._write = prepare, write
        self._threaded = threaded
        self._failure: BaseException | None = None
        # Two chunks waiting at most: memory stays bounded when the database is the slower side.
        self._queue: queue.Queue[_Chunk | None] = queue.Queue(maxsize=2)
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Pipeline:
        if self._threaded:
            shared = connections[DEFAULT_DB_ALIAS]
            shared.inc_thread_sharing()
            self._thread = threading.Thread(target=self._run, args=(shared,), name="batch-import", daemon=True)
            self._thread.start()
        return self

    def send(self, chunk: list[CaseRow]) -> None:
        if self._failure is not None:
            raise self._failure
        prepared = self._prepare(chunk)
        if self._thread is None:
            self._write(prepared)
        else:
            self._queue.put(prepared)

    def _run(self, shared: BaseDatabaseWrapper) -> None:
        connections[DEFAULT_DB_ALIAS] = shared
        try:
            while (chunk := self._queue.get()) is not None:
                if self._failure is not None:
                    continue  # drain, so the caller never blocks on a full queue
                try:
                    self._write(chunk)
                except BaseException as error:  # handed to the caller's thread and raised there
                    self._failure = error
        finally:
            del connections[DEFAULT_DB_ALIAS]

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._thread is not None:
            self._queue.put(None)  # the end
            self._thread.join()
            connections[DEFAULT_DB_ALIAS].dec_thread_sharing()
        if exc is None and self._failure is not None:
            raise self._failure


# --- database checks ---------------------------------------------------------------------------------------


def _earlier_cases(*, bank_id: int, case_nos: Sequence[str]) -> dict[str, _Earlier]:
    """For each case number already used by `bank`, its latest case (the head of the continuation chain)."""
    found: dict[str, _Earlier] = {}
    for chunk in _chunks(list(case_nos), _LOOKUP_CHUNK):
        rows = (Case.objects.filter(bank_id=bank_id, case_no__in=chunk).order_by("id")
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


def _bulk_create_cases(*, batch: Batch, rows: list[CaseRow], return_dates: list[dt.date],
                       earlier: dict[str, _Earlier], now: dt.datetime) -> list[int]:
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
_COPY_COLUMNS: dict[type[models.Model], tuple[str, ...]] = {Case: _CASE_COLUMNS, CaseContact: _CONTACT_COLUMNS}


class _CopyEncoder:
    """Turns chunks of rows into COPY data in PostgreSQL's binary format without talking to the server.

    psycopg's Copy with a FileWriter formats the rows into a buffer; its cursor never executes anything, so the
    parsing thread can encode the next chunk while the worker's COPY of this one holds the connection. The
    bytes then go to the server in one piece (`_send_copy`). Case ids are reserved up front for
    `expected_rows` (a gap in the sequence is all that is left of unused ones).

    Binary rather than text: the server then parses no numbers, dates and timestamps (100k cases into a table
    without indexes or triggers: 0.4 s of backend CPU instead of 0.7-0.9 s). JSON columns take `Jsonb`.
    """

    def __init__(self, expected_rows: int) -> None:
        self.layouts = {model: _copy_layout(model) for model in _COPY_COLUMNS}  # worked out once per import
        self._ids: list[int] = []
        self._reserve(expected_rows)
        self._extra_json: dict[int, tuple[dict[str, str], Jsonb]] = {}

    def _reserve(self, count: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [Case._meta.db_table, Case._meta.pk.column, count])
            self._ids.extend(r[0] for r in cursor.fetchall())
        self._ids.reverse()  # handed out from the end, in ascending order

    def take_ids(self, count: int) -> list[int]:
        if len(self._ids) < count:
            # More rows than announced: the connection's lock makes this wait for a COPY in flight.
            self._ids.reverse()
            self._reserve(count - len(self._ids) + _CHUNK)
        taken = self._ids[-count:]
        del self._ids[-count:]
        taken.reverse()
        return taken

    def encode(self, *, batch: Batch, rows: list[CaseRow], case_ids: list[int], earlier: dict[str, _Earlier],
               now: dt.datetime) -> tuple[bytes, bytes]:
        """The COPY data of the chunk's cases and of their contacts."""
        bank_id, batch_id = batch.bank_id, batch.pk
        unassigned, not_started = CaseStatus.UNASSIGNED.value, CaseStatus.NOT_STARTED.value
        empty_json = _jsonb("{}")

        def case_rows() -> Iterator[tuple[object, ...]]:
            for case_id, row in zip(case_ids, rows, strict=True):
                source = earlier.get(row.case_no) if earlier else None
                return_date = _return_date(row, source is not None)
                collector_id = source.collector_id if source else None
                yield (
                    case_id, bank_id, batch_id, row.case_no, row.debtor_name, row.id_number, row.product_type,
                    row.card_no, row.mobile, row.home_address, row.employer, row.work_address, row.region, row.note,
                    row.entrusted_amount, row.principal, row.interest, row.fees, row.overdue_days,
                    row.commission_rate, ZERO, row.entrusted_amount, row.entrust_date,
                    return_date, return_date, not_started if collector_id else unassigned, now,
                    source.owner_clerk_id if source else None, collector_id, now if collector_id else None,
                    source.id if source else None, self._extra(row.extra) if row.extra else empty_json,
                    now, now,
                )

        source_import = ContactSource.IMPORT.value

        def contact_rows() -> Iterator[tuple[object, ...]]:
            for case_id, row in zip(case_ids, rows, strict=True):
                for c in row.contacts:
                    yield (case_id, c.name, c.relation, c.phone, source_import, now)

        return self._encode(Case, case_rows()), self._encode(CaseContact, contact_rows())

    def _extra(self, extra: dict[str, str]) -> Jsonb:
        # The parser shares one dict between rows with the same extra values: serialise each dict once. The
        # cache keeps each dict alive beside its text, so no other dict can come to have its id.
        hit = self._extra_json.get(id(extra))
        if hit is not None:
            return hit[1]
        value = _jsonb(json.dumps(extra, ensure_ascii=False))
        if len(self._extra_json) < 10_000:
            self._extra_json[id(extra)] = (extra, value)
        return value

    def _encode(self, model: type[models.Model], rows: Iterable[tuple[object, ...]]) -> bytes:
        layout = self.layouts[model]
        buffer = io.BytesIO()
        # A cursor of psycopg's own for its adapters only, one per encoding: the parsing thread and (for a chunk
        # with continuations) the worker encode at the same time, and a cursor's type set-up is its own.
        cursor = connection.connection.cursor()
        with Copy(cursor, binary=True, writer=FileWriter(buffer)) as copy:
            copy.set_types(layout.types)
            write, tail = copy.write_row, layout.tail
            if tail:
                for row in rows:
                    write(row + tail)
            else:
                for row in rows:
                    write(row)
        return buffer.getvalue()


@dataclass(frozen=True)
class _CopyLayout:
    sql: str
    types: list[str]
    tail: tuple[object, ...]


def _column(field: models.Field[object, object]) -> str:
    # Concrete fields always have a column; only virtual ones (a GenericForeignKey) have none.
    if field.column is None:
        raise TypeError(f"{field} has no database column")
    return field.column


def _db_type(field: models.Field[object, object]) -> str:
    kind = field.db_type(connection)
    if kind is None:
        raise TypeError(f"{field} has no database type")
    return kind


def _copy_layout(model: type[models.Model]) -> _CopyLayout:
    """The COPY statement, column types and trailing defaults of `model`: the columns the import sets (by
    attname, in `_COPY_COLUMNS` order), then every other concrete column but the key with its Python default,
    so COPY keeps working when the models grow."""
    columns = _COPY_COLUMNS[model]
    fields = {f.attname: f for f in model._meta.concrete_fields}
    missing = [f for name, f in fields.items() if name not in columns and not f.primary_key]
    sent = [fields[name] for name in columns] + missing
    return _CopyLayout(
        sql=(f"COPY {connection.ops.quote_name(model._meta.db_table)} "
             f"({', '.join(connection.ops.quote_name(_column(f)) for f in sent)}) FROM STDIN (FORMAT BINARY)"),
        # The column's type without its modifiers (varchar(64) → varchar, numeric(14, 2) → numeric).
        types=[_TYPE_MODIFIERS.sub("", _db_type(f)).strip() for f in sent],
        tail=tuple(_default_for_copy(f) for f in missing),
    )


def _send_copy(layout: _CopyLayout, data: bytes) -> None:
    """COPY `data` (a whole binary COPY stream from `_CopyEncoder`) into the table of `layout`."""
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg 3 cursor: same connection, same transaction
        with cursor.copy(layout.sql) as copy:
            copy.write(data)  # signature, rows and trailer: psycopg adds nothing in block mode


_TYPE_MODIFIERS = re.compile(r"\(.*\)")


def _jsonb(text: str) -> Jsonb:
    """A JSON value already serialised: COPY sends `text` as is."""
    return Jsonb(text, dumps=_as_is)


def _as_is(text: str) -> str:
    return text


def _default_for_copy(field: models.Field[object, object]) -> object:
    value = field.get_default()
    if isinstance(field, models.JSONField):
        return _jsonb(json.dumps(value, ensure_ascii=False))
    if isinstance(value, models.Choices):
        return value.value
    auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    if value is None and not field.null and auto:
        return timezone.now()
    return value


def _write_continuation_history(*, batch: Batch, continuations: list[tuple[int, _Earlier]], superseded: set[int],
                                actor: User | None) -> None:
    previous_cases = Case.objects.select_related("batch").in_bulk([source.id for _, source in continuations])
    for case_id, source in continuations:
        previous = previous_cases[source.id]
        if source.id in superseded:
            history.case_superseded(case=previous, successor_batch=batch, actor=actor)
        history.case_continued(case=Case(pk=case_id, bank_id=batch.bank_id, batch=batch), previous=previous,
                               actor=actor)


_T = TypeVar("_T")


def _chunks(items: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
