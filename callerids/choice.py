"""Which pool number shows on the next call (issue 17). Pure: no I/O, no Django models.

The number with the most room left today and the best recent answer rate: score = room fraction × smoothed rate.
The rate is smoothed towards the pool's own rate (PRIOR_CALLS pretend calls at the pool's rate), so a new number
or one with three lucky calls neither wins nor loses everything; the room fraction makes the numbers take turns
(rotation) instead of one number spending its whole cap first.
"""

from __future__ import annotations

from dataclasses import dataclass

PRIOR_CALLS = 20
FLOOR = 0.05  # keeps room mattering when nobody has answered yet (every smoothed rate 0)


@dataclass(frozen=True)
class Candidate:
    number_id: int
    number: str
    daily_cap: int
    attempts_today: int
    recent_attempts: int  # the last RECENT_DAYS days, today included
    recent_answered: int

    @property
    def room(self) -> int:
        return max(self.daily_cap - self.attempts_today, 0)


def smoothed_rate(answered: int, attempts: int, pool_rate: float) -> float:
    return (answered + PRIOR_CALLS * pool_rate) / (attempts + PRIOR_CALLS)


def pool_rate(candidates: list[Candidate]) -> float:
    attempts = sum(c.recent_attempts for c in candidates)
    return sum(c.recent_answered for c in candidates) / attempts if attempts else 0.0


def choose(candidates: list[Candidate]) -> Candidate | None:
    """The candidate to dial from, None when every one is at its daily cap."""
    usable = [c for c in candidates if c.room > 0]
    if not usable:
        return None
    rate = pool_rate(candidates)

    def score(c: Candidate) -> tuple[float, int, int]:
        fraction = c.room / c.daily_cap
        return (fraction * (FLOOR + smoothed_rate(c.recent_answered, c.recent_attempts, rate)), c.room, -c.number_id)

    return max(usable, key=score)
