"""The pure parser: workbooks built in memory with openpyxl → CaseRow / RowError. No database."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from cases.imports.excel import HEADERS, OLE2_MAGIC, REQUIRED_HEADERS, add_one_month, parse_case_workbook
from cases.imports.rows import RowError
from cases.imports.template import DATA_SHEET, build_case_template
from cases.validators import id_check_digit

LIMITS = {"max_rows": 1000, "max_uncompressed_bytes": 50 * 1024 * 1024}


def make_id(seq: int, birth: str = "19850615") -> str:
    first17 = f"210102{birth}{seq % 1000:03d}"
    return first17 + id_check_digit(first17)


def valid_row(n: int = 1, **overrides: object) -> dict[str, object]:
    """One row of the standard template with realistic, valid values."""
    row: dict[str, object] = {
        "批次号": "ZS2026110001", "案件编号": f"ZS{n:06d}", "客户姓名": f"客户{n}", "证件号码": make_id(n),
        "委案金额": "12,345.67", "佣金比例": "3.5%", "委案日期": dt.date(2026, 11, 1), "退案日期": "2027-02-01",
        "产品类型": "信用卡", "卡号": "6225880112345678", "手机号码": "13812345678",
        "其他电话": "13987654321、024-23801234", "家庭地址": "沈阳市和平区南京北街1号", "单位名称": "某科技公司",
        "单位地址": "沈阳市浑南区创新路100号", "本金": 10000, "利息": "2000.5", "费用": "345.17", "逾期天数": 120,
        "地区": "沈阳市和平区", "联系人姓名": "李四", "联系人关系": "配偶", "联系人电话": "13900001111", "备注": "无",
    }
    row.update(overrides)
    return row


def make_workbook(rows: list[dict[str, object]], headers: list[str] | tuple[str, ...] | None = None, *,
                  leading_blank_rows: int = 0, sheets_before: tuple[str, ...] = ()) -> bytes:
    """An .xlsx with `headers` in the first row (after optional blank rows) and `rows` keyed by header."""
    headers = list(headers if headers is not None else HEADERS)
    workbook = Workbook()
    sheet = workbook.active
    for name in sheets_before:
        workbook.create_sheet(name, 0)["A1"] = "说明"
    for _ in range(leading_blank_rows):
        sheet.append([])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h.strip(), "") for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse(content: bytes, **limits: int):
    return parse_case_workbook(io.BytesIO(content), **{**LIMITS, **limits})


def only_error(result) -> RowError:
    assert len(result.errors) == 1, result.errors
    assert result.rows == []
    return result.errors[0]


# --- a valid file --------------------------------------------------------------------------------------


def test_parse_valid_row_reads_every_column():
    # given
    content = make_workbook([valid_row(1)])
    # when
    result = parse(content)
    # then
    assert result.errors == []
    assert result.batch_no == "ZS2026110001"
    row = result.rows[0]
    assert row.row_number == 2
    assert (row.case_no, row.debtor_name, row.id_number) == ("ZS000001", "客户1", make_id(1))
    assert row.entrusted_amount == Decimal("12345.67")
    assert row.commission_rate == Decimal("0.035000")
    assert (row.entrust_date, row.return_date) == (dt.date(2026, 11, 1), dt.date(2027, 2, 1))
    assert row.product_type == "credit_card"
    assert (row.principal, row.interest, row.fees, row.overdue_days) == (
        Decimal("10000.00"), Decimal("2000.50"), Decimal("345.17"), 120)
    assert [(c.relation, c.phone) for c in row.contacts] == [
        ("本人", "13812345678"), ("本人", "13987654321"), ("本人", "024-23801234"), ("配偶", "13900001111")]
    assert row.contacts[0].name == "客户1" and row.contacts[3].name == "李四"
    assert row.extra == {}


def test_parse_matches_headers_in_any_order_with_spaces():
    # given
    headers = [f"  {h} " for h in reversed(HEADERS)]
    content = make_workbook([valid_row(1)], headers)
    # when
    result = parse(content)
    # then
    assert result.errors == []
    assert result.rows[0].case_no == "ZS000001"


def test_parse_only_required_columns_is_enough():
    # given
    content = make_workbook([{h: v for h, v in valid_row(1).items() if h in REQUIRED_HEADERS}], REQUIRED_HEADERS)
    # when
    result = parse(content)
    # then
    assert result.errors == []
    row = result.rows[0]
    assert row.product_type == "other" and row.contacts == [] and row.principal is None


def test_parse_keeps_unknown_columns_in_extra():
    # given
    content = make_workbook([valid_row(1, 账单日="5日", 空列="")], [*HEADERS, "账单日", "空列"])
    # when
    result = parse(content)
    # then
    assert result.rows[0].extra == {"账单日": "5日"}
    assert result.extra_headers == ["账单日", "空列"]


def test_parse_keeps_a_phoneless_contact_in_its_own_rows_extra_only():
    # given: two rows with the same extra values; only the first names a contact without a number
    rows = [valid_row(1, 联系人电话="", 账单日="5日"),
            valid_row(2, 联系人姓名="", 联系人关系="", 联系人电话="", 账单日="5日")]
    # when
    result = parse(make_workbook(rows, [*HEADERS, "账单日"]))
    # then: the second row's extra is not the first row's (shared dicts must not be changed)
    assert result.errors == []
    assert result.rows[0].extra == {"账单日": "5日", "联系人姓名": "李四", "联系人关系": "配偶"}
    assert result.rows[1].extra == {"账单日": "5日"}


def test_parse_strips_values_and_normalises_full_width_digits():
    # given
    row = valid_row(1, 客户姓名="  王五\u3000", 委案金额="１２，３４５．６７", 手机号码="１３８１２３４５６７８",
                    证件号码=f" {make_id(1)} ")
    # when
    result = parse(make_workbook([row]))
    # then
    assert result.errors == []
    parsed = result.rows[0]
    assert parsed.debtor_name == "王五"
    assert parsed.entrusted_amount == Decimal("12345.67")
    assert parsed.mobile == "13812345678"


def test_parse_skips_blank_rows_and_counts_excel_rows():
    # given
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS))
    sheet.append([valid_row(1)[h] for h in HEADERS])
    sheet.append([])
    sheet.append(["  "] * 3)
    sheet.append([valid_row(2, 证件号码="123")[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when
    result = parse(buffer.getvalue())
    # then
    assert only_error(result).row_number == 5


def test_parse_header_after_blank_rows_reports_true_excel_rows():
    # given
    content = make_workbook([valid_row(1), valid_row(2, 委案金额="abc")], leading_blank_rows=2)
    # when
    result = parse(content)
    # then
    assert only_error(result).row_number == 5


def test_parse_skips_the_instructions_sheet():
    # given
    content = make_workbook([valid_row(1)], sheets_before=("填写说明",))
    # when
    result = parse(content)
    # then
    assert result.errors == [] and len(result.rows) == 1


@pytest.mark.parametrize(("value", "expected"), [
    ("3.5%", "0.035"), ("3.50%", "0.035"), (0.035, "0.035"), ("0.035", "0.035"), (3.5, "0.035"), ("3.5", "0.035"),
    ("12%", "0.12"), (1, "1"), ("３．５％", "0.035"), ("0.1234%", "0.001234"),
])
def test_parse_commission_rate_forms(value, expected):
    # when
    result = parse(make_workbook([valid_row(1, 佣金比例=value)]))
    # then
    assert result.errors == []
    assert result.rows[0].commission_rate == Decimal(expected).quantize(Decimal("0.000001"))


@pytest.mark.parametrize("value", [
    dt.date(2026, 11, 1), dt.datetime(2026, 11, 1, 9, 30), "2026-11-01", "2026/11/01", "2026.11.01", "2026年11月1日",
    "2026-11-1", "20261101", 46327, " 2026 年 11 月 1 日 ",
])
def test_parse_date_forms(value):
    # when
    result = parse(make_workbook([valid_row(1, 委案日期=value)]))
    # then
    assert result.errors == []
    assert result.rows[0].entrust_date == dt.date(2026, 11, 1)


@pytest.mark.parametrize(("value", "expected"), [
    ("12,345.67", "12345.67"), (12345.67, "12345.67"), ("1,234,567", "1234567.00"), (100, "100.00"),
    ("￥88.5", "88.50"), ("0.1", "0.10"),
])
def test_parse_money_forms(value, expected):
    # when
    result = parse(make_workbook([valid_row(1, 委案金额=value)]))
    # then
    assert result.errors == []
    assert result.rows[0].entrusted_amount == Decimal(expected)


def test_parse_other_phones_split_on_every_separator():
    # given
    value = "13900000001,13900000002，13900000003;13900000004；13900000005、13900000006 0411-82605678"
    # when
    result = parse(make_workbook([valid_row(1, 其他电话=value, 手机号码="")]))
    # then
    assert result.errors == []
    assert [c.phone for c in result.rows[0].contacts if c.relation == "本人"] == [
        "13900000001", "13900000002", "13900000003", "13900000004", "13900000005", "13900000006", "0411-82605678"]


def test_parse_accepts_legacy_15_digit_id_and_lowercase_x():
    # given
    eighteen_x = next(make_id(n) for n in range(1000) if make_id(n).endswith("X"))
    rows = [valid_row(1, 证件号码="210102850615001"), valid_row(2, 证件号码=eighteen_x.lower())]
    # when
    result = parse(make_workbook(rows))
    # then
    assert result.errors == []
    assert [r.id_number for r in result.rows] == ["210102850615001", eighteen_x]


# --- every rule rejected with row, column and a Chinese message ----------------------------------------


@pytest.mark.parametrize(("overrides", "column", "fragment"), [
    ({"案件编号": ""}, "案件编号", "必填"),
    ({"客户姓名": "  "}, "客户姓名", "必填"),
    ({"证件号码": "210102198506150010"}, "证件号码", "校验位错误"),
    ({"证件号码": "21010219850615001"}, "证件号码", "应为 18 位"),
    ({"证件号码": 210102198506150011}, "证件号码", "文本格式"),
    ({"委案金额": "0"}, "委案金额", "必须大于 0"),
    ({"委案金额": "-5"}, "委案金额", "不能为负数"),
    ({"委案金额": "12.345"}, "委案金额", "最多保留 2 位小数"),
    ({"委案金额": "12,34.5"}, "委案金额", "不是有效的数字"),
    ({"委案金额": "一万"}, "委案金额", "不是有效的数字"),
    ({"本金": "-1"}, "本金", "不能为负数"),
    ({"利息": 1.005}, "利息", "最多保留 2 位小数"),
    ({"佣金比例": "0%"}, "佣金比例", "必须大于 0"),
    ({"佣金比例": "150%"}, "佣金比例", "超过 100%"),
    ({"佣金比例": "abc"}, "佣金比例", "不是有效的数字"),
    ({"委案日期": "2026-13-01"}, "委案日期", "不存在"),
    ({"委案日期": "2026-02-30"}, "委案日期", "不存在"),
    ({"委案日期": "下个月"}, "委案日期", "无法识别"),
    ({"退案日期": "2026-10-31"}, "退案日期", "早于委案日期"),
    ({"产品类型": "房贷"}, "产品类型", "只能是：信用卡、贷款、其他"),
    ({"手机号码": "12812345678"}, "手机号码", "11 位"),
    ({"手机号码": "1381234567"}, "手机号码", "11 位"),
    ({"其他电话": "13900000001、12345"}, "其他电话", "“12345”无效"),
    ({"联系人电话": "8888"}, "联系人电话", "无效"),
    ({"逾期天数": "-3"}, "逾期天数", "不能为负数"),
    ({"逾期天数": 2.5}, "逾期天数", "不小于 0 的整数"),
    ({"客户姓名": "名" * 65}, "客户姓名", "过长"),
])
def test_parse_rejects_bad_value_with_row_column_and_message(overrides, column, fragment):
    # given
    content = make_workbook([valid_row(1), valid_row(2, **overrides)])
    # when
    result = parse(content)
    # then
    error = only_error(result)
    assert (error.row_number, error.column) == (3, column)
    assert fragment in error.message


def test_parse_lists_every_problem_of_a_row():
    # given
    content = make_workbook([valid_row(1, 证件号码="1", 委案金额="x", 委案日期="")])
    # when
    result = parse(content)
    # then
    assert [(e.row_number, e.column) for e in result.errors] == [(2, "证件号码"), (2, "委案金额"), (2, "委案日期")]
    assert result.rows == []


def test_parse_rejects_a_second_batch_number():
    # given
    content = make_workbook([valid_row(1), valid_row(2, 批次号="ZS2026110002")])
    # when
    error = only_error(parse(content))
    # then
    assert (error.row_number, error.column) == (3, "批次号")
    assert "一个文件只能有一个批次号" in error.message


def test_parse_rejects_duplicate_case_numbers_in_the_file():
    # given
    content = make_workbook([valid_row(1), valid_row(2), valid_row(3, 案件编号="ZS000001")])
    # when
    error = only_error(parse(content))
    # then
    assert (error.row_number, error.column) == (4, "案件编号")
    assert "与第 2 行重复" in error.message


def test_parse_names_each_missing_required_header():
    # given
    headers = [h for h in HEADERS if h not in ("证件号码", "退案日期")]
    # when
    result = parse(make_workbook([valid_row(1)], headers))
    # then
    assert [(e.row_number, e.column) for e in result.errors] == [(1, "证件号码"), (1, "退案日期")]
    assert result.errors[0].message == "缺少必填列“证件号码”"


def test_parse_rejects_duplicate_header():
    # when
    result = parse(make_workbook([valid_row(1)], [*HEADERS, "客户姓名"]))
    # then
    assert only_error(result).column == "客户姓名"


def test_parse_rejects_header_only_file():
    # when
    error = only_error(parse(make_workbook([])))
    # then
    assert "没有数据行" in error.message


def test_parse_rejects_more_rows_than_the_limit():
    # given
    content = make_workbook([valid_row(n) for n in range(1, 6)])
    # when
    error = only_error(parse(content, max_rows=4))
    # then
    assert error.row_number == 0
    assert "超过单次导入上限 4 行" in error.message


def test_parse_rows_at_the_limit_are_fine():
    # when
    result = parse(make_workbook([valid_row(n) for n in range(1, 5)]), max_rows=4)
    # then
    assert result.errors == [] and len(result.rows) == 4


# --- files that are not a genuine .xlsx -------------------------------------------------------------------


@pytest.mark.parametrize(("content", "fragment"), [
    (b"", "文件是空的"),
    ("批次号,案件编号\nZS1,1\n".encode(), "文本文件"),
    (bytes(range(256)) * 4, "不是 Excel 工作簿"),
    (OLE2_MAGIC + b"\x00" * 600 + "EncryptedPackage".encode("utf-16-le"), "已加密"),
    (OLE2_MAGIC + b"\x00" * 600 + "EncryptionInfo".encode("utf-16-le"), "已加密"),
    (OLE2_MAGIC + b"\x00" * 600 + "Workbook".encode("utf-16-le"), "97-2003"),
    (b"PK\x03\x04" + b"\x00" * 100, "已损坏"),
])
def test_parse_refuses_content_that_is_not_xlsx(content, fragment):
    # when
    error = only_error(parse(content))
    # then
    assert error.row_number == 0
    assert fragment in error.message


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_parse_refuses_a_zip_that_is_not_a_workbook():
    # given: a .docx-like package renamed to .xlsx
    content = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    # when
    error = only_error(parse(content))
    # then
    assert "xl/workbook.xml" in error.message


def _declare_size(content: bytes, member: str, size: int) -> bytes:
    """Rewrite the central directory so `member` claims `size` uncompressed bytes (a cheap zip bomb)."""
    data = bytearray(content)
    name = member.encode()
    offset = data.find(b"PK\x01\x02")
    while offset != -1:
        name_len = struct.unpack_from("<H", data, offset + 28)[0]
        if bytes(data[offset + 46:offset + 46 + name_len]) == name:
            struct.pack_into("<I", data, offset + 24, size)
            return bytes(data)
        offset = data.find(b"PK\x01\x02", offset + 4)
    raise AssertionError(member)


def test_parse_refuses_a_member_declaring_a_huge_size():
    # given
    content = _declare_size(make_workbook([valid_row(1)]), "xl/worksheets/sheet1.xml", 0xFFFFFF00)
    # when
    error = only_error(parse(content))
    # then
    assert "疑似恶意压缩文件" in error.message


def test_parse_refuses_an_absurd_compression_ratio():
    # given: 8 MB of zeros deflate to about 8 KB
    workbook = zipfile.ZipFile(io.BytesIO(make_workbook([valid_row(1)])))
    members = {i.filename: workbook.read(i) for i in workbook.infolist()}
    members["xl/media/padding.bin"] = b"\x00" * (8 * 1024 * 1024)
    # when
    error = only_error(parse(_zip(members)))
    # then
    assert "压缩比异常" in error.message


def test_parse_refuses_total_uncompressed_size_over_the_limit():
    # given
    content = make_workbook([valid_row(n) for n in range(1, 50)])
    # when
    error = only_error(parse(content, max_uncompressed_bytes=10_000))
    # then
    assert "解压后大小异常" in error.message


def test_parse_refuses_a_sheet_whose_dimension_is_too_large():
    # given
    workbook = Workbook()
    workbook.active["A1"] = "批次号"
    workbook.active["A500"] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when
    error = only_error(parse(buffer.getvalue(), max_rows=100))
    # then
    assert "超过单次导入上限 100 行" in error.message


def test_parse_reports_a_damaged_sheet_without_raising():
    # given: valid package, sheet XML cut in half
    workbook = zipfile.ZipFile(io.BytesIO(make_workbook([valid_row(1)])))
    members = {i.filename: workbook.read(i) for i in workbook.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = sheet[: len(sheet) // 2]
    # when
    result = parse(_zip(members))
    # then
    assert result.rows == [] and result.errors


# --- template -------------------------------------------------------------------------------------------


def test_template_has_every_header_and_an_instructions_sheet():
    # when
    workbook = load_workbook(io.BytesIO(build_case_template()))
    # then
    assert workbook.sheetnames == [DATA_SHEET, "填写说明"]
    assert [c.value for c in workbook[DATA_SHEET][1]] == list(HEADERS)
    guide = [[c.value for c in row] for row in workbook["填写说明"].iter_rows()]
    listed = {row[0]: row[1] for row in guide if row[0] in HEADERS}
    assert listed == {h: ("必填" if h in REQUIRED_HEADERS else "选填") for h in HEADERS}


def test_template_filled_in_parses_cleanly():
    # given
    workbook = load_workbook(io.BytesIO(build_case_template()))
    sheet = workbook[DATA_SHEET]
    sheet.append([valid_row(1)[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when
    result = parse(buffer.getvalue())
    # then
    assert result.errors == [] and len(result.rows) == 1


@pytest.mark.parametrize(("day", "expected"), [
    (dt.date(2026, 11, 1), dt.date(2026, 12, 1)), (dt.date(2026, 1, 31), dt.date(2026, 2, 28)),
    (dt.date(2028, 1, 30), dt.date(2028, 2, 29)), (dt.date(2026, 12, 15), dt.date(2027, 1, 15)),
])
def test_add_one_month_clips_to_month_end(day, expected):
    assert add_one_month(day) == expected


def test_row_error_reads_as_a_sentence():
    assert str(RowError(5, "证件号码", "校验位错误")) == "第 5 行“证件号码”：校验位错误"
    assert str(RowError(0, "", "文件已加密")) == "文件已加密"
