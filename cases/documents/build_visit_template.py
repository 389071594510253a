"""Builds cases/documents/templates/visit_form.docx, the fixed-format 外访记录表 (P5) docxtpl renders.

    .venv/bin/python cases/documents/build_visit_template.py

The .docx is committed beside this script; change the layout here and run it again rather than editing
the .docx by hand, so the template's docxtpl tags stay well-formed (Word splits hand-typed tags into runs).
Tags use the names of `cases.documents.context.VisitFormContext`.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell

OUT = Path(__file__).resolve().parent / "templates" / "visit_form.docx"
FONT = "宋体"  # present on every Windows machine the agency prints from
LABEL_FILL = "EEF1F5"


def _font(run_or_style: object, size: float | None = None, bold: bool | None = None) -> None:
    font = run_or_style.font  # type: ignore[attr-defined]
    font.name = FONT
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rpr = run_or_style.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _shade(cell: _Cell, fill: str = LABEL_FILL) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _text(cell: _Cell, text: str, *, bold: bool = False, size: float = 10.5, label: bool = False,
          align: WD_ALIGN_PARAGRAPH | None = None) -> None:
    cell.text = ""
    para = cell.paragraphs[0]
    para.paragraph_format.space_after = Pt(0)
    if align is not None:
        para.alignment = align
    run = para.add_run(text)
    _font(run, size=size, bold=bold or label)
    if label:
        _shade(cell)


def _widths(table: Table, widths_cm: list[float]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=False):
            cell.width = Cm(width)


def _heading(doc: Document, text: str) -> None:  # type: ignore[valid-type]
    para = doc.add_paragraph()  # type: ignore[attr-defined]
    para.paragraph_format.space_before = Pt(8)
    para.paragraph_format.space_after = Pt(3)
    run = para.add_run(text)
    _font(run, size=12, bold=True)
    run.font.color.rgb = RGBColor(0x1F, 0x2D, 0x3D)


def _kv_table(doc: Document, rows: list[tuple[str, str, str, str] | tuple[str, str]]) -> None:  # type: ignore[valid-type]
    table = doc.add_table(rows=0, cols=4)  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row in rows:
        cells = table.add_row().cells
        if len(row) == 2:
            merged = cells[1].merge(cells[3])
            _text(cells[0], row[0], label=True)
            _text(merged, row[1])
        else:
            _text(cells[0], row[0], label=True)
            _text(cells[1], row[1])
            _text(cells[2], row[2], label=True)
            _text(cells[3], row[3])
    _widths(table, [2.6, 5.6, 2.6, 5.6])


def _loop_table(doc: Document, headers: list[str], fields: list[str], var: str, items: str,  # type: ignore[valid-type]
                widths: list[float]) -> None:
    """A header row, then docxtpl's row loop: {%tr for %} / one data row / {%tr endfor %}."""
    table = doc.add_table(rows=3, cols=len(headers))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        _text(cell, header, label=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    # The loop tags sit alone in their rows; docxtpl drops those rows and repeats the one between.
    _text(table.rows[1].cells[0], f"{{%tr for {var} in {items} %}}", size=8)
    for cell, name in zip(table.rows[2].cells, fields, strict=True):
        _text(cell, f"{{{{ {var}.{name} }}}}", size=9.5)
    end = table.add_row()
    _text(end.cells[0], "{%tr endfor %}", size=8)
    _widths(table, widths)


def build(path: Path = OUT) -> Path:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(1.6), Cm(1.6)
    normal = doc.styles["Normal"]
    _font(normal, size=10.5)
    normal.paragraph_format.space_after = Pt(2)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(title.add_run("外访记录表"), size=20, bold=True)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(sub.add_run("案件编号：{{ case_no }}　　委托银行：{{ bank }}　　批次：{{ batch_no }}"), size=10.5)

    _heading(doc, "一、客户信息")
    _kv_table(doc, [
        ("客户姓名", "{{ debtor_name }}", "证件号码", "{{ id_number }}"),
        ("手机号码", "{{ mobile }}", "卡号", "{{ card_no }}"),
        ("产品类型", "{{ product_type }}", "地区", "{{ region }}"),
        ("家庭地址", "{{ home_address }}"),
        ("单位名称", "{{ employer }}"),
        ("单位地址", "{{ work_address }}"),
    ])

    _heading(doc, "二、欠款信息（单位：元）")
    _kv_table(doc, [
        ("委案金额", "{{ entrusted_amount }}", "已还金额", "{{ repaid_amount }}"),
        ("余额", "{{ balance }}", "逾期天数", "{{ overdue_days }}"),
        ("本金", "{{ principal }}", "利息", "{{ interest }}"),
        ("费用", "{{ fees }}", "委案日期", "{{ entrust_date }}"),
        ("退案日期", "{{ return_date }}", "催收业务员", "{{ collector }}"),
        ("负责内勤", "{{ owner_clerk }}", "内勤电话", "{{ owner_clerk_phone }}"),
    ])

    _heading(doc, "三、联系人")
    _loop_table(doc, ["关系", "姓名", "电话"], ["relation", "name", "phone"], "c", "contacts", [3.5, 5.5, 7.4])
    doc.add_paragraph("{% if not contacts %}（无联系人）{% endif %}")

    _heading(doc, "四、电话催收情况（最近 {{ calls|length }} 次，共 {{ call_total }} 次）")
    _loop_table(doc, ["时间", "对象", "号码", "结果", "备注", "业务员"],
                ["when", "who", "number", "result", "note", "collector"], "k", "calls",
                [2.6, 1.5, 2.7, 2.9, 4.8, 1.9])
    doc.add_paragraph("{% if not calls %}（暂无电话记录）{% endif %}")

    _heading(doc, "五、以往外访")
    _loop_table(doc, ["日期", "外访人员", "地址", "结果", "情况"], ["day", "collector", "address", "result", "note"],
                "v", "visits", [2.3, 2.0, 4.6, 2.6, 4.9])
    doc.add_paragraph("{% if not visits %}（首次外访）{% endif %}")

    _heading(doc, "六、本次外访结果（外访后填写）")
    blank = "　" * 12
    table = doc.add_table(rows=0, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    cells = table.add_row().cells
    _text(cells[0], "外访日期", label=True)
    _text(cells[1], "　　　年　　月　　日")
    _text(cells[2], "外访人员", label=True)
    _text(cells[3], blank)
    cells = table.add_row().cells
    _text(cells[0], "外访地址", label=True)
    _text(cells[1].merge(cells[3]), "☐ 家庭地址　☐ 单位地址　☐ 其他：")
    cells = table.add_row().cells
    _text(cells[0], "见到何人", label=True)
    _text(cells[1].merge(cells[3]), "☐ 本人　☐ 配偶　☐ 父母　☐ 子女　☐ 同事　☐ 其他：　　　　☐ 无人")
    cells = table.add_row().cells
    _text(cells[0], "外访结果", label=True)
    _text(cells[1].merge(cells[3]), "{% for o in result_options %}☐ {{ o }}　{% endfor %}")
    cells = table.add_row().cells
    _text(cells[0], "承诺还款", label=True)
    _text(cells[1].merge(cells[3]), "日期：　　　年　　月　　日　　　金额：　　　　　　　元")
    row = table.add_row()
    row.height = Cm(4.2)
    cells = row.cells
    _text(cells[0], "情况说明", label=True)
    _text(cells[1].merge(cells[3]), "")
    _widths(table, [2.6, 5.6, 2.6, 5.6])

    for line in ("外访人员签字：＿＿＿＿＿＿＿＿　　被访人签字：＿＿＿＿＿＿＿＿　　日期：　　年　　月　　日",):
        para = doc.add_paragraph()
        para.paragraph_format.space_before = Pt(14)
        _font(para.add_run(line), size=10.5)
    foot = doc.add_paragraph()
    foot.paragraph_format.space_before = Pt(10)
    run = foot.add_run("生成时间：{{ generated_at }}　导出人：{{ generated_by }}　"
                       "本表含客户个人信息，仅限本案外访使用，用后交回或销毁。")
    _font(run, size=8.5)
    run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)

    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


if __name__ == "__main__":
    print(build())
