"""Writes of the accounts layer: the audit log writer used by every app.

Must not import `cases` or `realtime`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.models import AuditAction, AuditEntry, User

if TYPE_CHECKING:
    from django.http import HttpRequest

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # Behind the reverse proxy the proxy sets X-Real-IP; directly served requests use REMOTE_ADDR.
    return request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: User | None,
    action: AuditAction,
    summary: str,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, JsonValue] | None = None,
    request: HttpRequest | None = None,
    actor_name: str | None = None,
) -> AuditEntry:
    """Append one entry to the audit log.

    Emits: nothing.
    Raises: nothing.
    """
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
        ip_address=client_ip(request),
    )
