"""Compliance guard: the rules checked before every originate (issue 5). Pure: no I/O, no Django models.

The facts (the bank's policy, today's counts, the number's status) are gathered by dialer/domain.py;
`check` decides. Rules, from the agency's regulator: calls only inside the bank's calling window
(default 08:00–21:00 Asia/Shanghai, never wider than 08:00–22:00), at most N answered calls per debtor
per day (default 3) and M unanswered attempts per number per day (default 6), never a number marked
空号 or "do not call". A third party (配偶, 亲属, 同事, 朋友…: any number of the case that is not the debtor's
own) only after the debtor's own numbers went unanswered N times that day (per bank, default 3), at most M
answered third-party calls per case per day (default 1), and never a contact marked 拒绝联系 (issue 17).
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
    #   | "contact_refused"
    # The third-party rule (issue 17): who the number belongs to, and the day's counts on the case.
    third_party: bool = False  # the number is a contact's other than the debtor's own
    party_label: str = ""  # the contact as the collector knows them ("配偶 张三"), for the message
    debtor_unanswered_today: int = 0  # unanswered attempts today on the debtor's own numbers (any collector)
    third_party_after_unanswered: int = 3  # N
    third_party_answered_today: int = 0  # answered third-party calls on this case today
    max_third_party_answered_per_case: int = 1  # M


# A blocked number's reason (cases BlockedNumberReason value, also the RefusalRule value) → what the collector reads.
BLOCKED_MESSAGES = {
    "empty": "该号码已标记为空号，不能拨打",
    "suspended": "该号码已标记为停机，不能拨打",
    "do_not_call": "该号码已标记为勿扰（本人要求勿扰），不能拨打",
    "wrong_person": "该号码已标记为非本人号码，不能拨打",
    "contact_refused": "该联系人已明确拒绝联系，不能拨打",
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
        message = blocked_message(facts.blocked)
        if facts.blocked == "contact_refused" and facts.party_label:
            message = f"该联系人（{facts.party_label}）已明确拒绝联系，不能拨打"
        return Refusal(facts.blocked, message)
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
    if facts.third_party:
        who = f"第三方联系人（{facts.party_label}）" if facts.party_label else "第三方联系人"
        if facts.debtor_unanswered_today < facts.third_party_after_unanswered:
            return Refusal("third_party_wait",
                           f"本人号码今天未接通 {facts.debtor_unanswered_today} 次，须先拨打本人号码未接通满 "
                           f"{facts.third_party_after_unanswered} 次，才能联系{who}")
        if facts.third_party_answered_today >= facts.max_third_party_answered_per_case:
            return Refusal("third_party_cap",
                           f"该委案今天已接通第三方联系人 {facts.third_party_answered_today} 次，"
                           f"达到每日上限 {facts.max_third_party_answered_per_case} 次，不能再联系{who}")
    return None
