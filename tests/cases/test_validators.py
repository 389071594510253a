"""ID number (GB 11643) and phone checks shared by the import and the forms."""

from __future__ import annotations

import pytest

from cases.validators import (
    id_check_digit,
    id_number_error,
    is_landline,
    is_mobile,
    normalize_id_number,
    normalize_phone,
    normalize_width,
)


@pytest.mark.parametrize(("first17", "check"), [
    ("11010519491231002", "X"),  # the example printed in GB 11643-1999
    ("44052418800101001", "4"),
    ("21010219850615001", "9"),
])
def test_id_check_digit_follows_gb_11643(first17, check):
    assert id_check_digit(first17) == check


@pytest.mark.parametrize("value", ["11010519491231002X", "440524188001010014", "210102850615001"])
def test_id_number_error_accepts_valid_numbers(value):
    assert id_number_error(value) is None


@pytest.mark.parametrize(("value", "fragment"), [
    ("110105194912310021", "校验位错误（最后一位应为 X）"),
    ("11010519491231002", "应为 18 位"),
    ("1101051949123100211", "应为 18 位"),
    ("11010519491331002X", "出生日期"),
    ("1101051949123100AX", "前 17 位必须是数字"),
    ("21010285061500X", "15 位旧身份证号码必须全部是数字"),
])
def test_id_number_error_explains_the_problem(value, fragment):
    assert fragment in id_number_error(value)


def test_normalize_id_number_handles_full_width_and_lowercase():
    assert normalize_id_number(" １１０１０５１９４９１２３１００２ｘ ") == "11010519491231002X"


@pytest.mark.parametrize(("raw", "expected"), [
    ("138 1234 5678", "13812345678"), ("+8613812345678", "13812345678"), ("8613812345678", "13812345678"),
    ("(024)23801234", "024-23801234"), ("１３８１２３４５６７８", "13812345678"),
])
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(("value", "mobile", "landline"), [
    ("13812345678", True, False), ("19912345678", True, False), ("12812345678", False, False),
    ("1381234567", False, False), ("024-23801234", False, True), ("02423801234", False, True),
    ("0411-82605678-123", False, True), ("23801234", False, False),
])
def test_phone_kinds(value, mobile, landline):
    assert (is_mobile(value), is_landline(value)) == (mobile, landline)


def test_normalize_width_strips_ideographic_spaces():
    assert normalize_width("\u3000１２３\u3000") == "123"
