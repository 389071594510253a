"""Errors of the caller-ID pool; messages are what the admin or the collector reads (Chinese)."""

from __future__ import annotations

from cases.exceptions import DomainError


class CallerNumberError(DomainError):
    """An admin's change to the pool that cannot be made (the message says why)."""


class CallerNumbersExhaustedError(DomainError):
    """No number of the pool may place another call today (every usable number at its daily cap, or none usable)."""
