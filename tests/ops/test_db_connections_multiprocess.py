"""50 signed-in users working at once on 2 daphne processes against PostgreSQL: no request fails and the
number of database connections stays bounded by the pools (project/settings.py), however many requests.

With CONN_MAX_AGE=60 every request thread of daphne kept a connection of its own: connections grew with the
requests until PostgreSQL refused more ("too many clients"). Prints its figures (python -m pytest -s).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time

import aiohttp
import psycopg
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from cases.enums import CaseStatus
from tests import factories as f
from tests.realtime.conftest import session_cookie_for

USERS = int(os.environ.get("BENCH_USERS", "50"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "8"))
POOL_MAX = 10  # DB_POOL_MAX_SIZE given to each web process below
APP_NAME = "cm-pool-bench"  # PGAPPNAME of those processes

pytestmark = [
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="connection exhaustion is a PostgreSQL matter",
    ),
    pytest.mark.skipif(not settings.REDIS_URL, reason="the production shape: PostgreSQL with Redis"),
    pytest.mark.timeout(600),
]


class ConnectionWatch:
    """Samples how many connections the two web processes under test hold (by their application_name, so the
    suite's other servers and the test process do not count), from a connection of its own, every 50 ms."""

    def __init__(self) -> None:
        cfg = connection.settings_dict
        self.dbname = cfg["NAME"]
        self.dsn = (
            f"host={cfg.get('HOST') or '127.0.0.1'} port={cfg.get('PORT') or 5432} "
            f"user={cfg.get('USER') or 'postgres'} dbname=postgres"
        )
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.is_set():
                (count,) = conn.execute(
                    "select count(*) from pg_stat_activity where datname = %s and application_name = %s",
                    [self.dbname, APP_NAME],
                ).fetchone()
                self.peak = max(self.peak, count)
                time.sleep(0.05)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _users_with_cases() -> list[tuple[str, list[int]]]:
    batch = f.BatchFactory()
    out = []
    for i in range(USERS):
        user = f.CollectorFactory(username=f"bench{i}")
        cases = [f.CaseFactory(batch=batch, collector=user, status=CaseStatus.IN_PROGRESS).pk for _ in range(2)]
        out.append((session_cookie_for(user), cases))
    return out


async def _work(base: str, cookie: str, case_ids: list[int], errors: list[str], latencies: list[float]) -> None:
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        for n in range(ROUNDS):
            path = "/cases/" if n % 2 == 0 else f"/cases/{case_ids[n % len(case_ids)]}/"
            started = time.monotonic()
            try:
                async with http.get(base + path, allow_redirects=False) as response:
                    body = await response.read()
                    if response.status != 200:
                        errors.append(f"{path}: {response.status} {body[:200]!r}")
            except (TimeoutError, aiohttp.ClientError) as exc:
                errors.append(f"{path}: {exc!r}")
            latencies.append(time.monotonic() - started)


async def test_fifty_concurrent_users_on_two_daphne_processes_without_errors(start_daphne):
    # given: two web processes as in production (PostgreSQL, Redis), 50 collectors with their cases
    env = {"DB_POOL_MAX_SIZE": str(POOL_MAX), "DB_POOL_TIMEOUT": "60", "PGAPPNAME": APP_NAME}
    servers = [start_daphne(**env), start_daphne(**env)]
    users = await database_sync_to_async(_users_with_cases)()
    errors: list[str] = []
    latencies: list[float] = []
    # when: everyone works at once, half on each process
    with ConnectionWatch() as watch:
        started = time.monotonic()
        await asyncio.gather(
            *(_work(servers[i % 2], cookie, cases, errors, latencies) for i, (cookie, cases) in enumerate(users))
        )
        elapsed = time.monotonic() - started
    # then
    latencies.sort()
    print(
        f"\n{USERS} users x {ROUNDS} requests on 2 daphne: {len(latencies)} requests in {elapsed:.1f} s "
        f"({len(latencies) / elapsed:.1f}/s), p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms, errors {len(errors)}, "
        f"peak database connections {watch.peak}"
    )
    assert errors == []
    assert len(latencies) == USERS * ROUNDS
    # Each process holds at most its pool, plus at most one connection the pool is replacing at that moment.
    assert 0 < watch.peak <= 2 * (POOL_MAX + 1), watch.peak
