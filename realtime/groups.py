"""Channel-layer group names: the only place group strings are formed.

Names are ASCII letters, digits, hyphens and periods, short (channels allows fewer than 100 characters).
Must not import models.
"""

from __future__ import annotations

import hashlib
import re

_VALID = re.compile(r"^[A-Za-z0-9.\-]{1,90}$")


def _name(*parts: object) -> str:
    name = ".".join(str(p) for p in parts)
    if not _VALID.match(name):
        raise ValueError(f"invalid group name {name!r}")
    return name


def _id(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"group ids are positive integers, got {value!r}")
    return value


def is_valid(name: str) -> bool:
    return bool(_VALID.match(name))


def is_broadcast(name: str) -> bool:
    """Groups that many sockets of one process watch and that carry only events nobody stores (the managers'
    dashboards, the lines board): a process joins them once and writes each event to its sockets itself
    (realtime.fanout)."""
    return name == lines() or name.startswith("dashboard.")


def user(user_id: int) -> str:
    """Everything for one person, in every tab they have open."""
    return _name("user", _id(user_id))


def collector(collector_id: int) -> str:
    return _name("collector", _id(collector_id))


def case(case_id: int) -> str:
    return _name("case", _id(case_id))


def chat(room_id: int) -> str:
    return _name("chat", _id(room_id))


def dashboard_all() -> str:
    return _name("dashboard", "all")


def dashboard_branch(branch_id: int) -> str:
    return _name("dashboard", "branch", _id(branch_id))


def dashboard_department(department_id: int) -> str:
    return _name("dashboard", "department", _id(department_id))


def lines() -> str:
    """The lines board (M7): whoever watches the outside lines live."""
    return _name("lines")


def account(user_id: int) -> str:
    """Control messages about one person's access (deactivated, password reset, a case taken away): every
    websocket of theirs listens, whatever page it serves."""
    return _name("account", _id(user_id))


def session(session_key: str) -> str:
    """Every websocket opened with one login session (closed together when it ends). The key itself never
    reaches the channel layer: only a digest of it."""
    if not session_key:
        raise ValueError("a session group needs a session key")
    return _name("session", hashlib.sha256(session_key.encode()).hexdigest()[:40])
