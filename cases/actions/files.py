"""Stored files of a case: upload (checked by content), deletion (C15), and the audited full download (C14).

Must not import views or `realtime.consumers`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.actions import JsonValue, audit_record
from accounts.models import AuditAction, AuditEntry, User
from cases import history, rollups, uploads
from cases.actions.work import uncount_work
from cases.exceptions import AlreadyDeletedError, DeleteReasonRequiredError
from cases.models import CallRecord, Case, StoredFile, VisitRecord
from cases.models.files import stored_file_path
from cases.uploads import FileType, StoredNames, Upload

if TYPE_CHECKING:
    from django.http import HttpRequest


def store_checked(*, case: Case | None, kind: str, upload: Upload, found: FileType, by: User | None,
                  guard: StoredNames, visit: VisitRecord | None = None) -> StoredFile:
    """Stream an already-checked upload into storage and write its row (no history: callers decide)."""
    row = StoredFile(case=case, visit=visit, kind=kind, original_name=(upload.name or "未命名文件")[:255],
                     content_type=found.mime, type_label=found.label, size=0, sha256="", uploaded_by=by)
    stored = uploads.store(upload, name=stored_file_path(row, f"x{found.ext}"))
    guard.add(stored.name)
    row.file.name = stored.name
    row.size, row.sha256 = stored.size, stored.sha256
    row.save()
    return row


@transaction.atomic
def file_upload(*, case: Case, kind: str, upload: Upload, by: User) -> StoredFile:
    """Check `upload` by content and size for `kind`, store it with its SHA-256, note it on the timeline.

    Emits: nothing.
    Raises: UploadRejectedError (nothing is stored).
    """
    found = uploads.check_upload(upload, kind=kind)
    with StoredNames() as guard:
        stored = store_checked(case=case, kind=kind, upload=upload, found=found, by=by, guard=guard)
        history.file_uploaded(stored=stored, actor=by)
    return stored


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise DeleteReasonRequiredError()
    return reason[:500]


def _remove_bytes(stored: StoredFile, *, by: User, reason: str, now: dt.datetime) -> str:
    """Mark `stored` deleted and remove its bytes once the deletion is committed. Returns the old name."""
    name = stored.file.name or ""
    stored.deleted_at, stored.deleted_by, stored.delete_reason = now, by, reason
    stored.file.name = ""
    stored.save(update_fields=["deleted_at", "deleted_by", "delete_reason", "file"])
    # After commit: a rolled-back deletion must still find its file.
    transaction.on_commit(lambda: uploads.delete_stored(name))
    return name


@transaction.atomic
def file_delete(*, stored: StoredFile, by: User, reason: str, request: HttpRequest | None = None) -> StoredFile:
    """C15: delete an uploaded file's bytes; the row stays as the marker the timeline and audit point to.

    Emits: nothing.
    Raises: DeleteReasonRequiredError, AlreadyDeletedError.
    """
    reason = _reason(reason)
    stored = StoredFile.objects.select_for_update().get(pk=stored.pk)
    if stored.is_deleted:
        raise AlreadyDeletedError(f"文件《{stored.original_name}》")
    name = _remove_bytes(stored, by=by, reason=reason, now=timezone.now())
    what = f"{stored.get_kind_display()}《{stored.original_name}》"
    if stored.case is not None:
        history.work_deleted(case=stored.case, actor=by, what=what, reason=reason,
                             data={"file_id": stored.pk})
    audit_record(actor=by, action=AuditAction.DELETE, summary=f"删除{what}：{reason}", object_type="StoredFile",
                 object_id=stored.pk, request=request,
                 detail={"case_id": stored.case_id, "original_name": stored.original_name, "sha256": stored.sha256,
                         "size": stored.size, "storage_name": name, "reason": reason})
    return stored


@transaction.atomic
def work_record_delete(*, record: CallRecord | VisitRecord, by: User, reason: str,
                       request: HttpRequest | None = None) -> CallRecord | VisitRecord:
    """C15: delete a call or visit record (hidden everywhere) together with its files' bytes; the record leaves
    its day's dashboard counters.

    Emits: DashboardCounterChanged (the record's counters taken back).
    Raises: DeleteReasonRequiredError, AlreadyDeletedError.
    """
    reason = _reason(reason)
    model = type(record)
    record = model.objects.select_for_update().get(pk=record.pk)
    label = "电话记录" if isinstance(record, CallRecord) else "外访记录"
    if record.is_deleted:
        raise AlreadyDeletedError(label)
    now = timezone.now()
    record.deleted_at, record.deleted_by, record.delete_reason = now, by, reason
    record.save(update_fields=["deleted_at", "deleted_by", "delete_reason"])
    rollups.mark(worked_case_ids=[record.case_id])
    uncount_work(record=record)
    if isinstance(record, CallRecord):
        when = timezone.localtime(record.started_at)
        what = f"{label}（{when:%Y-%m-%d %H:%M} {record.get_result_display() or record.get_direction_display()}）"
        files = [record.recording] if record.recording_id and record.recording else []
    else:
        what = f"{label}（{record.visited_on:%Y-%m-%d} {record.get_result_display()}）"
        files = list(record.files.all())
    removed: list[dict[str, JsonValue]] = [
        {"file_id": f.pk, "sha256": f.sha256, "storage_name": _remove_bytes(f, by=by, reason=reason, now=now)}
        for f in files if not f.is_deleted]
    if removed:
        what += f"及 {len(removed)} 个文件"
    if record.case is not None:
        history.work_deleted(case=record.case, actor=by, what=what, reason=reason,
                             data={f"{model.__name__.lower()}_id": record.pk})
    audit_record(actor=by, action=AuditAction.DELETE, summary=f"删除{what}：{reason}", object_type=model.__name__,
                 object_id=record.pk, request=request,
                 detail={"case_id": record.case_id, "reason": reason, "files": removed})
    return record


@transaction.atomic
def case_bundle_download(*, case: Case, by: User, file_count: int, request: HttpRequest | None = None) -> None:
    """C14/P12/M3: record that `by` downloaded everything of `case` (audit log and timeline).

    Emits: nothing.
    Raises: nothing.
    """
    history.case_downloaded(case=case, actor=by, file_count=file_count)
    audit_record(actor=by, action=AuditAction.DOWNLOAD,
                 summary=f"下载委案 {case.case_no} {case.debtor_name} 的全部资料", object_type="Case",
                 object_id=case.pk, request=request, detail={"file_count": file_count})


def _view_session(session_key: str | None) -> str:
    """A stable, non-secret name of a login session (the key itself never goes into the log)."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:16] if session_key else ""


@transaction.atomic
def case_file_access(*, stored: StoredFile, by: User, download: bool, session_key: str | None,
                     how: str = "", request: HttpRequest | None = None) -> bool:
    """Record an access to a customer file (PIPL): once per user, file, login session and kind (viewed in the
    page, or downloaded), whatever the request looks like: a plain GET, the many Range requests of a player
    seeking in a recording, a picture shown inline in the chat, an unmatched recording played. Returns
    whether an entry was written (False: this session's access was already recorded).

    Emits: nothing.
    Raises: nothing.
    """
    view_session = _view_session(session_key)
    action = AuditAction.DOWNLOAD if download else AuditAction.VIEW_SENSITIVE
    # The file's row is locked while looking: two Range requests of one player arriving together write once.
    StoredFile.objects.select_for_update().filter(pk=stored.pk).first()
    seen = AuditEntry.objects.filter(object_type="StoredFile", object_id=str(stored.pk), actor=by, action=action,
                                     detail__view_session=view_session)
    if view_session and seen.exists():
        return False
    if download:
        what = "下载录音" if stored.is_audio else "下载文件"
    else:
        what = "播放录音" if stored.is_audio else "查看文件"
    audit_record(actor=by, action=action, summary=f"{what}《{stored.original_name}》", object_type="StoredFile",
                 object_id=stored.pk, request=request,
                 detail={"case_id": stored.case_id, "sha256": stored.sha256, "kind": stored.kind, "how": how,
                         "view_session": view_session})
    return True


def case_file_download(*, stored: StoredFile, by: User, request: HttpRequest | None = None) -> None:
    """Record one download of a case file in the audit log (PIPL), every time (callers without a session).

    Emits: nothing.
    Raises: nothing.
    """
    audit_record(actor=by, action=AuditAction.DOWNLOAD, summary=f"下载文件《{stored.original_name}》",
                 object_type="StoredFile", object_id=stored.pk, request=request,
                 detail={"case_id": stored.case_id, "sha256": stored.sha256})
