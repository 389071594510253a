"""Writes of the import mappings: receive a bank's file, save a mapping version, import a file through it.

The import itself is `cases.actions.batches.batch_import_stream` (the standard import's all-or-nothing
persistence, COPY on PostgreSQL) fed by `MappedCaseStream`; this module adds the choice of mapping, the layout
check and the record of which version read which batch, in the same transaction. Must not import views.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases.actions.batches import batch_import_file, batch_import_stream
from cases.actions.repayments import FileConfirmResult, repayment_file_confirm
from cases.exceptions import ImportRejectedError
from cases.imports.repayments import RepaymentParseResult
from cases.imports.rows import RowError
from cases.models import Bank, Batch
from cases.uploads import storage
from mappings.exceptions import (
    BankFileUnreadableError,
    LayoutChangedError,
    MappingInvalidError,
    UploadAlreadyImportedError,
)
from mappings.imports.cases import MappedCaseStream
from mappings.imports.headers import HeaderInfo, compare_layout, detect_header
from mappings.imports.reading import OpenedSheet, UnreadableFile, open_sheet, sniff
from mappings.imports.repayments import parse_mapped_repayments
from mappings.imports.spec import MappingSpec
from mappings.models import BankFileUpload, ImportMapping, MappingVersion, UploadStatus
from mappings.selectors import is_standard_layout, mapping_known_headers, standard_spec

logger = logging.getLogger(__name__)


def upload_receive(*, bank: Bank, kind: str, file: BinaryIO, filename: str, by: User) -> BankFileUpload:
    """Keep an uploaded bank file (private storage, by its SHA-256) for mapping and import.

    Emits: nothing.
    Raises: BankFileUnreadableError (too large, or not a spreadsheet at all).
    """
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    data = file.read(limit + 1)
    if len(data) > limit:
        raise BankFileUnreadableError(f"文件超过 {limit // (1024 * 1024)} MB 的上传上限，请拆分后导入")
    try:
        # Refuse what is no spreadsheet before keeping it; the sheet itself is read when the file is reviewed.
        sniff(data, max_rows=settings.IMPORT_MAX_ROWS, max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES)
    except UnreadableFile as error:
        raise BankFileUnreadableError(str(error)) from error
    sha256 = hashlib.sha256(data).hexdigest()
    name = f"bank-files/{sha256}"
    if not storage().exists(name):
        name = storage().save(name, ContentFile(data))
    return BankFileUpload.objects.create(bank=bank, kind=kind, filename=filename[:255] or "银行文件", sha256=sha256,
                                         stored_name=name, size=len(data), uploaded_by=by)


def read_sheet(data: bytes) -> OpenedSheet:
    try:
        return open_sheet(data, max_rows=settings.IMPORT_MAX_ROWS,
                          max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES)
    except UnreadableFile as error:
        raise BankFileUnreadableError(str(error)) from error


def upload_bytes(upload: BankFileUpload) -> bytes:
    with storage().open(upload.stored_name, "rb") as fh:
        data: bytes = fh.read()
    return data


@dataclass
class ReadFile:
    """An uploaded file opened, with its header found."""

    sheet: OpenedSheet
    header: HeaderInfo


def upload_open(upload: BankFileUpload, data: bytes | None = None) -> ReadFile:
    """The stored file's sheet and header (the bank's earlier headers help find the header row).

    Raises: BankFileUnreadableError.
    """
    sheet = read_sheet(upload_bytes(upload) if data is None else data)
    known = mapping_known_headers(bank=upload.bank, kind=upload.kind)
    header = detect_header(sheet.head, sheet.merges, kind=upload.kind, known=dict.fromkeys(known))
    if header is None:
        raise BankFileUnreadableError("在文件的前 30 行中找不到表头（至少两列有列名的一行）")
    return ReadFile(sheet=sheet, header=header)


@transaction.atomic
def mapping_save(*, bank: Bank, kind: str, spec: MappingSpec, headers: list[str], header_rows: int, by: User,
                 mapping: ImportMapping | None = None, name: str = "", note: str = "") -> MappingVersion:
    """Save `spec` as a new version of `mapping`, or as the first version of a new mapping called `name`.

    Emits: nothing.
    Raises: MappingInvalidError (a required field unmapped, a duplicate name, ...).
    """
    problems = spec.problems()
    name = name.strip()
    if mapping is None and not name:
        problems.append("请填写映射名称")
    if problems:
        raise MappingInvalidError(problems)
    if mapping is None:
        try:
            with transaction.atomic():
                mapping = ImportMapping.objects.create(bank=bank, kind=kind, name=name[:64], created_by=by)
        except IntegrityError as error:
            raise MappingInvalidError([f"{bank.name}已有名为“{name}”的映射，请换一个名称或保存为它的新版本"]) from error
    else:
        mapping = ImportMapping.objects.select_for_update().get(pk=mapping.pk)
    number = (mapping.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = MappingVersion.objects.create(mapping=mapping, number=number, headers=[h for h in headers if h],
                                            header_rows=header_rows, spec=spec.to_json(), note=note[:200],
                                            created_by=by)
    audit_record(actor=by, action=AuditAction.IMPORT, object_type="import_mapping", object_id=version.pk,
                 summary=f"保存{bank.name}导入映射“{mapping.name}”第 {number} 版（{len(spec.columns)} 列）",
                 detail={"bank": bank.code, "mapping": mapping.name, "version": number, "kind": kind})
    return version


def upload_import_cases(*, upload: BankFileUpload, version: MappingVersion | None, by: User,
                        answers: Mapping[str, str] | None = None) -> Batch:
    """Import an uploaded case file as one batch, through `version` (None: the standard template), all or
    nothing; the upload then records the batch and the version.

    Emits: nothing.
    Raises: LayoutChangedError (the file's header is no longer the mapping's), ImportRejectedError (every
        problem, named by the bank's rows and columns), BatchAlreadyImportedError, BankFileUnreadableError,
        UploadAlreadyImportedError.
    """
    if upload.status == UploadStatus.IMPORTED:
        raise UploadAlreadyImportedError(upload.filename)
    data = upload_bytes(upload)
    read = upload_open(upload, data)
    if version is None:
        if not is_standard_layout(read.header.labels):
            raise ImportRejectedError([RowError(read.header.row + 1, "", "文件的表头不是标准模板，请选择或建立映射")])
        if read.sheet.fmt == "xlsx":
            # The standard template's own reader: the very same import as the 批次导入 page.
            del read
            standard = io.BytesIO(data)
            del data
            return _imported(upload, None, by, lambda: batch_import_file(
                bank=upload.bank, uploaded_by=by, file=standard, filename=upload.filename))
        spec = standard_spec(read.header.labels)
    else:
        diff = compare_layout(version.headers, read.header.labels)
        if not diff.same:
            raise LayoutChangedError(version.label, diff.missing, diff.added)
        spec = MappingSpec.from_json(version.spec)
    del data
    stream = MappedCaseStream(read.sheet, read.header, spec, answers=answers or {},
                              max_rows=settings.IMPORT_MAX_ROWS)
    return _imported(upload, version, by, lambda: batch_import_stream(
        bank=upload.bank, uploaded_by=by, stream=stream, filename=upload.filename, source_sha256=upload.sha256))


def _imported(upload: BankFileUpload, version: MappingVersion | None, by: User, run: Callable[[], Batch]) -> Batch:
    with transaction.atomic():
        locked = BankFileUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status == UploadStatus.IMPORTED:
            raise UploadAlreadyImportedError(upload.filename)
        batch = run()
        locked.status, locked.batch, locked.version = UploadStatus.IMPORTED, batch, version
        locked.imported_at = timezone.now()
        locked.result = f"批次 {batch.batch_no}：{batch.case_count} 件，委案总金额 {batch.total_amount:,.2f} 元"
        locked.save(update_fields=["status", "batch", "version", "imported_at", "result"])
        upload.status, upload.batch, upload.version, upload.imported_at = (locked.status, batch, version,
                                                                            locked.imported_at)
    logger.info("bank file %s imported as batch %s through %s", upload.pk, batch.batch_no,
                version.label if version else "the standard template")
    return batch



def upload_read_repayments(*, upload: BankFileUpload, version: MappingVersion,
                           limit: int | None = None) -> RepaymentParseResult:
    """The repayment rows of an uploaded repayment file read through `version`.

    Raises: LayoutChangedError, BankFileUnreadableError.
    """
    read = upload_open(upload)
    diff = compare_layout(version.headers, read.header.labels)
    if not diff.same:
        raise LayoutChangedError(version.label, diff.missing, diff.added)
    return parse_mapped_repayments(read.sheet, read.header, MappingSpec.from_json(version.spec),
                                   today=timezone.localdate(), limit=limit)


@transaction.atomic
def upload_confirm_repayments(*, upload: BankFileUpload, version: MappingVersion, by: User,
                              conflicts_seen: bool = False) -> FileConfirmResult:
    """Record every new repayment of an uploaded repayment file, re-read from the stored file through `version`
    (the standard repayment file's confirm: reconciled again under the bank's lock, never recorded twice, conflicts
    never recorded and acknowledged first: `conflicts_seen`); the upload then records the version.

    Emits: CaseBalanceChanged per case (through repayment_file_confirm).
    Raises: RepaymentError (conflicts not acknowledged, nothing new to record), LayoutChangedError,
    BankFileUnreadableError.
    """
    parsed = upload_read_repayments(upload=upload, version=version)
    result = repayment_file_confirm(bank=upload.bank, sha256=upload.sha256, filename=upload.filename,
                                    rows=parsed.rows, by=by, conflicts_seen=conflicts_seen)
    summary = f"登记 {result.recorded} 笔回款，合计 {result.total:,.2f} 元"
    if result.skipped:
        summary += f"；{result.skipped} 行未登记（已登记、冲突、未匹配或有问题）"
    if result.conflicts:
        summary += f"；其中 {result.conflicts} 行与已登记的回款冲突"
    if result.missing:
        summary += f"；{result.missing} 笔系统已登记的回款不在文件中"
    BankFileUpload.objects.filter(pk=upload.pk).update(status=UploadStatus.IMPORTED, version=version,
                                                       imported_at=timezone.now(), result=summary)
    return result
