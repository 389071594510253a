"""Read a batch workbook in the standard template into `CaseRow`s and `RowError`s.

Pure: no ORM, no request, no database. Reading is python-calamine (several times faster than openpyxl
read-only); openpyxl is used only to write the template (`cases.imports.template`). The file's content is
sniffed before calamine sees it, so a renamed .xls, an encrypted workbook or a zip bomb is refused with a
clear message instead of a parser error. Must not import cases.models or anything that queries.
"""

from __future__ import annotations

import calendar
import ctypes
import datetime as dt
import gc
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from operator import mul
from typing import BinaryIO, Protocol

from python_calamine import CalamineError, CalamineWorkbook

from cases.enums import ProductType
from cases.imports.rows import CaseRow, ContactRow, ParseResult, RowError
from cases.validators import id_number_error, is_landline, is_mobile, normalize_id_number, normalize_phone

CellValue = int | float | str | bool | dt.date | dt.datetime | dt.time | dt.timedelta

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# DEFLATE cannot exceed about 1032:1; real worksheets compress 5-30:1, highly repetitive ones under 200:1.
MAX_COMPRESSION_RATIO = 400
RATIO_CHECK_MIN_BYTES = 1024 * 1024
# Beyond this many problems the list stops growing: a wholly wrong file would otherwise list a million lines.
MAX_ERRORS = 2000
INSTRUCTIONS_SHEET = "填写说明"


@dataclass(frozen=True)
class Column:
    header: str
    required: bool
    fmt: str  # what the instructions sheet says about the format
    example: str


# The standard template, in its column order. The header text is the contract with the clerks.
COLUMNS: tuple[Column, ...] = (
    Column("批次号", True, "文本；同一文件只能有一个批次号", "ZS2026110001"),
    Column("案件编号", True, "文本；同一银行未结案件中唯一，文件内不可重复", "ZS20261100001"),
    Column("客户姓名", True, "文本", "张三"),
    Column("证件号码", True, "18 位居民身份证号码（末位校验码须正确，X 大小写均可）或 15 位旧号码；请设为文本格式",
           "110101199003070017"),
    Column("委案金额", True, "金额，大于 0，最多 2 位小数，可带千分位逗号", "12,345.67"),
    Column("佣金比例", True, "百分比，如 3.5%；也可写 0.035 或 3.5（大于 1 的数按百分数理解）", "3.5%"),
    Column("委案日期", True, "日期，如 2026-11-01、2026/11/01、2026.11.01、2026年11月1日 或 Excel 日期",
           "2026-11-01"),
    Column("退案日期", True, "日期，格式同委案日期，不得早于委案日期", "2027-02-01"),
    Column("产品类型", False, "信用卡、贷款 或 其他；不填按 其他", "信用卡"),
    Column("卡号", False, "文本，最长 32 位；请设为文本格式", "6225880112345678"),
    Column("手机号码", False, "11 位手机号码（1 开头，第二位 3-9）", "13812345678"),
    Column("其他电话", False, "可填多个，用逗号、分号、顿号或空格分隔；手机或带区号的固定电话",
           "13987654321、024-23801234"),
    Column("家庭地址", False, "文本", "辽宁省沈阳市和平区南京北街 1 号"),
    Column("单位名称", False, "文本", "沈阳某某科技有限公司"),
    Column("单位地址", False, "文本", "辽宁省沈阳市浑南区创新路 100 号"),
    Column("本金", False, "金额，不小于 0，最多 2 位小数", "10,000.00"),
    Column("利息", False, "金额，不小于 0，最多 2 位小数", "2,000.00"),
    Column("费用", False, "金额，不小于 0，最多 2 位小数", "345.67"),
    Column("逾期天数", False, "非负整数", "120"),
    Column("地区", False, "文本，如 沈阳市和平区", "沈阳市和平区"),
    Column("联系人姓名", False, "文本", "李四"),
    Column("联系人关系", False, "文本，如 配偶、父母、同事", "配偶"),
    Column("联系人电话", False, "手机或带区号的固定电话", "13900001111"),
    Column("备注", False, "文本", "银行备注"),
)
HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)
REQUIRED_HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS if c.required)

_PRODUCT_TYPES = {label: value for value, label in ProductType.choices}
_HEADER_BLANKS = re.compile(r"[\s\u3000*＊]+")
_PHONE_SPLIT = re.compile(r"[,，;；、\s\u3000]+")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONEY_PLAIN = re.compile(r"^\d+(\.\d+)?$")
_MONEY_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－／％：　", "0123456789.,-/%: ")
_CENT = Decimal("0.01")
_RATE_PLACES = Decimal("0.000001")
_MAX_MONEY = Decimal("999999999999.99")  # Case money fields: 14 digits, 2 decimals
# Text limits follow the Case/CaseContact columns, so a long value is a row error, not a database error.
_MAX_LEN = {"批次号": 64, "案件编号": 64, "客户姓名": 64, "卡号": 32, "家庭地址": 255, "单位名称": 128,
            "单位地址": 255, "地区": 64, "联系人姓名": 64, "联系人关系": 32}
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MOBILE_FAST = re.compile(r"1[3-9]\d{9}")
# GB 11643 weights and check characters (the same as cases.validators; repeated for the per-row fast path).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


_UNREADABLE = (CalamineError, ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile, KeyError,
               NotImplementedError, RuntimeError, UnicodeError)


class RowProblem(ValueError):
    """A value could not be read; the message is the Chinese reason shown to the clerk."""


def parse_case_workbook(file: BinaryIO, *, max_rows: int | None = None,
                        max_uncompressed_bytes: int | None = None) -> ParseResult:
    """Parse the first data sheet of `file`. Never raises for bad content: problems come back as errors.

    The limits default to settings.IMPORT_MAX_ROWS and settings.IMPORT_MAX_UNCOMPRESSED_BYTES.
    """
    stream = CaseRowStream(file, max_rows=max_rows, max_uncompressed_bytes=max_uncompressed_bytes)
    result = stream.result
    for chunk in stream.chunks():
        result.rows.extend(chunk)
    if result.errors:
        result.rows.clear()
    return result


class Readable(Protocol):
    """All CaseRowStream needs of a file: its bytes, read once."""

    def read(self, size: int = ..., /) -> bytes: ...


class CaseRowStream:
    """`parse_case_workbook` a chunk of rows at a time, so an import can store rows while later ones are read.

    Opening sniffs the file and loads the sheet; `chunks()` then reads the rows. `result` carries everything
    but the rows: the problems found so far, the batch number (from the first data row, valid or not), the
    sheet and its headers. The rows come out in file order, only as long as no problem has been found: a
    consumer that got chunks must still check `result.errors` once `chunks()` is exhausted, and discard
    everything if there are any.
    """

    def __init__(self, file: Readable, *, max_rows: int | None = None,
                 max_uncompressed_bytes: int | None = None) -> None:
        if max_rows is None or max_uncompressed_bytes is None:
            from django.conf import settings

            max_rows = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
            if max_uncompressed_bytes is None:
                max_uncompressed_bytes = settings.IMPORT_MAX_UNCOMPRESSED_BYTES
        self.result = ParseResult()
        self.max_rows = max_rows
        self._rows: Iterable[list[CellValue]] | None = None
        self.sheet_rows = 0  # rows of the sheet, header and blank rows included: at least the rows to come
        data = file.read()
        problem = sniff_xlsx(data, max_uncompressed_bytes=max_uncompressed_bytes, max_rows=max_rows)
        if problem is not None:
            self.result.errors.append(RowError(0, "", problem))
            return
        with _reading(self.result):
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            del data
            sheet_name = _data_sheet_name(workbook)
            sheet = workbook.get_sheet_by_name(sheet_name)
            # The sheet holds its own cells: the workbook's copy of the file (the zip) can go now.
            workbook.close()
            del workbook
            _return_freed_memory()
            # The row iterator keeps the cells alive while it runs and frees them when it is done.
            self._rows = sheet.iter_rows()
            self.result.sheet_name = sheet_name
            self.sheet_rows = sheet.height

    @property
    def errors(self) -> list[RowError]:
        return self.result.errors

    @property
    def batch_no(self) -> str:
        return self.result.batch_no

    def chunks(self, size: int = 5000) -> Generator[list[CaseRow], None, None]:
        """Valid rows, up to `size` at a time; reading goes on to the end of the sheet even after a problem
        (so every problem is listed) but yields nothing more."""
        rows, self._rows = self._rows, None
        if rows is None:
            return
        # The rows hold no reference cycles; without the cyclic collector re-scanning 100k new objects
        # again and again, parsing a large file is noticeably faster.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with _reading(self.result):
                yield from _row_chunks(rows, self.result, max_rows=self.max_rows, size=size)
        finally:
            if collecting:
                gc.enable()


@contextmanager
def _reading(result: ParseResult) -> Iterator[None]:
    """Turns calamine's failures on malformed files into a file-level problem."""
    try:
        yield
    except _UNREADABLE as error:  # calamine's errors for malformed parts of the file
        result.rows.clear()
        result.errors.append(RowError(0, "", f"无法读取工作簿内容，文件可能已损坏（{_short(error)}）"))
    except BaseException as error:
        # A Rust panic inside calamine arrives as pyo3's PanicException, a BaseException: bad input, not a
        # reason to crash the request. Anything else (KeyboardInterrupt, SystemExit, GeneratorExit) goes on.
        if type(error).__name__ != "PanicException":
            raise
        result.rows.clear()
        result.errors.append(RowError(0, "", "无法读取工作簿内容，文件可能已损坏"))


def _return_freed_memory() -> None:
    """Hand the C heap's free pages back to the OS (glibc only): Python's own objects live in separate
    mmap'ed arenas and would never reuse the pages calamine's file buffer left behind."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _short(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text[:120]


# --- content sniffing -----------------------------------------------------------------------------------


def sniff_xlsx(data: bytes, *, max_uncompressed_bytes: int, max_rows: int) -> str | None:
    """None when `data` looks like a genuine, reasonably sized .xlsx; else why it is refused."""
    if not data:
        return "文件是空的"
    if data[:8] == OLE2_MAGIC:
        # An encrypted .xlsx is an OLE2 (CFB) container holding EncryptionInfo + EncryptedPackage streams;
        # a 97-2003 .xls is the same container holding a Workbook (or Book) stream. Directory entry names
        # are UTF-16LE, so a byte search tells them apart without an OLE parser.
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            return "文件已加密（设置了打开密码），请在 Excel 中取消密码后另存为 .xlsx 再上传"
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            return "这是旧版 Excel 97-2003 工作簿（.xls），请在 Excel 中“另存为”Excel 工作簿（.xlsx）后再上传"
        return "这是旧版 Office 文件，不是 Excel 工作簿（.xlsx）"
    if data[:4] != ZIP_MAGIC:
        if _looks_like_text(data[:4096]):
            return "这是文本文件（例如 CSV），不是 Excel 工作簿；请在 Excel 中另存为 .xlsx 后再上传"
        return "文件内容不是 Excel 工作簿（.xlsx），可能只是改了扩展名；请用 Excel 另存为 .xlsx 后再上传"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _UNREADABLE:
        return "文件已损坏，无法作为 .xlsx 打开"
    names = {m.filename for m in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            return "这是 Excel 二进制工作簿（.xlsb），请另存为 Excel 工作簿（.xlsx）后再上传"
        return "文件不是 Excel 工作簿（.xlsx）：缺少 [Content_Types].xml 或 xl/workbook.xml"
    total = sum(m.file_size for m in members)
    if total > max_uncompressed_bytes:
        mb = 1024 * 1024
        return (f"文件解压后大小异常（{total // mb} MB，上限 {max_uncompressed_bytes // mb} MB），"
                "疑似恶意压缩文件，已拒绝")
    for member in members:
        if member.file_size >= RATIO_CHECK_MIN_BYTES and \
                member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1):
            return f"文件压缩比异常（{member.filename}），疑似恶意压缩文件，已拒绝"
    # The <dimension> element at the top of a worksheet states its extent: refuse a huge sheet before
    # calamine loads it into memory. The row count is checked again while streaming.
    for member in members:
        if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
            try:
                with archive.open(member) as part:
                    head = part.read(4096)
            except _UNREADABLE:
                return "文件已损坏，无法作为 .xlsx 打开"
            match = re.search(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
            if match and int(match.group(1)) > max_rows + 1 + 50:
                return _too_many_rows(int(match.group(1)) - 1, max_rows)
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _too_many_rows(count: int, max_rows: int) -> str:
    return f"文件约有 {count} 行数据，超过单次导入上限 {max_rows} 行"


def _data_sheet_name(workbook: CalamineWorkbook) -> str:
    """The first visible worksheet other than the template's instructions sheet."""
    candidates = [m.name for m in workbook.sheets_metadata if m.name != INSTRUCTIONS_SHEET]
    visible = [m.name for m in workbook.sheets_metadata
               if m.name != INSTRUCTIONS_SHEET and str(m.visible).endswith("Visible")]
    names = visible or candidates or list(workbook.sheet_names)
    if not names:
        raise ValueError("工作簿中没有工作表")
    return names[0]


# --- rows ------------------------------------------------------------------------------------------------


def _header_key(value: CellValue) -> str:
    return _HEADER_BLANKS.sub("", _text(value))


def read_header(rows: Iterator[list[CellValue]], errors: list[RowError], *, key: Callable[[CellValue], str],
                required: Iterable[str]) -> tuple[int, dict[str, int], list[str]] | None:
    """The header of a sheet: the first row with any text, read off `rows` (which then stands at the first data
    row). Returns its row number, each header's column (`key` turns a cell into a header name) and the header
    names in column order; or None after adding to `errors` what is wrong: no header at all, a header repeated,
    a required one missing (each named, with the row)."""
    header_row, header = 0, []
    for index, cells in enumerate(rows, start=1):
        if any(key(c) for c in cells):
            header_row, header = index, [key(c) for c in cells]
            break
    if not header:
        errors.append(RowError(0, "", "文件中没有表头，也没有数据"))
        return None
    positions: dict[str, int] = {}
    problems = []
    for pos, name in enumerate(header):
        if not name:
            continue
        if name in positions:
            problems.append(RowError(header_row, name, "表头重复出现，请只保留一列"))
            continue
        positions[name] = pos
    problems += [RowError(header_row, name, f"缺少必填列“{name}”") for name in required if name not in positions]
    if problems:
        errors.extend(problems)
        return None
    return header_row, positions, header


def _row_chunks(rows: Iterable[list[CellValue]], result: ParseResult, *, max_rows: int,
                size: int) -> Iterator[list[CaseRow]]:
    errors = result.errors
    iterator = iter(rows)
    found = read_header(iterator, errors, key=_header_key, required=REQUIRED_HEADERS)
    if found is None:
        return
    header_row_number, positions, header = found
    result.headers = [h for h in header if h]
    result.extra_headers = [h for h in result.headers if h not in HEADERS]
    parser = _RowParser(positions, result.extra_headers)
    batch_pos = positions["批次号"]
    yield from data_chunks(iterator, result, parser=parser, first_row=header_row_number + 1,
                           batch_no_of=lambda cells: _text(cells[batch_pos]) if batch_pos < len(cells) else "",
                           max_rows=max_rows, size=size)


class RowParser(Protocol):
    def parse(self, number: int, cells: list[CellValue]) -> tuple[CaseRow | None, list[RowError]]: ...


def data_chunks(rows: Iterable[list[CellValue]], result: ParseResult, *, parser: RowParser, first_row: int,
                batch_no_of: Callable[[list[CellValue]], str], max_rows: int, size: int,
                batch_column: str = "批次号", case_column: str = "案件编号") -> Iterator[list[CaseRow]]:
    """The data rows after a header: blank rows skipped, each row through `parser`, one batch number and unique
    case numbers across the file (`batch_column`/`case_column` name those columns in the errors), the row cap
    and the error cap. Chunks of valid rows come out only while no problem has been found (see CaseRowStream).
    `first_row` is the sheet row number of the first row of `rows`; `batch_no_of` reads a row's batch number
    before it is parsed, so a duplicate batch can be reported even when the rows have problems."""
    errors = result.errors
    seen_case_nos: dict[str, int] = {}
    data_rows = 0
    chunk: list[CaseRow] = []
    for index, cells in enumerate(rows, start=first_row):
        if not any(c != "" and (not isinstance(c, str) or c.strip()) for c in cells):
            continue  # blank rows are skipped
        data_rows += 1
        if data_rows > max_rows:
            errors.append(RowError(0, "", f"文件的数据超过单次导入上限 {max_rows} 行，请拆分后导入"))
            return
        if len(errors) >= MAX_ERRORS:
            continue  # keep counting rows for the row cap, stop collecting problems
        if not result.batch_no:
            # Known even when the row has other problems: a duplicate batch is reported first.
            result.batch_no = batch_no_of(cells)
        row, row_errors = parser.parse(index, cells)
        if row is not None:
            if row.batch_no != result.batch_no:
                row_errors.append(RowError(index, batch_column,
                                           f"一个文件只能有一个批次号：本行为“{row.batch_no}”，"
                                           f"之前的行为“{result.batch_no}”"))
            first = seen_case_nos.setdefault(row.case_no, index)
            if first != index:
                row_errors.append(RowError(index, case_column, f"案件编号“{row.case_no}”与第 {first} 行重复"))
        if row_errors:
            errors.extend(row_errors)
            chunk = []  # nothing is imported once anything is wrong; free the memory early
        elif row is not None and not errors:
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if len(errors) >= MAX_ERRORS:
        errors.append(RowError(0, "", f"问题超过 {MAX_ERRORS} 处，后面的行未再逐一检查；请先修正以上问题"))
    if data_rows == 0 and not errors:
        errors.append(RowError(0, "", "文件只有表头，没有数据行"))
    if chunk and not errors:
        yield chunk


class _RowParser:
    """Turns one list of cell values into a CaseRow, collecting every problem of the row.

    Built once per file: the plan fixes each column's position and converter, so the per-row loop does
    no lookups by header. Columns whose values repeat from row to row (batch number, dates, rate, product
    type, region...) remember their converted values; a 100k-row file then converts each distinct value
    once.
    """

    def __init__(self, positions: dict[str, int], extra_headers: list[str]) -> None:
        self.plan: list[tuple[int, str, int | None, bool, Callable[[CellValue], object],
                              dict[object, tuple[bool, object]] | None]] = [
            (index, column.header, positions.get(column.header), column.required, _CONVERTERS[column.header],
             {} if column.header in _CACHED_COLUMNS else None)
            for index, column in enumerate(COLUMNS)
        ]
        self.extras = [(h, positions[h]) for h in extra_headers]
        self.extra_cache: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}

    def parse(self, number: int, cells: list[CellValue]) -> tuple[CaseRow | None, list[RowError]]:
        errors: list[RowError] = []
        width = len(cells)
        values: list[object] = [None] * len(COLUMNS)
        for index, header, pos, required, convert, cache in self.plan:
            value = cells[pos] if pos is not None and pos < width else ""
            if type(value) is str:
                value = value.strip()
                if not value:
                    if required:
                        errors.append(RowError(number, header, "必填，不能为空"))
                    continue
            if cache is not None:
                # Text (nearly every cell) keys by itself; 1, 1.0 and True must not share an entry.
                key = value if type(value) is str else (type(value), value)
                hit = cache.get(key)
                if hit is None:
                    try:
                        hit = (True, convert(value))
                    except RowProblem as problem:
                        hit = (False, str(problem))
                    if len(cache) < _CACHE_LIMIT:
                        cache[key] = hit
                if hit[0]:
                    values[index] = hit[1]
                else:
                    errors.append(RowError(number, header, str(hit[1])))
                continue
            try:
                values[index] = convert(value)
            except RowProblem as problem:
                errors.append(RowError(number, header, str(problem)))
        (batch_no, case_no, debtor_name, id_number, amount, rate, entrust, back, product, card_no, mobile, others,
         home, employer, work, principal, interest, fees, overdue, region, contact_name, contact_relation,
         contact_phone, note) = values
        if isinstance(entrust, dt.date) and isinstance(back, dt.date) and back < entrust:
            errors.append(RowError(number, "退案日期", f"退案日期 {back:%Y-%m-%d} 早于委案日期 {entrust:%Y-%m-%d}"))
        if errors:
            return None, errors
        contacts: list[ContactRow] = []
        if mobile:
            contacts.append(ContactRow(name=str(debtor_name), relation="本人", phone=str(mobile)))
        if others:
            assert isinstance(others, list)
            contacts.extend(ContactRow(name=str(debtor_name), relation="本人", phone=phone) for phone in others)
        extra: dict[str, str] = {}
        for header, pos in self.extras:
            if pos < width:
                text = _text(cells[pos])
                if text:
                    extra[header] = text
        if extra:
            # Rows of a big file often share their extra values (账单日 "5日"): share one dict between them.
            extra_key = tuple(extra.items())
            shared = self.extra_cache.get(extra_key)
            if shared is not None:
                extra = shared
            elif len(self.extra_cache) < _CACHE_LIMIT:
                self.extra_cache[extra_key] = extra
        if contact_phone:
            contacts.append(ContactRow(name=str(contact_name or ""), relation=str(contact_relation or ""),
                                       phone=str(contact_phone)))
        else:
            # A contact without a number cannot be called; keep what the bank gave so nothing is lost. A new
            # dict: `extra` may be the one shared with other rows of the same extra values.
            if contact_name or contact_relation:
                extra = dict(extra)
                if contact_name:
                    extra["联系人姓名"] = str(contact_name)
                if contact_relation:
                    extra["联系人关系"] = str(contact_relation)
        row = CaseRow(
            row_number=number, batch_no=str(batch_no), case_no=str(case_no), debtor_name=str(debtor_name),
            id_number=str(id_number), entrusted_amount=_as_decimal(amount), commission_rate=_as_decimal(rate),
            entrust_date=_as_date(entrust), return_date=_as_date(back),
            product_type=str(product) if product else ProductType.OTHER.value,
            card_no=str(card_no or ""), mobile=str(mobile or ""), home_address=str(home or ""),
            employer=str(employer or ""), work_address=str(work or ""), region=str(region or ""),
            note=str(note or ""),
            principal=_as_decimal(principal) if principal is not None else None,
            interest=_as_decimal(interest) if interest is not None else None,
            fees=_as_decimal(fees) if fees is not None else None,
            overdue_days=overdue if isinstance(overdue, int) else None,
            contacts=contacts, extra=extra,
        )
        return row, errors


def _as_decimal(value: object) -> Decimal:
    assert isinstance(value, Decimal)
    return value


def _as_date(value: object) -> dt.date:
    assert isinstance(value, dt.date)
    return value


# --- value parsers (each raises RowProblem with the Chinese reason) -------------------------------------


def _text(value: CellValue) -> str:
    if isinstance(value, str):
        return value.strip()  # str.strip() also removes the ideographic space U+3000
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != dt.time() else f"{value:%Y-%m-%d}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _numeric_text(value: CellValue) -> str:
    return _text(value).translate(_FULLWIDTH).replace(" ", "")


def _id_number(value: CellValue) -> str:
    # Fast path for the usual well-formed 18-character text; anything else takes the explaining path.
    if type(value) is str and len(value) == 18 and value.isascii() and value[:17].isdigit():
        last = value[17].upper()
        if _ID_CHECK[sum(map(mul, map(int, value[:17]), _ID_WEIGHTS)) % 11] == last \
                and "01" <= value[10:12] <= "12" and "01" <= value[12:14] <= "31":
            return value if last == value[17] else value[:17] + last
    if isinstance(value, float | int) and not isinstance(value, bool):
        text = _text(value)
        if len(text) > 15:
            raise RowProblem("证件号码是数字格式，Excel 会截断 15 位以后的数字；请把该列设为文本格式后重新填写")
    number = normalize_id_number(_text(value))
    reason = id_number_error(number)
    if reason is not None:
        raise RowProblem(f"证件号码“{number}”无效：{reason}")
    return number


def _decimal(value: CellValue, what: str) -> Decimal:
    if isinstance(value, bool | dt.date | dt.time | dt.timedelta):
        raise RowProblem(f"{what}应为数字")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        # Excel stores binary floats: 1234.1 + 0.2 may come back as 1234.3000000000002. Up to 9 places of
        # noise is rounding, not a real third decimal.
        if abs(value) >= 1e15 or number == number.to_integral_value():
            return number
        return number.quantize(Decimal("0.000000001")).normalize()
    text = _numeric_text(value).lstrip("¥￥").removesuffix("元")
    if _MONEY_GROUPED.match(text):
        text = text.replace(",", "")
    if not _MONEY_PLAIN.match(text):
        if text.startswith("-") and _MONEY_PLAIN.match(text[1:].replace(",", "")):
            raise RowProblem(f"{what}不能为负数")
        raise RowProblem(f"{what}“{_text(value)}”不是有效的数字")
    try:
        return Decimal(text)
    except InvalidOperation as error:  # pragma: no cover - the regex already guards this
        raise RowProblem(f"{what}“{_text(value)}”不是有效的数字") from error


def _money(value: CellValue) -> Decimal:
    if type(value) is float and 0 <= value < 1e12:
        # Fast path: a float cell with at most 2 decimals (what Excel stores for typed-in money).
        text = repr(value)
        if "e" not in text and len(text) - text.index(".") <= 3:
            return Decimal(text).quantize(_CENT)
    number = _decimal(value, "金额")
    if number < 0:
        raise RowProblem("金额不能为负数")
    if number != number.quantize(_CENT):
        raise RowProblem(f"金额“{_text(value)}”最多保留 2 位小数")
    if number > _MAX_MONEY:
        raise RowProblem(f"金额“{_text(value)}”过大")
    return number.quantize(_CENT)


def _positive_money(value: CellValue) -> Decimal:
    number = _money(value)
    if number <= 0:
        raise RowProblem("委案金额必须大于 0")
    return number


def _commission_rate(value: CellValue) -> Decimal:
    text = _numeric_text(value) if isinstance(value, str) else ""
    if text.endswith("%"):
        number = _decimal(text[:-1], "佣金比例") / 100
    else:
        number = _decimal(value, "佣金比例")
        if number > 1:  # a bare number above 1 is a percent: 3.5 means 3.5%
            number = number / 100
    if number <= 0:
        raise RowProblem("佣金比例必须大于 0")
    if number > 1:
        raise RowProblem(f"佣金比例“{_text(value)}”超过 100%")
    if number != number.quantize(_RATE_PLACES):
        raise RowProblem(f"佣金比例“{_text(value)}”精度过高：最多到 0.0001%")
    return number.quantize(_RATE_PLACES)


def _date(value: CellValue) -> dt.date:
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, float | int) and not isinstance(value, bool):
        day = _date_from_number(value)
    else:
        text = _numeric_text(value)
        match = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
        if not match:
            raise RowProblem(f"日期“{_text(value)}”无法识别，请写成 2026-11-01 这样的格式")
        year, month, day_no = (int(g) for g in match.groups())
        try:
            day = dt.date(year, month, day_no)
        except ValueError as error:
            raise RowProblem(f"日期“{_text(value)}”不存在") from error
    if not 1990 <= day.year <= 2100:
        raise RowProblem(f"日期 {day:%Y-%m-%d} 超出合理范围")
    return day


def _date_from_number(value: float | int) -> dt.date:
    if float(value).is_integer():
        whole = int(value)
        if 19900101 <= whole <= 21001231:  # typed as 20261101
            match = _DATE_COMPACT.match(str(whole))
            if match:
                try:
                    return dt.date(*(int(g) for g in match.groups()))
                except ValueError as error:
                    raise RowProblem(f"日期“{whole}”不存在") from error
        if 32874 <= whole <= 73415:  # an Excel serial day (1990–2100) that lost its date format
            return _EXCEL_EPOCH + dt.timedelta(days=whole)
    raise RowProblem(f"日期“{_text(value)}”无法识别，请写成 2026-11-01 这样的格式")


def _product_type(value: CellValue) -> str:
    text = _text(value)
    if text not in _PRODUCT_TYPES:
        raise RowProblem(f"产品类型“{text}”无效，只能是：{'、'.join(_PRODUCT_TYPES)}")
    return _PRODUCT_TYPES[text]


def _mobile(value: CellValue) -> str:
    if type(value) is str and len(value) == 11 and value.isascii() and _MOBILE_FAST.match(value):
        return value
    phone = normalize_phone(_text(value))
    if not is_mobile(phone):
        raise RowProblem(f"手机号码“{_text(value)}”无效：应为 11 位、以 13-19 开头的手机号码")
    return phone


def _phone(value: CellValue) -> str:
    if type(value) is str and len(value) == 11 and value.isascii() and _MOBILE_FAST.match(value):
        return value
    phone = normalize_phone(_text(value))
    if not (is_mobile(phone) or is_landline(phone)):
        raise RowProblem(f"电话“{_text(value)}”无效：应为 11 位手机号码或带区号的固定电话（如 024-23801234）")
    return phone


def _phone_list(value: CellValue) -> list[str]:
    phones: list[str] = []
    bad: list[str] = []
    for part in _PHONE_SPLIT.split(_text(value).translate(_FULLWIDTH)):
        if not part:
            continue
        phone = normalize_phone(part)
        if is_mobile(phone) or is_landline(phone):
            if phone not in phones:
                phones.append(phone)
        else:
            bad.append(part)
    if bad:
        raise RowProblem(f"电话“{'、'.join(bad)}”无效：应为 11 位手机号码或带区号的固定电话，多个号码用逗号或顿号分隔")
    return phones


def _non_negative_int(value: CellValue) -> int:
    number = _decimal(value, "逾期天数")
    if number < 0 or number != number.to_integral_value():
        raise RowProblem(f"逾期天数“{_text(value)}”应为不小于 0 的整数")
    return int(number)


def _limited_text(header: str) -> Callable[[CellValue], str]:
    limit = _MAX_LEN.get(header)

    def convert(value: CellValue) -> str:
        text = value if type(value) is str else _text(value)
        if limit is not None and len(text) > limit:
            raise RowProblem(f"过长：最多 {limit} 个字，实际 {len(text)} 个")
        return text

    return convert


def _card_no(value: CellValue) -> str:
    return _limited_text("卡号")(value).replace(" ", "")


_CONVERTERS: dict[str, Callable[[CellValue], object]] = {
    "批次号": _limited_text("批次号"), "案件编号": _limited_text("案件编号"), "客户姓名": _limited_text("客户姓名"),
    "证件号码": _id_number, "委案金额": _positive_money,
    "佣金比例": _commission_rate, "委案日期": _date, "退案日期": _date,
    "产品类型": _product_type, "卡号": _card_no, "手机号码": _mobile,
    "其他电话": _phone_list, "家庭地址": _limited_text("家庭地址"), "单位名称": _limited_text("单位名称"),
    "单位地址": _limited_text("单位地址"), "本金": _money, "利息": _money,
    "费用": _money, "逾期天数": _non_negative_int, "地区": _limited_text("地区"),
    "联系人姓名": _limited_text("联系人姓名"), "联系人关系": _limited_text("联系人关系"),
    "联系人电话": _phone, "备注": _limited_text("备注"),
}
# Columns whose values repeat across rows; each keeps at most _CACHE_LIMIT converted values.
_CACHED_COLUMNS = frozenset({"批次号", "佣金比例", "委案日期", "退案日期", "产品类型", "单位名称", "逾期天数", "地区",
                             "联系人关系", "备注"})
_CACHE_LIMIT = 5000


def add_one_month(day: dt.date) -> dt.date:
    """The same day next month, clipped to that month's end (C9: a continuation is valid one month)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
