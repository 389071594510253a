"""Errors of the collector's day; each carries the Chinese message a view shows."""

from __future__ import annotations

from cases.exceptions import DomainError


class CallbackError(DomainError):
    pass


class SettingsError(DomainError):
    pass
