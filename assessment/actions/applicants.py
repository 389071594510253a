"""Applicant intake (form and Excel) and their documents. Must not import views or `realtime`.

Documents are checked by content through `cases.uploads` (the same rules as case attachments: PDF or
JPEG/PNG/HEIC, size limits) and stored privately with their SHA-256; a refused file leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, BinaryIO

from django.db import transaction
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from assessment.exceptions import DuplicateIntakeFileError
from assessment.imports.excel import parse_applicant_workbook
from assessment.imports.rows import ApplicantInput
from assessment.models import Applicant, ApplicantDocument, ApplicantImport
from cases.enums import FileKind
from cases.exceptions import ImportRejectedError
from cases.models import Bank
from cases.uploads import StoredNames, Upload, check_upload, store

if TYPE_CHECKING:
    from django.http import HttpRequest

_FIELDS = ("name", "id_number", "phone", "birth_date", "sex", "employer", "employment_years", "monthly_income",
           "total_debt", "monthly_debt_payment", "loan_amount", "loan_term_months", "purpose", "collateral",
           "overdue_records")


def _values(data: ApplicantInput) -> dict[str, object]:
    return {name: getattr(data, name) for name in _FIELDS}


@transaction.atomic
def applicant_create(*, bank: Bank, data: ApplicantInput, by: User) -> Applicant:
    """Take in one applicant typed in the intake form.

    Emits: nothing. Raises: nothing.
    """
    return Applicant.objects.create(bank=bank, created_by=by, **_values(data))


@transaction.atomic
def applicant_import(*, bank: Bank, rows: list[ApplicantInput], filename: str, sha256: str, by: User,
                     request: HttpRequest | None = None) -> ApplicantImport:
    """Save every row of a checked intake file, all or nothing, and audit the import.

    Emits: nothing. Raises: DuplicateIntakeFileError when the same file was imported for the bank before.
    """
    earlier = ApplicantImport.objects.filter(bank=bank, sha256=sha256).first()
    if earlier is not None:
        raise DuplicateIntakeFileError(earlier.filename, f"{timezone.localtime(earlier.imported_at):%Y-%m-%d %H:%M}")
    intake = ApplicantImport.objects.create(bank=bank, filename=filename[:255], sha256=sha256,
                                            row_count=len(rows), imported_by=by)
    Applicant.objects.bulk_create(
        [Applicant(bank=bank, created_by=by, source="import", intake=intake, **_values(row)) for row in rows],
        batch_size=500,
    )
    audit_record(actor=by, action=AuditAction.IMPORT, object_type="ApplicantImport", object_id=intake.pk,
                 summary=f"导入申请人 {len(rows)} 人（{bank.name}，{filename}）", request=request,
                 detail={"bank": bank.code, "rows": len(rows), "sha256": sha256})
    return intake


def applicant_import_file(*, bank: Bank, file: BinaryIO, filename: str, by: User,
                          request: HttpRequest | None = None) -> ApplicantImport:
    """Parse and import an intake workbook.

    Emits: nothing.
    Raises: ImportRejectedError listing every problem (nothing saved); DuplicateIntakeFileError.
    """
    data = file.read()
    result = parse_applicant_workbook(io.BytesIO(data), today=timezone.localdate())
    if not result.ok:
        raise ImportRejectedError(result.errors)
    return applicant_import(bank=bank, rows=result.rows, filename=filename, sha256=hashlib.sha256(data).hexdigest(),
                            by=by, request=request)


def applicant_document_upload(*, applicant: Applicant, title: str, upload: Upload, by: User) -> ApplicantDocument:
    """Check `upload` by content and store it as a document of `applicant`.

    Emits: nothing. Raises: UploadRejectedError (cases.exceptions) naming the file and the problem.
    """
    found = check_upload(upload, kind=FileKind.ATTACHMENT)
    document = ApplicantDocument(applicant=applicant, title=title[:64] or "申请资料",
                                 original_name=(upload.name or "未命名文件")[:255], content_type=found.mime,
                                 type_label=found.label, size=0, sha256="", uploaded_by=by)
    name = document.file.field.generate_filename(document, f"x{found.ext}")
    with StoredNames() as stored, transaction.atomic():
        saved = store(upload, name=name)
        stored.add(saved.name)
        document.file.name = saved.name
        document.size, document.sha256 = saved.size, saved.sha256
        document.save()
    return document


def applicant_document_download(*, document: ApplicantDocument, by: User,
                                request: HttpRequest | None = None) -> None:
    """Audit the download of an applicant's document (PIPL). Emits: nothing. Raises: nothing."""
    audit_record(actor=by, action=AuditAction.DOWNLOAD, object_type="ApplicantDocument", object_id=document.pk,
                 summary=f"下载申请人 {document.applicant.name} 的资料《{document.title}》", request=request)
