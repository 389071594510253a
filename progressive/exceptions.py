"""Errors of progressive dialling; each carries the Chinese message a view shows."""

from __future__ import annotations

from cases.exceptions import DomainError


class SessionError(DomainError):
    pass
