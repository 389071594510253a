"""Progressive dialling's pacing (连续外呼, issue 17): which of the collectors who are free get a line now. Pure.

Collector-first: the dialer rings the collector's phone and dials the customer only once they have answered, so
no customer ever waits for a free collector (no abandoned calls) and each collector in a session holds at most one
line. The lines are shared fairly: when fewer lines are free than collectors are waiting, the one free the
longest goes first. Click-to-call and inbound calls keep priority: a session never takes the last
`reserve` free lines, which stay for a collector's own click or a debtor calling in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Waiting:
    session_id: int
    extension: str
    since: dt.datetime | None  # free since (the end of their wrap-up)


def free_for_sessions(*, lines: int, in_use: int, reserve: int) -> int:
    """Lines a session may take now: the free ones minus those kept for click-to-call and inbound."""
    return max(0, lines - in_use - max(0, reserve))


def pick(waiting: Iterable[Waiting], *, lines: int, in_use: int, reserve: int,
         busy_extensions: set[str]) -> list[Waiting]:
    """The sessions to place a call for now, longest-waiting first, one per collector, within the free lines."""
    room = free_for_sessions(lines=lines, in_use=in_use, reserve=reserve)
    if room <= 0:
        return []
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    chosen: list[Waiting] = []
    seen: set[str] = set(busy_extensions)
    for w in sorted(waiting, key=lambda w: (w.since or never, w.session_id)):
        if w.extension in seen:
            continue  # already on a call (theirs or an inbound one), or a second session on one phone
        seen.add(w.extension)
        chosen.append(w)
        if len(chosen) == room:
            break
    return chosen
