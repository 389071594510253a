"""Scorecard arithmetic. Pure: plain dataclasses in, plain dataclasses out; no ORM, no clock.

A characteristic's value falls in exactly one bin: all bins of a characteristic share one edge rule
(left-closed [lower, upper) or right-closed (lower, upper]), the first bin starts at −∞, the last ends at +∞
and each bin starts where the one before ends. `check_bins` enforces that when a draft is saved and again
when it is published. Values are rounded to 2 decimal places (ROUND_HALF_UP) before they are placed, so the
report shows exactly the number that was compared with the edges.

Totals are integers: base points + the points of every characteristic. Grades are cut at each grade's
minimum total (A highest); E takes everything below D.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from assessment.enums import DEFINITIONS, GRADES, HISTORY_KINDS, UNITS, CharacteristicKind, Decision, EdgeRule
from assessment.identity import age_on

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
_LABELS = dict(CharacteristicKind.choices)
_DECISIONS = dict(Decision.choices)


@dataclass(frozen=True)
class BinSpec:
    lower: Decimal | None  # None: −∞
    upper: Decimal | None  # None: +∞
    points: int


@dataclass(frozen=True)
class CharacteristicSpec:
    kind: str
    edge_rule: str
    missing_points: int
    bins: tuple[BinSpec, ...]


@dataclass(frozen=True)
class GradeSpec:
    grade: str
    min_points: int | None  # None only for E
    decision: str
    limit_percent: Decimal


@dataclass(frozen=True)
class CardSpec:
    base_points: int
    income_multiple: Decimal
    characteristics: tuple[CharacteristicSpec, ...]
    grades: tuple[GradeSpec, ...]


@dataclass(frozen=True)
class ApplicantFacts:
    birth_date: dt.date
    monthly_income: Decimal
    monthly_debt_payment: Decimal
    loan_amount: Decimal
    loan_term_months: int
    employment_years: Decimal
    overdue_records: int


@dataclass(frozen=True)
class HistoryFacts:
    """The figures of the collection-history check that scorecards use (ID-number matches only)."""

    cases: int = 0
    open_cases: int = 0
    open_balance: Decimal = Decimal("0.00")
    recovery_rate: Decimal | None = None  # percent; None when nothing was ever entrusted
    complaints: int = 0


CLEAN_HISTORY = HistoryFacts()


@dataclass(frozen=True)
class ScoreLine:
    kind: str
    label: str
    value: Decimal | None
    value_text: str
    bin_text: str
    points: int
    is_history: bool
    clean_points: int


@dataclass(frozen=True)
class ScoreResult:
    base_points: int
    lines: tuple[ScoreLine, ...]
    total_points: int
    grade: str
    decision: str
    limit: Decimal
    limit_explanation: str
    clean_total_points: int
    clean_grade: str


@dataclass(frozen=True)
class Context:
    """Everything the values are computed from."""

    applicant: ApplicantFacts
    history: HistoryFacts
    as_of: dt.date


# --- values ----------------------------------------------------------------------------------------------

def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def characteristic_value(kind: str, ctx: Context) -> Decimal | None:
    """The value of `kind` for the applicant, rounded to 2 places; None when it cannot be computed."""
    a, h = ctx.applicant, ctx.history
    if kind == CharacteristicKind.AGE:
        return Decimal(age_on(a.birth_date, ctx.as_of))
    if kind == CharacteristicKind.DTI:
        if a.monthly_income <= 0:
            return None
        new_payment = a.loan_amount / Decimal(a.loan_term_months)
        return _round((a.monthly_debt_payment + new_payment) / a.monthly_income * HUNDRED)
    if kind == CharacteristicKind.INCOME:
        return _round(a.monthly_income)
    if kind == CharacteristicKind.EMPLOYMENT_YEARS:
        return _round(a.employment_years)
    if kind == CharacteristicKind.OVERDUE_RECORDS:
        return Decimal(a.overdue_records)
    if kind == CharacteristicKind.HISTORY_CASES:
        return Decimal(h.cases)
    if kind == CharacteristicKind.HISTORY_OPEN_CASES:
        return Decimal(h.open_cases)
    if kind == CharacteristicKind.HISTORY_OPEN_BALANCE:
        return _round(h.open_balance)
    if kind == CharacteristicKind.HISTORY_RECOVERY_RATE:
        return None if h.recovery_rate is None else _round(h.recovery_rate)
    if kind == CharacteristicKind.HISTORY_COMPLAINTS:
        return Decimal(h.complaints)
    raise ValueError(f"unknown characteristic {kind!r}")


def format_number(value: Decimal) -> str:
    """12345.60 → "12,345.6"; 30.00 → "30": figures as people write them."""
    text = f"{value.normalize():,f}" if value == value.to_integral_value() else f"{value:,.2f}".rstrip("0")
    return text.removesuffix(".")


def value_text(kind: str, value: Decimal | None) -> str:
    if value is None:
        return "缺失"
    return f"{format_number(value)} {UNITS.get(kind, '')}".strip()


# --- bins ------------------------------------------------------------------------------------------------

def in_bin(value: Decimal, b: BinSpec, edge_rule: str) -> bool:
    if edge_rule == EdgeRule.LOWER_CLOSED:
        return (b.lower is None or value >= b.lower) and (b.upper is None or value < b.upper)
    return (b.lower is None or value > b.lower) and (b.upper is None or value <= b.upper)


def find_bin(value: Decimal, spec: CharacteristicSpec) -> int | None:
    for index, b in enumerate(spec.bins):
        if in_bin(value, b, spec.edge_rule):
            return index
    return None


def bin_text(b: BinSpec, edge_rule: str, unit: str = "") -> str:
    """"30 ≤ 值 < 40 %" style: the exact condition, with which edge is included."""
    lower_op, upper_op = ("≤", "<") if edge_rule == EdgeRule.LOWER_CLOSED else ("<", "≤")
    suffix = f"（{unit}）" if unit else ""
    if b.lower is None and b.upper is None:
        return f"全部取值{suffix}"
    if b.lower is None:
        return f"值 {upper_op} {format_number(b.upper)}{suffix}"  # type: ignore[arg-type]
    if b.upper is None:
        return f"值 {'≥' if lower_op == '≤' else '>'} {format_number(b.lower)}{suffix}"
    return f"{format_number(b.lower)} {lower_op} 值 {upper_op} {format_number(b.upper)}{suffix}"


def check_bins(bins: Sequence[BinSpec]) -> list[str]:
    """Why `bins` (in order) do not cover every value exactly once; [] when they do."""
    problems: list[str] = []
    if not bins:
        return ["至少需要一个分箱"]
    if bins[0].lower is not None:
        problems.append(f"第 1 个分箱的下限应留空（表示负无穷），现在是 {format_number(bins[0].lower)}")
    if bins[-1].upper is not None:
        problems.append(f"最后一个分箱的上限应留空（表示正无穷），现在是 {format_number(bins[-1].upper)}")
    for index, b in enumerate(bins, start=1):
        if b.lower is not None and b.upper is not None and b.lower >= b.upper:
            problems.append(f"第 {index} 个分箱的下限 {format_number(b.lower)} 不小于上限 {format_number(b.upper)}")
        if index > 1 and b.lower is None:
            problems.append(f"只有第 1 个分箱的下限可以留空，第 {index} 个分箱缺少下限")
        if index < len(bins) and b.upper is None:
            problems.append(f"只有最后一个分箱的上限可以留空，第 {index} 个分箱缺少上限")
    for index in range(1, len(bins)):
        before, after = bins[index - 1], bins[index]
        if before.upper is not None and after.lower is not None and before.upper != after.lower:
            kind = "重叠" if after.lower < before.upper else "有空档"
            problems.append(f"第 {index} 个分箱的上限 {format_number(before.upper)} 与第 {index + 1} 个分箱的下限 "
                            f"{format_number(after.lower)} 不相等（区间{kind}）；相邻分箱应首尾相接")
    return problems


def check_grades(grades: Sequence[GradeSpec]) -> list[str]:
    problems: list[str] = []
    by_grade = {g.grade: g for g in grades}
    missing = [g for g in GRADES if g not in by_grade]
    if missing:
        return [f"缺少等级 {'、'.join(missing)} 的设置"]
    previous: GradeSpec | None = None
    for grade in GRADES[:-1]:
        spec = by_grade[grade]
        if spec.min_points is None:
            problems.append(f"等级 {grade} 需要填写最低总分")
        elif previous is not None and previous.min_points is not None and spec.min_points >= previous.min_points:
            problems.append(f"等级 {grade} 的最低总分 {spec.min_points} 应低于等级 {previous.grade} 的 "
                            f"{previous.min_points}")
        previous = spec
    for spec in grades:
        if not Decimal(0) <= spec.limit_percent <= HUNDRED:
            problems.append(f"等级 {spec.grade} 的建议额度百分比应在 0 到 100 之间")
        if spec.decision == Decision.DECLINE and spec.limit_percent != 0:
            problems.append(f"等级 {spec.grade} 建议拒绝，建议额度百分比应为 0")
    return problems


def check_card(card: CardSpec) -> list[str]:
    """Every reason `card` cannot be published; [] when it can."""
    problems: list[str] = []
    if not card.characteristics:
        problems.append("评分卡至少需要一个特征")
    if card.income_multiple <= 0:
        problems.append("月收入倍数上限应大于 0")
    for spec in card.characteristics:
        problems += [f"{_LABELS.get(spec.kind, spec.kind)}：{p}" for p in check_bins(spec.bins)]
    problems += check_grades(card.grades)
    return problems


# --- scoring ---------------------------------------------------------------------------------------------

def grade_for(total: int, grades: Sequence[GradeSpec]) -> GradeSpec:
    ordered = sorted(grades, key=lambda g: GRADES.index(g.grade))
    for spec in ordered:
        if spec.min_points is not None and total >= spec.min_points:
            return spec
    return ordered[-1]


def _points(spec: CharacteristicSpec, value: Decimal | None) -> tuple[int, str]:
    unit = UNITS.get(spec.kind, "")
    if value is None:
        return spec.missing_points, "缺失值"
    index = find_bin(value, spec)
    if index is None:  # cannot happen for a checked card; kept explicit rather than silently zero
        raise ValueError(f"{spec.kind} 的值 {value} 未落入任何分箱")
    b = spec.bins[index]
    return b.points, bin_text(b, spec.edge_rule, unit)


def recommended_limit(*, grade: GradeSpec, loan_amount: Decimal, monthly_income: Decimal,
                      income_multiple: Decimal) -> tuple[Decimal, str]:
    """Requested amount × the grade's percentage, capped at monthly income × multiple, rounded down to
    whole hundreds of yuan; 0 when the grade's decision is to decline. Returns the limit and how."""
    if grade.decision == Decision.DECLINE:
        return Decimal("0.00"), f"等级 {grade.grade} 建议拒绝，额度为 0"
    by_request = _round(loan_amount * grade.limit_percent / HUNDRED)
    cap = _round(monthly_income * income_multiple)
    chosen = min(by_request, cap)
    limit = (chosen / HUNDRED).to_integral_value(rounding=ROUND_DOWN) * HUNDRED
    limit = limit.quantize(CENT)
    explanation = (f"申请金额 {loan_amount:,.2f} × {format_number(grade.limit_percent)}% = {by_request:,.2f}；"
                   f"月收入 {monthly_income:,.2f} × {format_number(income_multiple)} 倍 = {cap:,.2f}（上限）；"
                   f"取较小者 {chosen:,.2f}，向下取整到百元：{limit:,.2f} 元")
    return limit, explanation


def score(card: CardSpec, ctx: Context) -> ScoreResult:
    """Score the applicant of `ctx` on `card`, and again as if the agency held no collection record."""
    clean_ctx = Context(applicant=ctx.applicant, history=CLEAN_HISTORY, as_of=ctx.as_of)
    lines: list[ScoreLine] = []
    for spec in card.characteristics:
        value = characteristic_value(spec.kind, ctx)
        points, where = _points(spec, value)
        is_history = spec.kind in HISTORY_KINDS
        clean_points = _points(spec, characteristic_value(spec.kind, clean_ctx))[0] if is_history else points
        lines.append(ScoreLine(kind=spec.kind, label=_LABELS.get(spec.kind, spec.kind), value=value,
                               value_text=value_text(spec.kind, value), bin_text=where, points=points,
                               is_history=is_history, clean_points=clean_points))
    total = card.base_points + sum(line.points for line in lines)
    clean_total = card.base_points + sum(line.clean_points for line in lines)
    grade = grade_for(total, card.grades)
    limit, explanation = recommended_limit(grade=grade, loan_amount=ctx.applicant.loan_amount,
                                           monthly_income=ctx.applicant.monthly_income,
                                           income_multiple=card.income_multiple)
    return ScoreResult(base_points=card.base_points, lines=tuple(lines), total_points=total, grade=grade.grade,
                       decision=grade.decision, limit=limit, limit_explanation=explanation,
                       clean_total_points=clean_total, clean_grade=grade_for(clean_total, card.grades).grade)


def decision_label(decision: str) -> str:
    return _DECISIONS.get(decision, decision)


def definition(kind: str) -> str:
    return DEFINITIONS.get(kind, "")
