"""Every page renders while Redis cannot be reached (issue 13 item 25: the lines board answered 500, and the
second login step too once it kept its throttle there).

Redis carries the channel layer and the cache (the dialer's heartbeat and lines, the 2FA throttle); the
database holds everything a page shows. Each GET of the permission matrix that some role may see is fetched as
such a role with the cache pointing at a Redis nobody listens on: none may answer 500.
"""

from __future__ import annotations

import pytest

from tests.test_permissions import (  # noqa: F401 (the matrix's world and the autouse fixtures that fill it)
    MATRIX,
    OK,
    _assessment_world,
    _assignment_world,
    _case_work,
    _document_request,
    _fetch,
    _mapping_world,
    world,
)

# Who fetches each page: the first role in this order that the matrix lets see it.
ROLE_ORDER = ("manager", "sysadmin", "clerk", "collector", "other_clerk", "other_collector", "field_collector")
PAGES = [(route, next(r for r in ROLE_ORDER if route.expect.get(r) == OK)) for route in MATRIX
         if route.method == "get" and any(route.expect.get(r) == OK for r in ROLE_ORDER)]


def test_the_sweep_covers_the_pages():
    assert len(PAGES) > 80


@pytest.mark.parametrize(("route", "role"), PAGES,
                         ids=[f"{r.name}{'?' + '&'.join(r.query) if r.query else ''}-{role}" for r, role in PAGES])
def test_page_renders_while_redis_is_down(request, world, other_clerk, other_collector, field_collector,  # noqa: F811
                                          manager, sysadmin, settings, route, role):
    # given: the cache points at a Redis nobody listens on
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    # when
    response = _fetch(request, route, role, world)
    # then
    assert response.status_code == OK
