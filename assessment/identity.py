"""What a resident ID number says about its holder: birth date, sex, age. Pure (no ORM).

Validity is checked by `cases.validators.id_number_error` (GB 11643); this module only reads a valid one.
"""

from __future__ import annotations

import datetime as dt

from cases.validators import id_check_digit


def birth_date_of(id_number: str) -> dt.date:
    """The birth date in the number; ValueError when it is not a real date."""
    if len(id_number) == 18:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    if len(id_number) == 15:  # old numbers carry a two-digit year of the 1900s
        return dt.date(1900 + int(id_number[6:8]), int(id_number[8:10]), int(id_number[10:12]))
    raise ValueError(id_number)


def sex_of(id_number: str) -> str:
    """"M" or "F": the sequence digit (17th, or the 15th of an old number) is odd for men."""
    digit = id_number[16] if len(id_number) == 18 else id_number[14]
    return "M" if int(digit) % 2 == 1 else "F"


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years on `day` (a person born on 29 February turns a year older on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def id_number_variants(id_number: str) -> list[str]:
    """The number and its other form: an 18-digit number of someone born in the 1900s and its old 15-digit
    form name the same person, and banks' files carry either."""
    variants = [id_number]
    if len(id_number) == 18 and id_number[6:8] == "19":
        variants.append(id_number[:6] + id_number[8:17])
    elif len(id_number) == 15 and id_number.isdigit():
        first17 = id_number[:6] + "19" + id_number[6:]
        variants.append(first17 + id_check_digit(first17))
    return variants
