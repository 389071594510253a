from __future__ import annotations

from cases.exceptions import DomainError


class TargetError(DomainError):
    """A target that cannot be set (bad month, amount or subject)."""


class CommissionError(DomainError):
    """A commission scheme or statement change the rules refuse."""
