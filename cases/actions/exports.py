"""Exports (C12 report tables, M4, M5): spreadsheets written with openpyxl's write-only mode, every cell through
cases.documents.workbook.safe_cell (formula neutralisation), every export audited.
Must not import views or consumers.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from functools import partial
from typing import IO
from xml.sax.saxutils import escape

from django.utils import timezone
from openpyxl import Workbook

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import uploads
from cases.documents.bundle import MANIFEST, Member, _Sink, file_chunks, stream_zip
from cases.documents.workbook import safe_cell
from cases.enums import CaseStatus, FileKind, ProductType
from cases.masking import masker_for
from cases.models import Case, StoredFile
from cases.selectors.cases import CaseFilters, case_list
from cases.selectors.exports import (
    CaseIds,
    export_calls,
    export_case_ids,
    export_complaints,
    export_contacts,
    export_events,
    export_files,
    export_repayments,
    export_visits,
)
from cases.selectors.reports import ReportTable
from cases.selectors.work import _FOLDER, _safe


def report_export(*, table: ReportTable, by: User, detail: dict[str, str]) -> bytes:
    """The report table as .xlsx (header, rows, total), audited.

    Emits: nothing. Raises: nothing.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=table.title[:31])
    ws.append([safe_cell(h) for h in table.headers])
    for row in table.rows:
        ws.append([safe_cell(v) for v in row])
    if table.total is not None:
        ws.append([safe_cell(v) for v in table.total])
    out = io.BytesIO()
    wb.save(out)
    audit_record(actor=by, action=AuditAction.EXPORT, object_type="report", summary=f"导出报表《{table.title}》"[:500],
                 detail={**detail, "rows": len(table.rows)})
    return out.getvalue()


CASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case_no", "案件编号"), ("debtor_name", "客户姓名"), ("id_number", "证件号码"), ("bank__name", "银行"),
    ("batch__batch_no", "批次"), ("product_type", "产品类型"), ("card_no", "卡号"), ("mobile", "手机号码"),
    ("entrusted_amount", "委案金额"), ("repaid_amount", "已还金额"), ("balance", "余额"),
    ("commission_rate", "佣金比例"), ("entrust_date", "委案日期"), ("return_date", "退案日期"),
    ("status", "状态"), ("collector__full_name", "催收业务员"), ("owner_clerk__full_name", "负责内勤"),
    ("region", "地区"), ("home_address", "家庭地址"), ("employer", "单位名称"), ("note", "备注"),
)


def cases_export(*, user: User, filters: CaseFilters, out: IO[bytes]) -> int:
    """M4: every case `user` sees matching `filters` as one .xlsx written into `out`; returns the row count."""
    counter = [0]
    for chunk in cases_export_stream(user=user, filters=filters, counter=counter):
        out.write(chunk)
    return counter[0]


def _filters_detail(filters: CaseFilters) -> dict[str, str]:
    return {k: str(v) for k, v in asdict(filters).items() if v}


def cases_export_stream(*, user: User, filters: CaseFilters, counter: list[int] | None = None) -> Iterator[bytes]:
    """M4: the .xlsx of every case `user` sees matching `filters`, as a stream of bytes (constant memory).

    Rows come from a server-side cursor in chunks and go straight into the zip stream, so nothing grows with
    the number of cases. Audited when the stream starts.
    Emits: nothing. Raises: nothing.
    """
    audit_record(actor=user, action=AuditAction.EXPORT, object_type="cases", summary="导出全部委案（Excel）",
                 detail={"filters": _filters_detail(filters)})
    yield from stream_xlsx(sheet="委案", header=[label for _, label in CASE_COLUMNS],
                           rows=_case_lines(user=user, filters=filters, counter=counter))


def _case_lines(*, user: User, filters: CaseFilters, counter: list[int] | None = None) -> Iterator[list[object]]:
    """The rows of the cases sheet (CASE_COLUMNS), read through a server-side cursor in the list's order."""
    labels = {"status": dict(CaseStatus.choices), "product_type": dict(ProductType.choices)}
    mask = masker_for(user)
    masked = {"id_number": mask.id_number, "card_no": mask.card_no, "mobile": mask.phone}
    names = [name for name, _ in CASE_COLUMNS]
    rows = case_list(user=user, filters=filters).values_list(*names)
    for values in rows.iterator(chunk_size=2000):
        if counter is not None:
            counter[0] += 1
        yield [labels[n].get(v, v) if n in labels else masked[n](v or "") if n in masked else v
               for n, v in zip(names, values, strict=True)]


# --- A minimal streaming .xlsx writer -------------------------------------------------------------------
# openpyxl spends ~50 µs per cell; an export of 200,000 cases × 21 columns took minutes. The sheet XML is
# simple enough to write directly: inline strings and numbers, deflated into a zip as it is produced.

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}


def _cell(value: object) -> str:
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, int | float | Decimal):
        return f"<c><v>{value}</v></c>"
    if isinstance(value, dt.date):
        value = f"{value:%Y-%m-%d}"
    text = _ILLEGAL_XML.sub("", str(safe_cell(str(value))))
    return f'<c t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def stream_xlsx(*, sheet: str, header: list[str], rows: Iterable[list[object]]) -> Iterator[bytes]:
    """One worksheet as .xlsx bytes, produced piecewise; every text cell goes through safe_cell."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for name, xml in _PARTS.items():
            zf.writestr(name, xml)
        zf.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{escape(sheet[:31])}" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        if out := sink.take():
            yield out
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=dt.datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, mode="w", force_zip64=True) as dest:
            dest.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                       b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            dest.write(("<row>" + "".join(_cell(h) for h in header) + "</row>").encode())
            buffer: list[str] = []
            for row in rows:
                buffer.append("<row>" + "".join(_cell(v) for v in row) + "</row>")
                if len(buffer) >= 500:
                    dest.write("".join(buffer).encode())
                    buffer.clear()
                    if out := sink.take():
                        yield out
            dest.write(("".join(buffer) + "</sheetData></worksheet>").encode())
        if out := sink.take():
            yield out
    if out := sink.take():
        yield out


# --- M5: all business data as one zip ---------------------------------------------------------------------
# Sheets (one .xlsx each, written by stream_xlsx) and the cases' files in per-case folders
# (案件/<银行>/<批次号>/<案件编号>/外访照片/…), all produced while the response is sent: rows come through
# server-side cursors, each stored file is read in 256 kB pieces, and bundle.stream_zip empties its buffer
# after every piece. What grows with the export is zipfile's list of entries for the central directory (a few
# hundred bytes per file), which the zip format needs at its end.

def _local(value: dt.datetime | None) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value is not None else ""


def _name(user: User | None) -> str:
    return user.display_name if user is not None else ""


def case_folder(case: Case) -> str:
    """案件/<银行>/<批次号>/<案件编号>: a bank's case number can come back in a later batch (C9 continuations)."""
    return f"案件/{_safe(case.bank.name)}/{_safe(case.batch.batch_no)}/{_safe(case.case_no)}"


_VISIT_LABELS: dict[str, str] = {FileKind.PHOTO: "照片", FileKind.VISIT_FORM_PDF: "签字外访记录表",
                                 FileKind.RECORDING: "外访录音"}


def file_arcname(stored: StoredFile) -> str:
    """Where a stored file sits in the zip; its id in the name keeps every name unique and reproducible, so
    the work-record sheets can point at the files without a second pass."""
    folder = "录音" if stored.kind == FileKind.RECORDING else _FOLDER.get(stored.kind, "附件")
    ext = (stored.file.name or "").rpartition(".")[2]
    visit = stored.visit if stored.visit_id else None
    if visit is not None:
        label = f"{visit.visited_on:%Y-%m-%d}_外访_{_safe(visit.address)[:30]}_{_VISIT_LABELS.get(stored.kind, '附件')}"
    else:
        stem = stored.original_name.rpartition(".")[0] or stored.original_name
        label = f"{timezone.localtime(stored.created_at):%Y-%m-%d_%H%M}_{_safe(stem)[:40]}"
    if stored.case is None:
        raise ValueError(f"stored file {stored.pk} belongs to no case and has no folder in a case zip")
    return f"{case_folder(stored.case)}/{folder}/{label}_{stored.pk}.{ext}"


@dataclass(frozen=True)
class _Sheet:
    filename: str
    header: list[str]
    rows: Callable[[], Iterable[list[object]]]  # run only when the sheet is written


def _case_head(case: Case | None) -> list[object]:
    if case is None:  # an unmatched call has no case (the export lists only cases', but the field allows it)
        return ["", "", ""]
    return [case.case_no, case.bank.name, case.debtor_name]


def _business_sheets(*, user: User, filters: CaseFilters, case_ids: CaseIds,
                     counts: dict[str, int]) -> list[_Sheet]:
    show = masker_for(user).phone
    head = ["案件编号", "银行", "客户姓名"]

    def counted(name: str, rows: Iterable[list[object]]) -> Iterator[list[object]]:
        counts[name] = 0
        for row in rows:
            counts[name] += 1
            yield row

    def counted_sheet(sheet: _Sheet) -> Iterator[list[object]]:
        return counted(sheet.filename, sheet.rows())

    def contacts() -> Iterator[list[object]]:
        for c in export_contacts(case_ids=case_ids).iterator(chunk_size=2000):
            yield [*_case_head(c.case), c.relation, c.name, show(c.phone), c.get_source_display()]

    def calls() -> Iterator[list[object]]:
        for c in export_calls(case_ids=case_ids).iterator(chunk_size=2000):
            rec = c.recording
            recording = (file_arcname(rec) if rec is not None and rec.case_id == c.case_id and not rec.is_deleted
                         and rec.file.name else "")
            if rec is not None and recording:
                rec.case = c.case  # the same case: its bank and batch are already loaded
            yield [*_case_head(c.case), _local(c.started_at), c.get_direction_display(),
                   c.contact.relation if c.contact else "", show(c.number), c.get_result_display(), c.promise_date,
                   c.promise_amount, c.duration_s, c.get_source_display(), _name(c.collector), c.note, recording]

    def visits() -> Iterator[list[object]]:
        for v in export_visits(case_ids=case_ids).iterator(chunk_size=500):
            # live_files is a Prefetch(to_attr=...) list, which django-stubs cannot see on the model.
            for f in v.live_files:  # type: ignore[attr-defined]
                f.case, f.visit = v.case, v
            names = "\n".join(file_arcname(f) for f in v.live_files)  # type: ignore[attr-defined]
            yield [*_case_head(v.case), v.visited_on, _name(v.collector), _name(v.entered_by), v.address,
                   v.met_person, v.get_result_display(), v.promise_date, v.promise_amount, v.note, names]

    def repayments() -> Iterator[list[object]]:
        for r in export_repayments(case_ids=case_ids).iterator(chunk_size=2000):
            yield [*_case_head(r.case), r.case.batch.batch_no, r.pk, r.get_kind_display(), r.amount,
                   r.commission_rate, r.commission, r.repaid_on, r.bank_ref, r.note, r.reverses_id or "",
                   _name(r.recorded_by), _local(r.created_at)]

    def complaints() -> Iterator[list[object]]:
        for c in export_complaints(case_ids=case_ids).iterator(chunk_size=2000):
            yield [*_case_head(c.case), _local(c.created_at), c.get_reason_display(), c.content,
                   _name(c.collector), _name(c.recorded_by)]

    def events() -> Iterator[list[object]]:
        for e in export_events(case_ids=case_ids):
            yield [*_case_head(e.case), _local(e.created_at), e.get_type_display(), e.summary,
                   _name(e.actor) if e.actor_id else "系统"]

    sheets = [
        _Sheet("委案.xlsx", [label for _, label in CASE_COLUMNS], lambda: _case_lines(user=user, filters=filters)),
        _Sheet("联系人.xlsx", [*head, "关系", "姓名", "电话", "来源"], contacts),
        _Sheet("电话记录.xlsx", [*head, "时间", "方向", "对象", "号码", "结果", "承诺日期", "承诺金额", "时长（秒）",
                             "来源", "业务员", "备注", "录音文件"], calls),
        _Sheet("外访记录.xlsx", [*head, "外访日期", "外访人员", "录入人", "地址", "见到何人", "结果", "承诺日期",
                             "承诺金额", "情况说明", "文件"], visits),
        _Sheet("回款.xlsx", [*head, "批次", "回款编号", "类型", "金额", "佣金比例", "佣金", "还款日期", "银行流水号",
                           "备注", "冲正的回款编号", "登记人", "登记时间"], repayments),
        _Sheet("投诉.xlsx", [*head, "记录时间", "投诉原因", "投诉内容", "被投诉业务员", "记录人"], complaints),
        _Sheet("时间线.xlsx", [*head, "时间", "类型", "内容", "操作人"], events),
    ]
    return [_Sheet(s.filename, s.header, partial(counted_sheet, s)) for s in sheets]


def _sheet_bytes(sheet: _Sheet) -> Iterator[bytes]:
    return stream_xlsx(sheet=sheet.filename.removesuffix(".xlsx"), header=sheet.header, rows=sheet.rows())


def business_data_export_stream(*, user: User, filters: CaseFilters,
                                opener: Callable[[str], IO[bytes]] = uploads.open_stored,
                                exists: Callable[[str], bool] | None = None,
                                counts: dict[str, int] | None = None) -> Iterator[bytes]:
    """M5: every case `user` sees matching `filters`, with its work records, repayments, complaints and files,
    as one zip streamed with constant memory (see the section comment). Audited when the stream starts.

    Files missing from storage are left out and listed in 导出说明.txt at the end, so one lost file does not
    break an export of thousands.
    Emits: nothing. Raises: nothing.
    """
    counts = {} if counts is None else counts
    exists = exists or uploads.storage().exists
    case_ids = export_case_ids(user=user, filters=filters)
    audit_record(actor=user, action=AuditAction.EXPORT, object_type="business_data",
                 summary="导出全部业务数据（委案、工作记录、回款、投诉、照片、外访记录表、录音）",
                 detail={"filters": _filters_detail(filters)})
    now = timezone.localtime()
    missing: list[str] = []
    mismatched: list[str] = []  # filled by stream_zip while the files are written, before the note is

    def members() -> Iterator[Member]:
        for sheet in _business_sheets(user=user, filters=filters, case_ids=case_ids, counts=counts):
            yield Member(sheet.filename, 0, now, partial(_sheet_bytes, sheet))
        counts["files"] = 0
        for stored in export_files(case_ids=case_ids).iterator(chunk_size=2000):
            arcname = file_arcname(stored)
            name = stored.file.name or ""
            if not exists(name):
                missing.append(arcname)
                continue
            counts["files"] += 1
            yield Member(arcname, stored.size, timezone.localtime(stored.created_at),
                         file_chunks(partial(opener, name)), sha256=stored.sha256)
        lines = [f"导出时间：{now:%Y-%m-%d %H:%M}", f"导出人：{user.display_name}",
                 *(f"{name}：{n} 行" for name, n in counts.items() if name.endswith(".xlsx")),
                 f"文件：{counts['files']} 个",
                 f"校验：{MANIFEST} 列出每个文件的 SHA-256（文件为存入时记录的值），可用 sha256sum -c {MANIFEST} 核对"]
        if missing:
            lines += [f"存储中缺失、未能导出的文件 {len(missing)} 个：", *missing]
        if mismatched:
            lines += [f"内容与存入时记录的 SHA-256 不符的文件 {len(mismatched)} 个：", *mismatched]
        note = ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")
        yield Member("导出说明.txt", len(note), now, lambda: [note])

    yield from stream_zip(members(), mismatches=mismatched)
