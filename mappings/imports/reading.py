"""Open a bank's own spreadsheet (.xlsx, .xls, .csv in UTF-8 or GBK/GB18030) as rows of cell values.

Pure: no ORM. .xlsx and .xls are read by python-calamine (it reads both; the standard import's content sniffing
refuses zip bombs and encrypted workbooks first); CSV by the csv module after finding its encoding. Merged cells
come with the sheet so the header of a two-level heading can be put together. Must not import cases.models.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from python_calamine import CalamineWorkbook

from cases.imports.excel import (
    _UNREADABLE,
    OLE2_MAGIC,
    ZIP_MAGIC,
    CellValue,
    _data_sheet_name,
    _return_freed_memory,
    _short,
    sniff_xlsx,
)

# Rows searched for the header (a bank's title block rarely takes more than a few).
HEAD_ROWS = 30

Merge = tuple[int, int, int, int]  # first row, first column, last row, last column (0-based, inclusive)


class UnreadableFile(ValueError):
    """The file cannot be read; the message is the Chinese reason shown to the clerk."""


@dataclass
class OpenedSheet:
    """The data sheet of an uploaded file: its first rows (for the header), the rest as an iterator, merges.

    Row index i is sheet row i + 1; column index j is the j-th column from the sheet's first used column.
    `rows()` hands out every row once, the first ones included.
    """

    fmt: str  # "xlsx", "xls" or "csv"
    name: str
    head: list[list[CellValue]]
    rest: Iterator[list[CellValue]]
    merges: list[Merge] = field(default_factory=list)
    height: int = 0
    first_column: int = 0  # the sheet column (0-based) of column index 0, for column letters
    encoding: str = ""  # CSV only

    def rows(self) -> Iterator[list[CellValue]]:
        head, self.head = self.head, []
        rest, self.rest = self.rest, iter(())
        return itertools.chain(head, rest)


def sniff(data: bytes, *, max_rows: int, max_uncompressed_bytes: int) -> str:
    """Which of the three formats `data` is ("xlsx", "xls", "csv"), from its content, without reading the sheet.
    Raises UnreadableFile for anything else (an encrypted workbook, a zip bomb, a program...)."""
    if not data:
        raise UnreadableFile("文件是空的")
    if data[:8] == OLE2_MAGIC:
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            raise UnreadableFile("文件已加密（设置了打开密码），请在 Excel 中取消密码后再上传")
        if "Workbook".encode("utf-16-le") not in data and "Book".encode("utf-16-le") not in data:
            raise UnreadableFile("这是旧版 Office 文件，但不是 Excel 工作簿（.xls）")
        return "xls"
    if data[:4] == ZIP_MAGIC:
        problem = sniff_xlsx(data, max_uncompressed_bytes=max_uncompressed_bytes, max_rows=max_rows)
        if problem is not None:
            raise UnreadableFile(problem)
        return "xlsx"
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile("文件内容不是 Excel 工作簿（.xlsx/.xls）或 CSV 文本文件，可能只是改了扩展名")
    return "csv"


def open_sheet(data: bytes, *, max_rows: int, max_uncompressed_bytes: int) -> OpenedSheet:
    """The first data sheet of `data`, whatever of the three formats it is. Raises UnreadableFile."""
    fmt = sniff(data, max_rows=max_rows, max_uncompressed_bytes=max_uncompressed_bytes)
    return _csv(data) if fmt == "csv" else _calamine(data, fmt)


def _calamine(data: bytes, fmt: str) -> OpenedSheet:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        name = _data_sheet_name(workbook)
        sheet = workbook.get_sheet_by_name(name)
        workbook.close()
        del workbook
        _return_freed_memory()
        # calamine starts the rows at the sheet's first row (blank rows before the used range come as blanks
        # from iter_rows) but the columns at the first used column; merges are in sheet coordinates.
        first_column = sheet.start[1]
        merges = [(top, left - first_column, bottom, right - first_column)
                  for (top, left), (bottom, right) in (sheet.merged_cell_ranges or [])]
        rows = sheet.iter_rows()
        head = list(itertools.islice(rows, HEAD_ROWS))
        return OpenedSheet(fmt=fmt, name=name, head=head, rest=rows, merges=merges, height=sheet.height,
                           first_column=first_column)
    except _UNREADABLE as error:
        raise UnreadableFile(f"无法读取工作簿内容，文件可能已损坏（{_short(error)}）") from error
    except BaseException as error:
        if type(error).__name__ != "PanicException":
            raise
        raise UnreadableFile("无法读取工作簿内容，文件可能已损坏") from error


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's
    "Unicode text"), else GB18030 (which includes GBK and GB2312, what Excel writes on a Chinese Windows)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GBK/GB18030"
    except UnicodeDecodeError as error:
        raise UnreadableFile("无法识别 CSV 文件的文字编码（支持 UTF-8 和 GBK/GB18030），"
                             "请在 Excel 中另存为 .xlsx 后再上传") from error


def _csv(data: bytes) -> OpenedSheet:
    try:
        text, encoding = decode_text(data)
    except UnicodeError as error:
        if isinstance(error, UnreadableFile):
            raise
        raise UnreadableFile("无法识别 CSV 文件的文字编码") from error
    del data
    first_line = text[:4096].split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    height = text.count("\n") + (0 if text.endswith("\n") else 1)
    rows: Iterator[list[CellValue]] = iter(reader)  # type: ignore[arg-type]
    try:
        head = list(itertools.islice(rows, HEAD_ROWS))
    except csv.Error as error:
        raise UnreadableFile(f"CSV 文件格式有误：{error}") from error
    return OpenedSheet(fmt="csv", name="CSV", head=head, rest=_csv_rows(rows), height=height, encoding=encoding)


def _csv_rows(rows: Iterator[list[CellValue]]) -> Iterator[list[CellValue]]:
    try:
        yield from rows
    except csv.Error as error:
        raise UnreadableFile(f"CSV 文件格式有误：{error}") from error


def column_letter(index: int) -> str:
    """Excel's column letters of the 0-based `index` (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
