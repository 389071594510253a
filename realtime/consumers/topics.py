"""Topics a page may subscribe its websocket to, beyond the user's own group, each checked by policy.

A topic is written `<name>` or `<name>:<arg>` (e.g. `case:12`, `dashboard`, `dashboard:branch:3`). A
resolver turns (user, arg) into the groups to join, or raises TopicForbidden when the user may not see
it: a user who may not see a case or a chat room never receives its events. Other areas register their
topics with `@topic("<name>")` in their own consumer module (imported by realtime/routing.py).

Resolvers are synchronous (they query); the consumer runs them in a thread.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404

from accounts.models import User
from cases.policies import access_case
from cases.selectors.dashboards import can_view_dashboard
from realtime import groups

Resolver = Callable[[User, str], list[str]]

TOPICS: dict[str, Resolver] = {}

# At most this many topics per connection: a page subscribes to a handful, never hundreds.
MAX_TOPICS = 20


class TopicForbidden(Exception):
    """The user may not subscribe to this topic (the websocket closes with 4403)."""


def topic(name: str) -> Callable[[Resolver], Resolver]:
    def decorate(resolver: Resolver) -> Resolver:
        TOPICS[name] = resolver
        return resolver

    return decorate


def parse_topics(raw: str) -> list[str]:
    """Topics from a comma- or space-separated query value, de-duplicated, order kept."""
    items = [t.strip() for t in raw.replace(" ", ",").split(",") if t.strip()]
    unique = list(dict.fromkeys(items))
    if len(unique) > MAX_TOPICS:
        raise TopicForbidden(f"too many topics ({len(unique)})")
    return unique


def resolve_topic(user: User, spec: str) -> list[str]:
    name, _, arg = spec.partition(":")
    resolver = TOPICS.get(name)
    if resolver is None:
        raise TopicForbidden(f"unknown topic {name!r}")
    return resolver(user, arg)


def _positive_int(arg: str) -> int:
    if not arg.isdigit() or int(arg) <= 0:
        raise TopicForbidden(f"bad id {arg!r}")
    return int(arg)


@topic("case")
def _case_topic(user: User, arg: str) -> list[str]:
    case_id = _positive_int(arg)
    try:
        access_case(user=user, case_id=case_id)
    except Http404 as exc:
        raise TopicForbidden(f"case {case_id} not visible") from exc
    return [groups.case(case_id)]


@topic("lines")
def _lines_topic(user: User, arg: str) -> list[str]:
    if not can_view_dashboard(user=user):
        raise TopicForbidden("the lines board is for managers")
    return [groups.lines()]


@topic("dashboard")
def _dashboard_topic(user: User, arg: str) -> list[str]:
    if not can_view_dashboard(user=user):
        raise TopicForbidden("dashboard is for managers")
    kind, _, raw_id = arg.partition(":")
    if kind == "":
        return [groups.dashboard_all()]
    if kind == "branch":
        return [groups.dashboard_branch(_positive_int(raw_id))]
    if kind == "department":
        return [groups.dashboard_department(_positive_int(raw_id))]
    raise TopicForbidden(f"unknown dashboard scope {kind!r}")
