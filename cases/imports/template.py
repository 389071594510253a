"""The standard import template (.xlsx bytes) generated from `cases.imports.excel.COLUMNS`.

Pure: builds the workbook with openpyxl in memory; no ORM. The header row is the contract the parser
reads, so both come from the same column list.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Protocol

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cases.imports.excel import COLUMNS, INSTRUCTIONS_SHEET

DATA_SHEET = "委案数据"
# Columns Excel would otherwise turn into numbers (and cut after 15 digits) or reformat.
_TEXT_COLUMNS = {"批次号", "案件编号", "证件号码", "卡号", "手机号码", "其他电话", "联系人电话"}
_DATE_COLUMNS = {"委案日期", "退案日期"}
_MONEY_COLUMNS = {"委案金额", "本金", "利息", "费用"}
_WIDE = {"家庭地址": 36, "单位名称": 24, "单位地址": 36, "其他电话": 28, "备注": 24, "证件号码": 22, "卡号": 22}

_REQUIRED_FILL = PatternFill("solid", fgColor="FDE2E1")
_OPTIONAL_FILL = PatternFill("solid", fgColor="EEF2F7")
_THIN = Side(style="thin", color="B8C2CC")

GENERAL_NOTES: tuple[str, ...] = (
    "1. 请在“委案数据”工作表第 1 行的表头下方逐行填写，一行一个案件；表头文字不要修改，列的顺序可以调整。",
    "2. 红色表头为必填列，每一行都必须填写；蓝色表头为选填列，可以留空，也可以整列删除。",
    "3. 一个文件只能有一个批次号；同一银行的同一批次号只能导入一次。",
    "4. 银行以新批次号留案的案件，案件编号与原案件相同即可：系统自动作为续案导入，有效期一个月，"
    "原案件转为已退案，业务员和负责内勤保持不变。",
    "5. 表头不在本模板中的其他列会原样保存在案件的“其他字段”中。",
    "6. 空行会被跳过。只要有任何一行有问题，整个文件都不会导入，页面会列出每个问题所在的行和列。",
    "7. 证件号码、卡号、电话请保持文本格式，避免 Excel 把长数字变成科学计数法或截断。",
)


class TemplateColumn(Protocol):
    # Read-only members: the columns are frozen dataclasses.
    @property
    def header(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def fmt(self) -> str: ...  # what the instructions sheet says about the format
    @property
    def example(self) -> str: ...


@dataclass(frozen=True)
class TemplateSpec:
    """What an import template holds; `build_template` lays it out the same way for every import."""

    data_sheet: str
    instructions_sheet: str
    title: str
    notes: Sequence[str]
    columns: Sequence[TemplateColumn]
    text_columns: Set[str] = frozenset()  # kept as text: Excel would turn them into numbers or cut them
    date_columns: Set[str] = frozenset()
    money_columns: Set[str] = frozenset()
    widths: Mapping[str, int] = field(default_factory=dict)  # columns wider than their header


def build_template(spec: TemplateSpec, *,
                   on_column: Callable[[Worksheet, TemplateColumn, str], None] | None = None) -> bytes:
    """The template workbook: the data sheet with its header row (required columns red, optional blue, each
    header's format and example as a comment) and an instructions sheet in Chinese. `on_column(sheet, column,
    letter)` adds what one import's column needs beyond that (a drop-down list)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = spec.data_sheet
    for index, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True, color="B42318" if column.required else "1F3A5F")
        cell.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = Border(bottom=_THIN, right=_THIN)
        cell.comment = Comment(f"{'必填' if column.required else '选填'}：{column.fmt}\n示例：{column.example}",
                               "催收管控平台", width=260, height=110)
        letter = get_column_letter(index)
        dimension = sheet.column_dimensions[letter]
        dimension.width = spec.widths.get(column.header, max(12, len(column.header) * 2 + 4))
        if column.header in spec.text_columns:
            dimension.number_format = "@"
        elif column.header in spec.date_columns:
            dimension.number_format = "yyyy-mm-dd"
        elif column.header in spec.money_columns:
            dimension.number_format = "#,##0.00"
        if on_column is not None:
            on_column(sheet, column, letter)
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 22

    guide = workbook.create_sheet(spec.instructions_sheet)
    guide.append([spec.title])
    guide["A1"].font = Font(bold=True, size=14)
    for note in spec.notes:
        guide.append([note])
    guide.append([])
    header_row = guide.max_row + 1
    guide.append(["列名", "是否必填", "格式要求", "示例"])
    for cell in guide[header_row]:
        cell.font = Font(bold=True)
        cell.fill = _OPTIONAL_FILL
    for column in spec.columns:
        guide.append([column.header, "必填" if column.required else "选填", column.fmt, column.example])
        if column.required:
            guide.cell(row=guide.max_row, column=2).font = Font(bold=True, color="B42318")
    for letter, width in (("A", 14), ("B", 10), ("C", 80), ("D", 30)):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.number_format = "@"

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CASE_TEMPLATE = TemplateSpec(
    data_sheet=DATA_SHEET, instructions_sheet=INSTRUCTIONS_SHEET, title="委案导入模板填写说明",
    notes=GENERAL_NOTES, columns=COLUMNS, text_columns=_TEXT_COLUMNS, date_columns=_DATE_COLUMNS,
    money_columns=_MONEY_COLUMNS, widths=_WIDE,
)


def build_case_template() -> bytes:
    """The standard template: a data sheet with the header row and an instructions sheet in Chinese."""
    return build_template(CASE_TEMPLATE, on_column=_product_type_choices)


def _product_type_choices(sheet: Worksheet, column: TemplateColumn, letter: str) -> None:
    if column.header == "产品类型":
        choices = DataValidation(type="list", formula1='"信用卡,贷款,其他"', allow_blank=True,
                                 showErrorMessage=True, errorTitle="产品类型", error="只能选择 信用卡、贷款 或 其他")
        sheet.add_data_validation(choices)
        choices.add(f"{letter}2:{letter}200001")
