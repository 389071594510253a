"""Compliance guard: the rules checked before every originate (issue 5). Pure: no I/O, no Django models.

The facts (the bank's policy, today's counts, the number's status) are gathered by dialer/domain.py;
`check` decides. Rules, from the agency's regulator: calls only inside the bank's calling window
(default 08:00–21:00 Asia/Shanghai, never wider than 08:00–22:00), at most N answered calls per debtor
per day (default 3) and M unanswered attempts per number per day (default 6), never a number marked
空号 or "do not call".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

EARLIEST = dt.time(8, 0)
LATEST = dt.time(22, 0)


@dataclass(frozen=True, kw_only=True)
class ComplianceFacts:
    window_start: dt.time
    window_end: dt.time
    max_answered_per_debtor: int
    max_unanswered_per_number: int
    answered_today: int  # answered calls with this debtor today (all their cases, all collectors)
    unanswered_today: int  # unanswered attempts on this number today
    blocked: str = ""  # "" or a BlockedNumberReason value: "empty" | "suspended" | "do_not_call" | "wrong_person"


# A blocked number's reason (cases BlockedNumberReason value, also the RefusalRule value) → what the collector reads.
BLOCKED_MESSAGES = {
    "empty": "该号码已标记为空号，不能拨打",
    "suspended": "该号码已标记为停机，不能拨打",
    "do_not_call": "该号码已标记为勿扰（本人要求勿扰），不能拨打",
    "wrong_person": "该号码已标记为非本人号码，不能拨打",
}


def blocked_message(reason: str) -> str:
    return BLOCKED_MESSAGES.get(reason, "该号码已标记为禁拨，不能拨打")


@dataclass(frozen=True)
class Refusal:
    rule: str  # a cases RefusalRule value
    message: str  # what the collector reads


def _fmt(t: dt.time) -> str:
    return t.strftime("%H:%M")


def check(facts: ComplianceFacts, *, local_now: dt.datetime) -> Refusal | None:
    """The first rule that forbids this call now, or None. `local_now` is Asia/Shanghai wall-clock time."""
    if facts.blocked:
        return Refusal(facts.blocked, blocked_message(facts.blocked))
    # Clamp to the legal bounds even if a policy row were wider (the DB constraint forbids it too).
    start = max(facts.window_start, EARLIEST)
    end = min(facts.window_end, LATEST)
    now = local_now.time()
    if not (start <= now < end):
        return Refusal("window", f"现在是 {now:%H:%M}，不在允许拨打时段（{_fmt(start)}–{_fmt(end)}）内")
    if facts.answered_today >= facts.max_answered_per_debtor:
        return Refusal("answered_cap", f"该债务人今天已接通 {facts.answered_today} 次，"
                                       f"达到每日上限 {facts.max_answered_per_debtor} 次")
    if facts.unanswered_today >= facts.max_unanswered_per_number:
        return Refusal("unanswered_cap", f"该号码今天已有 {facts.unanswered_today} 次未接通，"
                                         f"达到每日上限 {facts.max_unanswered_per_number} 次")
    return None
