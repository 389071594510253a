"""One masking rule for the customer's numbers wherever they leave the database, per role.

A role sees the numbers whole or masked (accounts.selectors.sees_full_id_numbers: clerks, managers and system
admins whole; collectors masked), and the same `Masker` writes them on the case page and case list, in the visit
form (Word and PDF share one context), in the full download (zip) and in the exports:

- 证件号码 110101********1234 (region and the last four), 卡号 622202******1234 (the issuer's six and the last
  four, as banks print them), 电话 138****5678 (landlines keep their area code and last four).

Pure apart from reading the user's roles; must not import views, actions or selectors.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import User
from accounts.selectors import sees_full_id_numbers
from cases.models.cases import mask_card_no, mask_id_number, mask_phone


@dataclass(frozen=True)
class Masker:
    """Shows numbers whole (`full`) or masked; empty values stay empty."""

    full: bool

    def id_number(self, value: str) -> str:
        return value if self.full or not value else mask_id_number(value)

    def card_no(self, value: str) -> str:
        return value if self.full or not value else mask_card_no(value)

    def phone(self, value: str) -> str:
        return value if self.full or not value else mask_phone(value)


FULL = Masker(full=True)
MASKED = Masker(full=False)


def masker_for(user: User) -> Masker:
    """The masking rule of `user`'s roles."""
    return FULL if sees_full_id_numbers(user) else MASKED
