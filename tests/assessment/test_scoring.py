"""Scorecard arithmetic (pure): bins at their edges under both edge rules, gaps and overlaps, grade cut-offs,
the limit rule, characteristic values, totals and the no-history counterfactual."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from assessment.defaults import DEFAULT_CARD
from assessment.enums import CharacteristicKind as K
from assessment.enums import Decision, EdgeRule
from assessment.identity import age_on, birth_date_of, id_number_variants, sex_of
from assessment.scoring import (
    ApplicantFacts,
    BinSpec,
    CardSpec,
    CharacteristicSpec,
    Context,
    GradeSpec,
    HistoryFacts,
    bin_text,
    characteristic_value,
    check_bins,
    check_card,
    find_bin,
    grade_for,
    recommended_limit,
    score,
)
from cases.validators import id_check_digit

THREE = (BinSpec(None, D("30"), 20), BinSpec(D("30"), D("50"), 10), BinSpec(D("50"), None, -5))
GRADES = (
    GradeSpec("A", 100, Decision.APPROVE, D("100")),
    GradeSpec("B", 80, Decision.APPROVE_LOWER, D("70")),
    GradeSpec("C", 60, Decision.REFER, D("50")),
    GradeSpec("D", 40, Decision.DECLINE, D("0")),
    GradeSpec("E", None, Decision.DECLINE, D("0")),
)


def facts(**overrides) -> ApplicantFacts:
    values = {"birth_date": dt.date(1990, 6, 15), "monthly_income": D("10000"), "monthly_debt_payment": D("1000"),
              "loan_amount": D("36000"), "loan_term_months": 36, "employment_years": D("5"), "overdue_records": 0}
    values.update(overrides)
    return ApplicantFacts(**values)


@pytest.mark.parametrize(("value", "expected"), [
    ("-1000", 0), ("29.99", 0), ("30", 1), ("30.00", 1), ("49.99", 1), ("50", 2), ("50.01", 2), ("1e6", 2),
])
def test_find_bin_lower_closed_puts_each_edge_in_the_bin_above(value, expected):
    # given
    spec = CharacteristicSpec(K.DTI, EdgeRule.LOWER_CLOSED, 0, THREE)
    # when / then
    assert find_bin(D(value), spec) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("29.99", 0), ("30", 0), ("30.01", 1), ("50", 1), ("50.01", 2),
])
def test_find_bin_upper_closed_puts_each_edge_in_the_bin_below(value, expected):
    # given
    spec = CharacteristicSpec(K.DTI, EdgeRule.UPPER_CLOSED, 0, THREE)
    # when / then
    assert find_bin(D(value), spec) == expected


def test_bin_text_names_which_edge_is_included():
    assert bin_text(THREE[1], EdgeRule.LOWER_CLOSED, "%") == "30 ≤ 值 < 50（%）"
    assert bin_text(THREE[1], EdgeRule.UPPER_CLOSED) == "30 < 值 ≤ 50"
    assert bin_text(THREE[0], EdgeRule.UPPER_CLOSED) == "值 ≤ 30"
    assert bin_text(THREE[2], EdgeRule.LOWER_CLOSED) == "值 ≥ 50"
    assert bin_text(THREE[2], EdgeRule.UPPER_CLOSED) == "值 > 50"


def test_check_bins_accepts_contiguous_bins_from_minus_to_plus_infinity():
    assert check_bins(THREE) == []
    assert check_bins((BinSpec(None, None, 3),)) == []


@pytest.mark.parametrize(("bins", "fragment"), [
    ((BinSpec(None, D("30"), 1), BinSpec(D("40"), None, 2)), "有空档"),
    ((BinSpec(None, D("30"), 1), BinSpec(D("20"), None, 2)), "重叠"),
    ((BinSpec(D("0"), D("30"), 1), BinSpec(D("30"), None, 2)), "第 1 个分箱的下限应留空"),
    ((BinSpec(None, D("30"), 1), BinSpec(D("30"), D("90"), 2)), "最后一个分箱的上限应留空"),
    ((BinSpec(None, D("30"), 1), BinSpec(D("30"), D("30"), 2), BinSpec(D("30"), None, 3)), "不小于上限"),
    ((), "至少需要一个分箱"),
])
def test_check_bins_explains_gaps_overlaps_and_open_ends(bins, fragment):
    # when
    problems = check_bins(bins)
    # then
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(("total", "grade"), [(100, "A"), (99, "B"), (80, "B"), (79, "C"), (60, "C"), (40, "D"),
                                              (39, "E"), (-500, "E"), (1000, "A")])
def test_grade_for_cuts_at_each_minimum_inclusive(total, grade):
    assert grade_for(total, GRADES).grade == grade


def test_check_card_refuses_cut_offs_out_of_order_and_declines_with_a_limit():
    # given
    grades = (GradeSpec("A", 50, Decision.APPROVE, D("100")), GradeSpec("B", 80, Decision.APPROVE, D("100")),
              GradeSpec("C", 30, Decision.REFER, D("50")), GradeSpec("D", 10, Decision.DECLINE, D("10")),
              GradeSpec("E", None, Decision.DECLINE, D("0")))
    card = CardSpec(0, D("10"), (CharacteristicSpec(K.AGE, EdgeRule.LOWER_CLOSED, 0, THREE),), grades)
    # when
    problems = check_card(card)
    # then
    assert any("等级 B 的最低总分 80 应低于等级 A 的 50" in p for p in problems)
    assert any("等级 D 建议拒绝，建议额度百分比应为 0" in p for p in problems)
    assert check_card(DEFAULT_CARD) == []


def test_recommended_limit_takes_the_smaller_of_percentage_and_income_cap_rounded_down_to_hundreds():
    # given: 70% of 100,000 = 70,000; income cap 6,543.21 × 10 = 65,432.10
    grade = GRADES[1]
    # when
    limit, how = recommended_limit(grade=grade, loan_amount=D("100000"), monthly_income=D("6543.21"),
                                   income_multiple=D("10"))
    # then
    assert limit == D("65400.00")
    assert "65,432.10" in how and "70,000.00" in how and "65,400.00" in how


def test_recommended_limit_is_zero_when_the_grade_declines():
    assert recommended_limit(grade=GRADES[4], loan_amount=D("1000"), monthly_income=D("9000"),
                             income_multiple=D("5"))[0] == D("0.00")


def test_characteristic_values_follow_their_definitions():
    # given: (1,000 + 36,000 / 36) / 10,000 = 20.00 %
    ctx = Context(applicant=facts(), as_of=dt.date(2026, 6, 14),
                  history=HistoryFacts(cases=3, open_cases=1, open_balance=D("1234.565"), recovery_rate=D("33.333"),
                                       complaints=2))
    # then
    assert characteristic_value(K.AGE, ctx) == 35  # birthday tomorrow
    assert characteristic_value(K.DTI, ctx) == D("20.00")
    assert characteristic_value(K.HISTORY_CASES, ctx) == 3
    assert characteristic_value(K.HISTORY_OPEN_BALANCE, ctx) == D("1234.57")
    assert characteristic_value(K.HISTORY_RECOVERY_RATE, ctx) == D("33.33")
    assert characteristic_value(K.HISTORY_COMPLAINTS, ctx) == 2


def test_characteristic_value_is_missing_without_income_or_history():
    ctx = Context(applicant=facts(monthly_income=D("0")), history=HistoryFacts(), as_of=dt.date(2026, 1, 1))
    assert characteristic_value(K.DTI, ctx) is None
    assert characteristic_value(K.HISTORY_RECOVERY_RATE, ctx) is None


def test_score_adds_base_and_every_line_and_explains_each():
    # given
    card = CardSpec(10, D("10"), (
        CharacteristicSpec(K.DTI, EdgeRule.UPPER_CLOSED, -99, THREE),
        CharacteristicSpec(K.HISTORY_CASES, EdgeRule.LOWER_CLOSED, 0,
                           (BinSpec(None, D("1"), 50), BinSpec(D("1"), None, -40))),
        CharacteristicSpec(K.HISTORY_RECOVERY_RATE, EdgeRule.LOWER_CLOSED, 7,
                           (BinSpec(None, D("50"), -20), BinSpec(D("50"), None, 0))),
    ), GRADES)
    ctx = Context(applicant=facts(monthly_debt_payment=D("2000")), as_of=dt.date(2026, 1, 1),
                  history=HistoryFacts(cases=1, open_cases=1, open_balance=D("500"), recovery_rate=D("10")))
    # when: DTI (2,000 + 1,000) / 10,000 = 30.00 % sits on the edge and is in the first bin (upper-closed)
    result = score(card, ctx)
    # then
    assert [line.points for line in result.lines] == [20, -40, -20]
    assert result.total_points == 10 + 20 - 40 - 20 == -30
    assert result.grade == "E" and result.decision == Decision.DECLINE and result.limit == 0
    assert result.lines[0].value_text == "30 %" and result.lines[0].bin_text == "值 ≤ 30（%）"
    assert [line.clean_points for line in result.lines] == [20, 50, 7]  # no record: 0 cases, rate missing
    assert result.clean_total_points == 87 and result.clean_grade == "B"
    assert [line.is_history for line in result.lines] == [False, True, True]


def test_identity_reads_birth_sex_and_old_number_forms():
    # given
    first17 = "21010219850615122"
    number = first17 + id_check_digit(first17)
    # then
    assert birth_date_of(number) == dt.date(1985, 6, 15)
    assert sex_of(number) == "F"  # the 17th digit, 2, is even
    assert id_number_variants(number) == [number, "210102850615122"]
    assert id_number_variants("210102850615122") == ["210102850615122", number]
    assert age_on(dt.date(2000, 2, 29), dt.date(2018, 2, 28)) == 17
    assert age_on(dt.date(2000, 2, 29), dt.date(2018, 3, 1)) == 18
