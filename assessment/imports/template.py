"""The applicant intake template (.xlsx bytes), generated from `assessment.imports.excel.COLUMNS`. Pure."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from assessment.imports.excel import COLUMNS, INSTRUCTIONS_SHEET

DATA_SHEET = "申请人"
_TEXT = {"证件号码", "手机号码"}
_MONEY = {"月收入", "现有负债总额", "现有月还款额", "申请金额"}
_REQUIRED_FILL = PatternFill("solid", fgColor="FDE2E1")
_OPTIONAL_FILL = PatternFill("solid", fgColor="EEF2F7")
NOTES = (
    "1. 在“申请人”工作表第 1 行表头下方逐行填写，一行一位申请人；表头文字不要修改，列的顺序可以调整。",
    "2. 红色表头为必填列；蓝色表头为选填列，可以留空，也可以整列删除。",
    "3. 申请银行在导入页面选择，一个文件中的申请人都属于所选银行。",
    "4. 年龄和性别由证件号码自动得出，不需要填写；申请人须年满 18 周岁。",
    "5. 只要有任何一行有问题，整个文件都不会导入，页面会列出每个问题所在的行和列。",
    "6. 证件号码、手机号码请保持文本格式，避免 Excel 把长数字变成科学计数法或截断。",
    "7. 申请资料（身份证、收入证明等）请在导入后到申请人页面上传。",
)


def build_applicant_template() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = DATA_SHEET
    for index, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True, color="B42318" if column.required else "1F3A5F")
        cell.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center")
        cell.comment = Comment(f"{'必填' if column.required else '选填'}：{column.fmt}\n示例：{column.example}",
                               "催收管控平台", width=260, height=100)
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = 22 if column.header in _TEXT else max(12, len(column.header) * 2 + 4)
        if column.header in _TEXT:
            dimension.number_format = "@"
        elif column.header in _MONEY:
            dimension.number_format = "#,##0.00"
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet(INSTRUCTIONS_SHEET)
    guide.append(["申请人导入模板填写说明"])
    guide["A1"].font = Font(bold=True, size=14)
    for note in NOTES:
        guide.append([note])
    guide.append([])
    guide.append(["列名", "是否必填", "格式要求", "示例"])
    for cell in guide[guide.max_row]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        guide.append([column.header, "必填" if column.required else "选填", column.fmt, column.example])
    for letter, width in (("A", 14), ("B", 10), ("C", 70), ("D", 24)):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
