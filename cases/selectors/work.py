"""Reads of case work: calls, visits, files, complaints, bank templates, and the full-download manifest.

Must not import views, forms or `realtime`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import sees_all_cases
from cases.enums import CallDirection, FileKind
from cases.masking import Masker
from cases.models import (
    Bank,
    BankTemplate,
    CallRecord,
    Case,
    CaseEvent,
    ClerkBankScope,
    Complaint,
    StoredFile,
    VisitRecord,
)
from cases.selectors.cases import case_imported_event


def call_list(*, case: Case) -> QuerySet[CallRecord]:
    """The case's calls (not deleted), newest first, with their contact, collector and recording."""
    return (CallRecord.objects.filter(case=case, deleted_at=None)
            .select_related("collector", "contact", "recording").order_by("-started_at", "-id"))


def visit_list(*, case: Case) -> QuerySet[VisitRecord]:
    """The case's visits (not deleted), newest first, each with its live files."""
    live_files = StoredFile.objects.filter(deleted_at=None).order_by("kind", "id")
    return (VisitRecord.objects.filter(case=case, deleted_at=None)
            .select_related("collector", "entered_by")
            .prefetch_related(Prefetch("files", queryset=live_files, to_attr="live_files"))
            .order_by("-visited_on", "-id"))


def case_file_list(*, case: Case) -> QuerySet[StoredFile]:
    """Files uploaded on the case outside a visit or a call (attachments), not deleted."""
    call_recordings = CallRecord.objects.filter(case=case, recording__isnull=False).values("recording_id")
    return (StoredFile.objects.filter(case=case, visit=None, deleted_at=None)
            .exclude(pk__in=call_recordings)
            .select_related("uploaded_by").order_by("-created_at", "-id"))


def case_file_hash_list(*, case: Case) -> QuerySet[StoredFile]:
    """Every live file of the case (recordings, visit photos and forms, attachments) with the SHA-256 taken when it
    was stored, oldest first: what a downloaded file is checked against to prove it unchanged."""
    return (StoredFile.objects.filter(case=case, deleted_at=None).exclude(file="")
            .select_related("uploaded_by").order_by("created_at", "id"))


def complaint_list_for_case(*, case: Case) -> QuerySet[Complaint]:
    return case.complaints.select_related("collector", "recorded_by").order_by("-created_at", "-id")


def stored_file_get(*, case: Case, file_id: int) -> StoredFile | None:
    """A live file of `case` (None if missing, deleted, or of another case)."""
    return StoredFile.objects.filter(case=case, pk=file_id, deleted_at=None).exclude(file="").first()


def visit_get(*, case: Case, visit_id: int) -> VisitRecord | None:
    return VisitRecord.objects.filter(case=case, pk=visit_id).first()


def call_get(*, case: Case, call_id: int) -> CallRecord | None:
    return CallRecord.objects.filter(case=case, pk=call_id).first()


def visitor_choices(*, case: Case, user: User) -> QuerySet[User]:
    """Who may be named as having made a visit: the entering collector and every active field collector."""
    return (User.objects.filter(is_active=True)
            .filter(Q(pk=user.pk) | Q(is_field_collector=True) | Q(pk=case.collector_id))
            .order_by("-is_field_collector", "full_name", "username"))


# ---------------------------------------------------------------------------------------------------------
# Complaints list (C13)

@dataclass(frozen=True, kw_only=True)
class ComplaintFilters:
    bank_id: int | None = None
    collector_id: int | None = None
    reason: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def complaint_list(*, user: User, filters: ComplaintFilters) -> QuerySet[Complaint]:
    """Complaints `user` may see (all for managers/admins, their banks' for clerks), filtered, newest first."""
    qs = Complaint.objects.select_related("case", "case__bank", "collector", "recorded_by")
    if not sees_all_cases(user):
        if not user.is_clerk:
            return qs.none()
        qs = qs.filter(case__bank_id__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id"))
    if filters.bank_id is not None:
        qs = qs.filter(case__bank_id=filters.bank_id)
    if filters.collector_id is not None:
        qs = qs.filter(collector_id=filters.collector_id)
    if filters.reason:
        qs = qs.filter(reason=filters.reason)
    tz = timezone.get_current_timezone()
    if filters.date_from is not None:
        qs = qs.filter(created_at__gte=dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=tz))
    if filters.date_to is not None:
        qs = qs.filter(created_at__lt=dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min,
                                                           tzinfo=tz))
    return qs.order_by("-created_at", "-id")


def complaint_collector_choices() -> QuerySet[User]:
    return User.objects.collectors().order_by("full_name", "username")


# ---------------------------------------------------------------------------------------------------------
# Bank templates (P11)

def bank_template_banks_for(user: User) -> QuerySet[Bank]:
    """Banks whose templates `user` sees: all (managers/admins), scoped (clerks), of their cases (collectors)."""
    if not user.is_authenticated or not user.is_active:
        return Bank.objects.none()
    if sees_all_cases(user):
        return Bank.objects.all()
    scope = Q(pk__in=[])
    if user.is_clerk:
        scope |= Q(pk__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id"))
    if user.is_collector:
        scope |= Q(pk__in=Case.objects.filter(collector=user).values("bank_id"))
    return Bank.objects.filter(scope)


def bank_template_list_for(*, user: User) -> QuerySet[BankTemplate]:
    return (BankTemplate.objects.filter(bank__in=bank_template_banks_for(user))
            .select_related("bank", "uploaded_by").order_by("bank__code", "title", "-created_at"))


def bank_template_get_for(*, user: User, template_id: int) -> BankTemplate | None:
    return bank_template_list_for(user=user).filter(pk=template_id).first()


def bank_upload_choices_for(user: User) -> QuerySet[Bank]:
    """Banks a clerk may upload templates for (C7)."""
    if not (user.is_authenticated and user.is_active and user.is_clerk):
        return Bank.objects.none()
    return Bank.objects.filter(pk__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id")).order_by("code")


# ---------------------------------------------------------------------------------------------------------
# The full download (C14, P12, M3)

@dataclass(frozen=True)
class BundleFile:
    arcname: str  # the path inside the zip, in Chinese
    storage_name: str
    size: int
    modified: dt.datetime  # local time, for the zip entry
    sha256: str = ""  # recorded when the file was stored: goes into the zip's manifest


@dataclass(frozen=True)
class CallRow:
    started_at: dt.datetime  # local
    direction: str
    number: str
    relation: str
    result: str
    promise_date: dt.date | None
    promise_amount: object
    duration_s: int | None
    source: str
    collector: str
    note: str
    recording: str  # its name inside the zip, or ""


@dataclass(frozen=True)
class VisitRow:
    visited_on: dt.date
    collector: str
    entered_by: str
    address: str
    met_person: str
    result: str
    promise_date: dt.date | None
    promise_amount: object
    note: str
    files: str


@dataclass(frozen=True)
class EventRow:
    created_at: dt.datetime  # local
    type: str
    summary: str
    actor: str


@dataclass(frozen=True)
class CaseBundle:
    case: Case
    files: list[BundleFile]
    calls: list[CallRow]
    visits: list[VisitRow]
    events: list[EventRow]
    mask: Masker  # the downloader's masking rule (cases.masking), for the numbers in the workbook and names


_FOLDER: dict[str, str] = {FileKind.RECORDING: "录音", FileKind.PHOTO: "外访照片",
                           FileKind.VISIT_FORM_PDF: "外访记录表", FileKind.ATTACHMENT: "附件",
                           FileKind.DOCUMENT: "附件"}


def _safe(text: str) -> str:
    """A path segment safe on Windows and in zips: no separators or reserved characters."""
    cleaned = "".join("_" if ch in '\\/:*?"<>|' or ord(ch) < 32 else ch for ch in text).strip(" .")
    return cleaned[:80] or "_"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        taken.add(name)
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 2
    while f"{stem}_{n}{dot}{ext}" in taken:
        n += 1
    unique = f"{stem}_{n}{dot}{ext}"
    taken.add(unique)
    return unique


def case_bundle(*, case: Case, mask: Masker) -> CaseBundle:
    """Everything the full download of `case` holds, queried up front (the zip then only streams bytes).

    Names: 录音/2026-11-29_1030_呼出_138****5678.wav, 外访照片/2026-11-28_沈阳市…_1.jpg, 外访记录表/…pdf,
    附件/<original name>. Numbers follow the downloader's masking rule, as on the case page.
    """
    show = mask.phone
    taken: set[str] = set()
    files: list[BundleFile] = []
    recording_names: dict[int, str] = {}
    calls: list[CallRow] = []
    for call in call_list(case=case):
        local = timezone.localtime(call.started_at)
        rec_name = ""
        rec = call.recording
        if rec is not None and not rec.is_deleted and rec.file.name:
            direction = "呼出" if call.direction == CallDirection.OUTBOUND else "呼入"
            ext = rec.file.name.rpartition(".")[2]
            # "*" is not allowed in Windows file names: masked digits become "x" (138xxxx5678).
            number = _safe(show(call.number).replace("*", "x"))
            rec_name = _unique(f"录音/{local:%Y-%m-%d_%H%M}_{direction}_{number}.{ext}", taken)
            recording_names[rec.pk] = rec_name
            files.append(BundleFile(rec_name, rec.file.name, rec.size, timezone.localtime(rec.created_at),
                                    rec.sha256))
        calls.append(CallRow(
            started_at=local, direction=call.get_direction_display(), number=show(call.number),
            relation=call.contact.relation if call.contact else "", result=call.get_result_display(),
            promise_date=call.promise_date, promise_amount=call.promise_amount, duration_s=call.duration_s,
            source=call.get_source_display(), collector=call.collector.display_name if call.collector else "",
            note=call.note, recording=rec_name))
    visits: list[VisitRow] = []
    for visit in visit_list(case=case):
        names = []
        for i, f in enumerate(visit.live_files, start=1):  # type: ignore[attr-defined]
            ext = f.file.name.rpartition(".")[2]
            label = {FileKind.PHOTO: f"照片{i}", FileKind.VISIT_FORM_PDF: "签字外访记录表",
                     FileKind.RECORDING: "外访录音"}.get(f.kind, _safe(f.original_name.rpartition(".")[0]))
            folder = "录音" if f.kind == FileKind.RECORDING else _FOLDER.get(f.kind, "附件")
            name = _unique(f"{folder}/{visit.visited_on:%Y-%m-%d}_外访_{_safe(visit.address)[:30]}_{label}.{ext}",
                           taken)
            names.append(name)
            files.append(BundleFile(name, f.file.name, f.size, timezone.localtime(f.created_at), f.sha256))
        visits.append(VisitRow(
            visited_on=visit.visited_on, collector=visit.collector.display_name,
            entered_by=visit.entered_by.display_name, address=visit.address, met_person=visit.met_person,
            result=visit.get_result_display(), promise_date=visit.promise_date, promise_amount=visit.promise_amount,
            note=visit.note, files="\n".join(names)))
    for f in case_file_list(case=case):
        if f.pk in recording_names:
            continue
        local = timezone.localtime(f.created_at)
        ext = f.file.name.rpartition(".")[2]
        stem = _safe(f.original_name.rpartition(".")[0] or f.original_name)
        name = _unique(f"{_FOLDER.get(f.kind, '附件')}/{local:%Y-%m-%d}_{stem}.{ext}", taken)
        files.append(BundleFile(name, f.file.name, f.size, local, f.sha256))
    stored = CaseEvent.objects.filter(case=case).select_related("actor").order_by("created_at", "id")
    events = [EventRow(created_at=timezone.localtime(e.created_at), type=e.get_type_display(), summary=e.summary,
                       actor=e.actor.display_name if e.actor else "系统")
              for e in [case_imported_event(case=case), *stored]]
    return CaseBundle(case=case, files=files, calls=calls, visits=visits, events=events, mask=mask)
