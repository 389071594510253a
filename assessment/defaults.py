"""The starting point of a new scorecard: a sensible set of characteristics, bins and grades that a manager
then adjusts. Pure data (no ORM). Points are integers; `None` edges are unbounded."""

from __future__ import annotations

from decimal import Decimal

from assessment.enums import CharacteristicKind as K
from assessment.enums import Decision, EdgeRule
from assessment.scoring import BinSpec, CardSpec, CharacteristicSpec, GradeSpec


def _bins(*triples: tuple[object, object, int]) -> tuple[BinSpec, ...]:
    return tuple(BinSpec(None if lo is None else Decimal(str(lo)), None if hi is None else Decimal(str(hi)), pts)
                 for lo, hi, pts in triples)


L, U = EdgeRule.LOWER_CLOSED, EdgeRule.UPPER_CLOSED

DEFAULT_CARD = CardSpec(
    base_points=50,
    income_multiple=Decimal("10"),
    characteristics=(
        CharacteristicSpec(K.AGE, L, 0, _bins((None, 22, -10), (22, 30, 5), (30, 45, 15), (45, 55, 10), (55, None, 0))),
        CharacteristicSpec(K.DTI, U, -25, _bins((None, 30, 20), (30, 50, 10), (50, 70, -5), (70, None, -25))),
        CharacteristicSpec(K.INCOME, L, 0, _bins((None, 3000, -10), (3000, 6000, 5), (6000, 12000, 12),
                                                 (12000, None, 20))),
        CharacteristicSpec(K.EMPLOYMENT_YEARS, L, 0, _bins((None, 1, -5), (1, 3, 5), (3, None, 12))),
        CharacteristicSpec(K.OVERDUE_RECORDS, L, 0, _bins((None, 1, 15), (1, 3, 0), (3, None, -25))),
        CharacteristicSpec(K.HISTORY_CASES, L, 0, _bins((None, 1, 10), (1, 2, -30), (2, None, -50))),
        CharacteristicSpec(K.HISTORY_OPEN_BALANCE, U, 0, _bins((None, 0, 0), (0, 10000, -20), (10000, None, -40))),
        CharacteristicSpec(K.HISTORY_RECOVERY_RATE, L, 0, _bins((None, 50, -20), (50, 100, -5), (100, None, 5))),
        CharacteristicSpec(K.HISTORY_COMPLAINTS, L, 0, _bins((None, 1, 0), (1, None, -10))),
    ),
    grades=(
        GradeSpec("A", 110, Decision.APPROVE, Decimal("100")),
        GradeSpec("B", 90, Decision.APPROVE_LOWER, Decimal("70")),
        GradeSpec("C", 70, Decision.REFER, Decimal("50")),
        GradeSpec("D", 50, Decision.DECLINE, Decimal("0")),
        GradeSpec("E", None, Decision.DECLINE, Decimal("0")),
    ),
)
