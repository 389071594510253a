"""Bad input never makes a 500: every route of the permission matrix (so every URL of the product, new ones
included: tests/test_permissions.py fails for a URL missing there), as a role that may use it, with every
parameter it knows set to one bad value at a time (numbers beyond bigint, dates like 9999-12-31 or
0001-01-01, NUL bytes, words where ids belong). A clear 400 or an empty result is fine; a stream is read to
its end. Ids in the path beyond bigint are a 404.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests import test_permissions as permissions
from tests.test_permissions import FORBIDDEN, LOGIN, MATRIX, NOT_FOUND, Route, World

# The permission matrix's world and every fixture that fills it (autouse there, so new ones come along too).
world = permissions.world
globals().update({name: value for name, value in vars(permissions).items()
                  if name.startswith("_") and type(value).__name__ == "FixtureFunctionDefinition"})

BAD_VALUES = {
    "beyond-bigint": "99999999999999999999999",
    "negative": "-1",
    "far-future": "9999-12-31",
    "year-one": "0001-01-01",
    "word": "abc",
    "nul": "a\x00b",
}
# Names every list, filter, report and export reads, besides the fields each page's own forms name.
KNOWN_PARAMS = (
    "page",
    "q",
    "mode",
    "sort",
    "dir",
    "status",
    "bank",
    "batch",
    "collector",
    "branch",
    "department",
    "region",
    "product",
    "date_from",
    "date_to",
    "from",
    "to",
    "day",
    "month",
    "year",
    "period",
    "by",
    "group",
    "kind",
    "format",
    "days",
    "show",
    "after",
    "call",
    "role",
    "active",
    "actor",
    "action",
    "object_type",
    "object_id",
    "id_number",
    "phone",
    "grade",
    "decision",
    "amount_min",
    "amount_max",
    "assigned_from",
    "assigned_to",
    "expires_from",
    "expires_to",
    "overdue",
    "fragment",
    "exclude",
    "download",
    "digest",
    "select_all",
    "case",
)
TRY_ROLES = ("manager", "clerk", "collector", "sysadmin", "other_clerk", "field_collector", "other_collector")
_FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"')


def _role_for(route: Route) -> str | None:
    """A role that gets past the permission check: one answered with a page or a redirect, else one answered
    404 for what the request lacks (e.g. matching an unmatched recording without naming the call)."""
    for refused in ((LOGIN, FORBIDDEN, NOT_FOUND), (LOGIN, FORBIDDEN)):
        for role in TRY_ROLES:
            if route.expect[role] not in refused:
                return role
    return None


def _swept() -> list[tuple[Route, str]]:
    out, seen = [], set()
    for route in MATRIX:
        role = _role_for(route)
        if role is None or (route.name, route.method) in seen:  # query variants: every parameter is set anyway
            continue
        seen.add((route.name, route.method))
        out.append((route, role))
    return out


SWEPT = _swept()


def _drain(response) -> None:
    if response.streaming:
        b"".join(response.streaming_content)


def _send(client: Client, method: str, url: str, data: dict | None = None):
    """One request in a savepoint of its own: on PostgreSQL a failed query aborts the test's transaction, where
    in production it would end only that request's."""
    sid = transaction.savepoint()
    try:
        response = getattr(client, method)(url, data or {})
        _drain(response)
    finally:
        transaction.savepoint_rollback(sid)
    return response


def _names(client: Client, route: Route, world: World) -> list[str]:
    names = set(KNOWN_PARAMS) | set(route.query)
    if route.method == "get":
        page = client.get(route.url(world), route.query)
        if not page.streaming and page.get("Content-Type", "").startswith("text/html"):
            names |= set(_FIELD.findall(page.content.decode(errors="replace")))
        _drain(page)
    return sorted(n for n in names if n != "csrfmiddlewaretoken")


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("route", "role"),
    SWEPT,
    ids=[f"{r.method.upper()} {r.name}{'?' + '&'.join(r.query) if r.query else ''}-{role}" for r, role in SWEPT],
)
def test_no_route_answers_bad_parameters_with_a_server_error(
    request, world, other_clerk, other_collector, field_collector, manager, sysadmin, route, role
):
    # given: the route as a role that may use it, and every parameter name it knows
    client = Client(raise_request_exception=False)
    client.force_login(request.getfixturevalue(role))
    names = _names(client, route, world)
    failures = []
    for label, value in BAD_VALUES.items():
        # when: every parameter carries the bad value
        response = _send(client, route.method, route.url(world), dict.fromkeys(names, value))
        # then
        if response.status_code >= 500:
            failures.append((label, response.status_code))
    assert failures == [], f"{route.method.upper()} {route.url(world)} as {role}: {failures}"


_INT_KWARG = re.compile(r".*_id$")


@pytest.mark.parametrize(
    ("route", "role"),
    SWEPT,
    ids=[f"{r.method.upper()} {r.name}{'?' + '&'.join(r.query) if r.query else ''}-{role}" for r, role in SWEPT],
)
def test_ids_beyond_bigint_in_the_path_are_not_found(
    request, world, other_clerk, other_collector, field_collector, manager, sysadmin, route, role
):
    if not any(_INT_KWARG.match(k) for k in route.kwargs(world)):
        pytest.skip("no id in the path")
    # given
    client = Client(raise_request_exception=False)
    client.force_login(request.getfixturevalue(role))
    kwargs = {k: (10**20 if _INT_KWARG.match(k) and isinstance(v, int) else v) for k, v in route.kwargs(world).items()}
    # when
    response = _send(client, route.method, reverse(route.name, kwargs=kwargs))
    # then
    assert response.status_code < 500, (route.name, response.status_code)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_assessment_export_with_an_extreme_date_ends_with_a_workbook(manager, day):
    """It used to overflow adding a day to 9999-12-31 half-way through the stream, and the client waited."""
    import io

    from openpyxl import load_workbook

    # given
    client = Client()
    client.force_login(manager)
    # when
    response = client.get(reverse("assessment:assessment-export"), {"date_to": day, "date_from": day})
    # then: a complete workbook (the out-of-range date is not applied)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.active.max_row >= 1
