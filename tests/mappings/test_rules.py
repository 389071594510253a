"""Value rules and header detection of a bank's file, without the database."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from cases.imports.excel import RowProblem
from mappings.imports import rules
from mappings.imports.headers import compare_layout, detect_header, propose
from mappings.imports.reading import UnreadableFile, decode_text, open_sheet
from mappings.imports.spec import DMY, MDY, WAN, YMD, YUAN
from tests.mappings.banks import id18

LIMITS = {"max_rows": 1000, "max_uncompressed_bytes": 50 * 1024 * 1024}


@pytest.mark.parametrize(("unit", "cell", "read"), [
    (YUAN, "(1,234.50)", "-1234.50"), (YUAN, "（88）", "-88"), (YUAN, "12.5万元", "125000.0"), (YUAN, "3万", "30000"),
    (WAN, 1.5, "15000.0"), (WAN, "1.23456", "12345.60000"), (WAN, 2, "20000"), (YUAN, "1,234.50元", "1,234.50元"),
    (YUAN, 99.5, 99.5),
])
def test_money_rule_reads_wan_and_bracketed_negatives(unit, cell, read):
    assert rules.money(unit)(cell) == read


@pytest.mark.parametrize(("order", "cell", "read"), [
    (YMD, "2026-09-01 00:00:00", "2026-09-01"), (YMD, "2026/9/1", "2026/9/1"), (DMY, "1/9/2026", "2026-09-01"),
    (MDY, "9/1/2026", "2026-09-01"), (DMY, "２５/１２/２０２６", "2026-12-25"), (YMD, 46266, 46266),
])
def test_date_rule_drops_the_time_and_reads_day_or_month_first(order, cell, read):
    assert rules.date(order)(cell) == read


def test_id_rule_upgrades_15_digits_and_upper_cases_x():
    # given
    full = id18(7)
    # when / then
    assert rules.id_number(full[:6] + full[8:17]) == full
    assert rules.id_number(int(full[:6] + full[8:17])) == full
    assert rules.id_number("21010219850615003x") == "21010219850615003X"


def test_phone_lists_split_on_commas_semicolons_spaces_and_slashes():
    assert rules.phones("138-1234-5678，13912345678; 024-23801234 / 13912345678") == [
        "13812345678", "13912345678", "024-23801234"]
    with pytest.raises(RowProblem, match="“1390000”无效"):
        rules.phones("13812345678 1390000")


@pytest.mark.parametrize(("cell", "pair"), [
    ("李四（配偶）", ("李四", "配偶")), ("配偶：李四", ("李四", "配偶")), ("李四/朋友", ("李四", "朋友")),
    ("张三 老乡", ("张三", "老乡")), ("王五", ("王五", "")),
])
def test_name_relation_pairs(cell, pair):
    assert rules.name_relation(cell) == pair


def test_contact_list_in_one_cell():
    assert rules.contact_entries("李四 配偶 13900001111；王五(朋友)137-0000-1111, 13600001111\n赵六") == [
        ("李四", "配偶", ["13900001111"]), ("王五", "朋友", ["13700001111", "13600001111"]), ("赵六", "", [])]


def _xlsx(rows, merges=()):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for merge in merges:
        sheet.merge_cells(merge)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_header_under_a_title_and_a_merged_group_heading_is_put_together():
    # given: a title merged across the sheet, "客户" over two columns, 合同号 merged down two rows
    content = _xlsx([["某银行委外清单"], ["合同号", "客户", None, "金额"], [None, "姓名", "手机", None],
                     ["HT1", "张三", "13800000001", 100]], merges=("A1:D1", "A2:A3", "B2:C2", "D2:D3"))
    sheet = open_sheet(content, **LIMITS)
    # when
    header = detect_header(sheet.head, sheet.merges)
    # then
    assert (header.top, header.row, header.first_data_row_number) == (1, 2, 4)
    assert header.labels == ["合同号", "客户·姓名", "客户·手机", "金额"]
    assert [c.target for c in propose(kind="cases", labels=header.labels).columns] == [
        "案件编号", "客户姓名", "手机号码", "委案金额"]


def test_duplicate_headers_are_told_apart_and_a_second_mobile_is_another_phone():
    sheet = open_sheet(_xlsx([["姓名", "手机", "手机", ""], ["张三", "13800000001", "13800000002", "x"]]), **LIMITS)
    header = detect_header(sheet.head, sheet.merges)
    assert header.labels == ["姓名", "手机", "手机（2）", "（D 列）"]
    assert [c.target for c in propose(kind="cases", labels=header.labels).columns] == [
        "客户姓名", "手机号码", "其他电话", "__extra__"]


def test_csv_encodings_are_recognised():
    assert decode_text("姓名,金额".encode("gbk")) == ("姓名,金额", "GBK/GB18030")
    assert decode_text("\ufeff姓名,金额".encode()) == ("姓名,金额", "UTF-8")
    assert decode_text("姓名\t金额".encode("utf-16")) == ("姓名\t金额", "UTF-16")


def test_a_program_renamed_to_csv_is_refused():
    with pytest.raises(UnreadableFile, match="不是 Excel 工作簿"):
        open_sheet(b"MZ\x90\x00" + b"\x00" * 64, **LIMITS)


def test_layouts_compare_by_header_not_by_position():
    assert compare_layout(["姓名", "手机"], ["手机", "姓名"]).same
    diff = compare_layout(["姓名", "手机"], ["姓名", "电话"])
    assert (diff.missing, diff.added) == (["手机"], ["电话"])
