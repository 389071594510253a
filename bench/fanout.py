"""Benchmark: fan-out of dashboard events to 500 websocket clients through daphne and Redis.

    .venv/bin/python bench/fanout.py [--clients 500] [--events 200] [--interval-ms 100] [--servers 1]
                                     [--redis redis://127.0.0.1:6379/11] [--keep] [--db cm_bench_fanout]
                                     [--only bare|product]

Both measurements run in the same process, one after the other, against the same Redis:

1. bare: `clients` channels of a plain channels-redis layer joined to one group, each read by its own
   `receive()` task; `events` group_sends spaced `interval` apart; latency = receipt − send.
2. product: `servers` daphne processes (asgi:application, the real LiveConsumer with session auth), a
   manager's `clients` websockets on /ws/live/?topics=dashboard spread over them; the same number of
   DashboardCounterChanged messages sent to the dashboard.all group exactly as realtime.publish sends
   them; latency = websocket receipt − send (of each event, also when several arrive in one batch frame).

Prints p50/p90/p99/max in milliseconds for each, and the p99 ratio (target: product within 1.5× bare).
Uses its own PostgreSQL database `cm_bench_fanout` (created and migrated; dropped unless --keep) for the
manager's session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"

sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--events", type=int, default=200)
    p.add_argument("--interval-ms", type=float, default=100.0)
    p.add_argument("--servers", type=int, default=1)
    p.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    p.add_argument("--keep", action="store_true", help="keep the benchmark database")
    p.add_argument("--db", default="cm_bench_fanout", help="name of the benchmark database (also the channel prefix)")
    p.add_argument("--only", choices=("bare", "product"), help="run one of the two measurements")
    return p.parse_args()


ARGS = parse_args()
DB_NAME = ARGS.db
# This script is a process entry point like manage.py: it chooses database and Redis before Django starts.
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["REDIS_URL"] = ARGS.redis
os.environ["CHANNEL_PREFIX"] = f"benchfan-{DB_NAME}"
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["SCHEDULER_EMBEDDED"] = "0"
os.environ["SECURE_SSL_REDIRECT"] = "0"  # plain HTTP on loopback: no proxy in front
os.environ["SECURE_COOKIES"] = "0"


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def prepare_database() -> str:
    """Create and migrate the benchmark database; return a session cookie of a manager."""
    import psycopg

    with contextlib.suppress(psycopg.errors.DuplicateDatabase):
        admin_sql(f"CREATE DATABASE {DB_NAME}")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User

    call_command("migrate", verbosity=0)
    manager, _ = User.objects.get_or_create(username="bench_manager", defaults={"is_manager": True,
                                                                                "full_name": "压测经理"})
    client = Client()
    client.force_login(manager)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_daphne(app: str = "asgi:application") -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, url
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"daphne ({app}) did not start")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process so far (this one when pid is None)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(name: str, latencies_ms: list[float], expected: int) -> dict[str, float]:
    qs = statistics.quantiles(latencies_ms, n=100, method="inclusive")
    row = {"p50": statistics.median(latencies_ms), "p90": qs[89], "p99": qs[98], "max": max(latencies_ms)}
    lost = expected - len(latencies_ms)
    print(f"{name:<34} {row['p50']:>8.2f} {row['p90']:>8.2f} {row['p99']:>8.2f} {row['max']:>8.2f}"
          f"   {len(latencies_ms):>7}/{expected}{'  LOST ' + str(lost) if lost else ''}")
    return row


async def paced_sends(layer, group: str, make_message, events: int, interval: float, sent: dict[int, float]) -> None:
    start = time.perf_counter()
    for i in range(events):
        target = start + i * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[i] = time.perf_counter()
        await layer.group_send(group, make_message(i))


async def bench_bare(clients: int, events: int, interval: float) -> list[float]:
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[{"address": ARGS.redis, "socket_timeout": 300, "max_connections": 1000}],
                              capacity=1000, expiry=60, prefix=f"benchbare-{DB_NAME}")
    group = "bench.bare"
    channels = [await layer.new_channel() for _ in range(clients)]
    for ch in channels:
        await layer.group_add(group, ch)
    sent: dict[int, float] = {}
    latencies: list[float] = []

    async def reader(ch: str) -> None:
        for _ in range(events):
            msg = await layer.receive(ch)
            latencies.append((time.perf_counter() - sent[msg["seq"]]) * 1000)

    readers = [asyncio.create_task(reader(ch)) for ch in channels]
    await asyncio.sleep(0.5)
    await paced_sends(layer, group, lambda i: {"type": "bench.tick", "seq": i}, events, interval, sent)
    try:
        await asyncio.wait_for(asyncio.gather(*readers), timeout=30)
    except TimeoutError:
        for r in readers:
            r.cancel()
    await layer.flush()
    await layer.close_pools()
    return latencies


async def bench_ws(*, clients: int, events: int, interval: float, urls: list[str], path: str, group: str,
                   make_message, seq_of, cookie: str = "", pids: tuple[int, ...] = ()) -> list[float]:
    """`clients` websockets spread over `urls`; `events` messages group_sent to `group`; receipt latencies.

    Also prints the CPU the servers (`pids`) and this client used from the first send to the last receipt:
    which of them ran out first."""
    import aiohttp
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    sent: dict[int, float] = {}
    latencies: list[float] = []
    conn = aiohttp.TCPConnector(limit=0)
    headers = {"Cookie": cookie} if cookie else {}
    async with aiohttp.ClientSession(connector=conn, headers=headers) as http:
        sockets = []
        for start in range(0, clients, 50):
            batch = [http.ws_connect(urls[i % len(urls)].replace("http", "ws", 1) + path,
                                     headers={"Origin": urls[i % len(urls)]}, heartbeat=None, max_msg_size=0)
                     for i in range(start, min(start + 50, clients))]
            sockets.extend(await asyncio.gather(*batch))

        async def reader(ws) -> None:
            got = 0
            while got < events:
                msg = await ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    return
                for seq in seq_of(json.loads(msg.data)):
                    latencies.append((time.perf_counter() - sent[seq]) * 1000)
                    got += 1

        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        await asyncio.sleep(1.0)  # every consumer has joined its group before the first send
        cpu_before, started = [cpu_seconds(pid) for pid in (*pids, None)], time.perf_counter()
        await paced_sends(layer, group, make_message, events, interval, sent)
        try:
            await asyncio.wait_for(asyncio.gather(*readers), timeout=120)
        except TimeoutError:
            for r in readers:
                r.cancel()
        used = [cpu_seconds(pid) - b for pid, b in zip((*pids, None), cpu_before, strict=True)]
        print(f"  {time.perf_counter() - started:.1f} s from first send to last receipt; CPU s: server(s) "
              f"{' + '.join(f'{u:.1f}' for u in used[:-1])}, bench client {used[-1]:.1f}; "
              f"load {os.getloadavg()[0]:.1f}")
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await layer.close_pools()
    return latencies


def product_message(i: int) -> dict[str, object]:
    """Exactly what realtime.publish sends for a dashboard bump (the sequence rides in the deltas)."""
    from realtime.events import DashboardCounterChanged

    return DashboardCounterChanged(day="2026-11-29", collector_id=1, deltas={"bench_seq": i}).to_message()


def product_seq(data: dict) -> list[int]:
    """The sequence numbers a frame carries: one event, or a burst written as one realtime.batch frame."""
    messages = data["messages"] if data.get("type") == "realtime.batch" else [data]
    return [m["deltas"]["bench_seq"] for m in messages if m.get("type") == "dashboard.counter_changed"]


def bare_seq(data: dict) -> list[int]:
    return [data["seq"]] if data.get("type") == "bench.tick" else []


def main() -> None:
    from realtime import groups

    cookie = prepare_database()
    product_servers = [start_daphne() for _ in range(ARGS.servers)] if ARGS.only != "bare" else []
    bare_servers = ([start_daphne("bench.fanout_bare_asgi:application") for _ in range(ARGS.servers)]
                    if ARGS.only != "product" else [])
    interval = ARGS.interval_ms / 1000
    expected = ARGS.clients * ARGS.events
    common = {"clients": ARGS.clients, "events": ARGS.events, "interval": interval}
    try:
        print(f"fan-out: {ARGS.clients} clients × {ARGS.events} events, one every {ARGS.interval_ms:g} ms, "
              f"{ARGS.servers} daphne process(es) each, Redis {ARGS.redis}")
        print(f"{'latency publish → receipt (ms)':<34} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}   received")
        bare = product = None
        if ARGS.only != "product":
            summary("in-process channels-redis (ref.)", asyncio.run(bench_bare(**common)), expected)
            bare = summary("bare consumer via daphne", asyncio.run(bench_ws(
                **common, urls=[u for _, u in bare_servers], path="/", group="bench.bare",
                make_message=lambda i: {"type": "bench.tick", "seq": i}, seq_of=bare_seq,
                pids=tuple(p.pid for p, _ in bare_servers))), expected)
        if ARGS.only != "bare":
            product = summary("product /ws/live/ dashboard", asyncio.run(bench_ws(
                **common, urls=[u for _, u in product_servers], path="/ws/live/?topics=dashboard",
                group=groups.dashboard_all(), make_message=product_message, seq_of=product_seq, cookie=cookie,
                pids=tuple(p.pid for p, _ in product_servers))),
                expected)
        if bare and product:
            print(f"p99 ratio product/bare: {product['p99'] / bare['p99']:.2f}  (target ≤ 1.5)   "
                  f"p50 ratio: {product['p50'] / bare['p50']:.2f}")
    finally:
        for proc, _ in product_servers + bare_servers:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if not ARGS.keep:
            from django.db import connections

            connections.close_all()
            admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
