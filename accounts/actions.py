"""Writes of the accounts layer: the audit log writer used by every app.

Must not import `cases` or `realtime`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from accounts.models import AuditAction, AuditEntry, User
from accounts.origin import client_ip, current_origin, origin_of

if TYPE_CHECKING:
    from django.http import HttpRequest

__all__ = ["JsonValue", "audit_record", "client_ip"]

# Read-only containers (covariant): a detail built as dict[str, list[str]] is JSON too.
JsonValue = str | int | float | bool | None | Sequence["JsonValue"] | Mapping[str, "JsonValue"]


def audit_record(
    *,
    actor: User | None,
    action: AuditAction,
    summary: str,
    object_type: str = "",
    object_id: str | int = "",
    detail: Mapping[str, JsonValue] | None = None,
    request: HttpRequest | None = None,
    actor_name: str | None = None,
) -> AuditEntry:
    """Append one entry to the audit log, with the IP address and user agent of the request being served.

    The origin comes from `request` when given, else from the request or websocket message being handled
    (accounts.origin): every entry made while serving someone carries it, however deep the call.

    Emits: nothing.
    Raises: nothing.
    """
    origin = origin_of(request) if request is not None else current_origin()
    if actor_name is None:
        actor_name = actor.display_name if actor is not None else ""
    return AuditEntry.objects.create(
        actor=actor,
        actor_name=actor_name[:150],
        action=action,
        summary=summary[:500],
        object_type=object_type,
        object_id=str(object_id),
        detail=detail or {},
        ip_address=origin.ip if origin is not None else None,
        user_agent=origin.user_agent if origin is not None else "",
    )
