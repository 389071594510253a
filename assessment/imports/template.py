"""The applicant intake template (.xlsx bytes), generated from `assessment.imports.excel.COLUMNS` and laid out
like the case import's (cases.imports.template.build_template). Pure."""

from __future__ import annotations

from assessment.imports.excel import COLUMNS, INSTRUCTIONS_SHEET
from cases.imports.template import TemplateSpec, build_template

DATA_SHEET = "申请人"
NOTES = (
    "1. 在“申请人”工作表第 1 行表头下方逐行填写，一行一位申请人；表头文字不要修改，列的顺序可以调整。",
    "2. 红色表头为必填列；蓝色表头为选填列，可以留空，也可以整列删除。",
    "3. 申请银行在导入页面选择，一个文件中的申请人都属于所选银行。",
    "4. 年龄和性别由证件号码自动得出，不需要填写；申请人须年满 18 周岁。",
    "5. 只要有任何一行有问题，整个文件都不会导入，页面会列出每个问题所在的行和列。",
    "6. 证件号码、手机号码请保持文本格式，避免 Excel 把长数字变成科学计数法或截断。",
    "7. 申请资料（身份证、收入证明等）请在导入后到申请人页面上传。",
)
APPLICANT_TEMPLATE = TemplateSpec(
    data_sheet=DATA_SHEET, instructions_sheet=INSTRUCTIONS_SHEET, title="申请人导入模板填写说明", notes=NOTES,
    columns=COLUMNS, text_columns={"证件号码", "手机号码"},
    money_columns={"月收入", "现有负债总额", "现有月还款额", "申请金额"}, widths={"证件号码": 22, "手机号码": 22},
)


def build_applicant_template() -> bytes:
    return build_template(APPLICANT_TEMPLATE)
