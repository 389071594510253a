"""Targets, rankings and collector commission (issue 18): a domain above `cases/`, reaching it through its
selectors and actions."""

from __future__ import annotations

from performance.models.targets import Target, TargetScope

__all__ = ["Target", "TargetScope"]
