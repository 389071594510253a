"""Targets, rankings and collector commission (issue 18): a domain above `cases/`, reaching it through its
selectors and actions."""

from __future__ import annotations

from performance.models.commission import (
    CollectorStatement,
    CommissionScheme,
    CommissionTier,
    SchemeKind,
    StatementLine,
)
from performance.models.targets import Target, TargetScope

__all__ = ["CollectorStatement", "CommissionScheme", "CommissionTier", "SchemeKind", "StatementLine", "Target",
           "TargetScope"]
