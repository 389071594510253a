"""Benchmark: 10 simultaneous click-to-call calls through the ARI simulator, in the production shape.

    .venv/bin/python bench/dialer.py [--calls 10] [--seconds 60] [--talk 2] [--redis redis://127.0.0.1:6379/14] [--keep]
    .venv/bin/python bench/dialer.py --asterisk [--total 200] [--talk 2]
    .venv/bin/python bench/dialer.py --progressive [--collectors 8] [--minutes 30] [--speed 10]   (连续外呼 vs
        click-to-call on the same odds: see bench/dialer_progressive.py)
    .venv/bin/python bench/dialer.py --progressive --asterisk [--collectors 4] [--minutes 3] [--no-compare]
        (the same against the kit's real Asterisk in real time, then the simulator on the same parameters and
        numbers, side by side)

--asterisk runs the same against a real Asterisk from the kit (../shared/asterisk, built by its `build`; see
tests/asterisk/conftest.py) with SIPp as 6 collector phones (8001–8006) and the carrier, 6 lines: `--total`
consecutive calls across the 6 collectors, then checks that every call ended normally and that every
recording was stored here with its SHA-256 and deleted on Asterisk.

Runs the ARI simulator (speed 1, 10 lines, one phone per collector) in this process, daphne (the web:
dial endpoint and /ws/live/) and `manage.py run_dialer` (the dialer, its own process) against PostgreSQL
(database `cm_bench_dialer`, created and migrated, dropped unless --keep) and Redis. `--calls` collectors
each keep one call going for `--seconds`: dial from the case page's endpoint, the customer answers after
1 s and talks `--talk` s, then the next call. Each collector's websocket receives the call panel's
CallStatusChanged events.

Prints:
- latency from an ARI event leaving the simulator (the event's own timestamp, which the dialer carries as
  `sent_at`) to the matching update reaching the collector's websocket: p50/p90/p99/max over the
  dialling/connected/ended updates;
- calls handled per minute (call records written with their recording);
- the dialer process's CPU use (user+system time / wall time over the measured window).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cm_bench_dialer"
PG = "postgres://postgres@127.0.0.1:5432"
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--talk", type=float, default=None,
                   help="the customer talks this long (s): 2, or with --progressive --asterisk 20 (sipp-trunk's "
                        "--hangup-after, also in the comparison's simulator)")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--asterisk", action="store_true", help="a real Asterisk from the kit instead of the simulator")
    p.add_argument("--total", type=int, default=200, help="--asterisk: calls to place in all")
    g = p.add_argument_group("--progressive (bench/dialer_progressive.py); times in simulated seconds, defaults "
                             "simulator / --asterisk")
    g.add_argument("--progressive", action="store_true", help="progressive sessions vs click-to-call")
    g.add_argument("--collectors", type=int, help="8 / 4 (the kit has phones 8001–8009)")
    g.add_argument("--lines", type=int, default=10)
    g.add_argument("--minutes", type=float, help="minutes per mode: 30 / 3")
    g.add_argument("--speed", type=float, default=10,
                   help="the simulator's seconds per real second (with --asterisk: its comparison pass)")
    g.add_argument("--cases", type=int, default=120, help="cases per collector and mode")
    g.add_argument("--ring", type=float, help="customer ring time before no answer (DIALER_CUSTOMER_RING_SECONDS): "
                                             "30 / 15")
    g.add_argument("--talk-min", type=float, default=20, help="simulator alone: the shortest talk")
    g.add_argument("--talk-max", type=float, default=90, help="simulator alone: the longest talk")
    g.add_argument("--answer-after", type=float, default=2,
                   help="--asterisk: an answering customer rings this long (sipp-trunk's --answer-after)")
    g.add_argument("--phone-answer", type=float, default=2, help="a collector's phone rings this long")
    g.add_argument("--outcome", type=float, help="time to save a connected call's outcome: 10 / 5")
    g.add_argument("--wrap-up", type=float, help="the most a progressive call waits for the outcome: 30 / 10")
    g.add_argument("--pick", type=float, default=20, help="click-to-call: pick the next case and number, click")
    g.add_argument("--compare", action=argparse.BooleanOptionalAction, default=True,
                   help="--asterisk: then the simulator on the same parameters, side by side")
    g.add_argument("--seed", type=int, default=17)
    args = p.parse_args()
    if args.asterisk and not args.progressive:
        args.calls = 6
    real = args.asterisk and args.progressive
    defaults = {"collectors": (8, 4), "minutes": (30, 3), "ring": (30, 15), "outcome": (10, 5), "wrap_up": (30, 10),
                "talk": (2, 20)}
    for name, (simulated, asterisk) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, asterisk if real else simulated)
    # --asterisk realises the odds by the dialled numbers' last digits (sipp-trunk), its comparison pass too.
    args.odds = "trunk" if real else "random"
    return args


ARGS = parse_args()
if ARGS.progressive:
    DB_NAME = "cm_bench_progressive"
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["REDIS_URL"] = ARGS.redis
os.environ["CHANNEL_PREFIX"] = "benchprog" if ARGS.progressive else "benchdial"
os.environ["CACHE_PREFIX"] = "benchprog" if ARGS.progressive else "benchdial"
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["SCHEDULER_EMBEDDED"] = "0"
os.environ["DIALER_EMBEDDED"] = "0"
os.environ["DIALER_SIMULATOR"] = "0"
os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ["SECURE_COOKIES"] = "0"
os.environ["DIALER_ARI_USER"] = "asterisk"
os.environ["DIALER_ARI_PASSWORD"] = "bench-secret"
os.environ["DIALER_LINES"] = str(ARGS.lines) if ARGS.progressive else "6" if ARGS.asterisk else "10"
if ARGS.progressive:
    import tempfile

    os.environ["DIALER_CUSTOMER_RING_SECONDS"] = f"{ARGS.ring:g}"
    os.environ["DIALER_COLLECTOR_RING_SECONDS"] = "20"
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="cm-bench-progressive-")  # the calls' recordings


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(calls: int) -> list[dict[str, object]]:
    """Create and migrate the database; one collector (extension 81NN), case and session per call slot."""
    import psycopg

    with contextlib.suppress(psycopg.errors.DuplicateDatabase):
        admin_sql(f"CREATE DATABASE {DB_NAME}")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from cases.enums import CaseStatus
    from cases.models import CallPolicy, CallRecord
    from tests import factories as f

    call_command("migrate", verbosity=0)
    cache.delete_many(["dialer:health", "dialer:lines"])
    CallRecord.objects.all().delete()
    bank = f.BankFactory()
    # The bench calls each debtor many times a day: lift this bank's caps (the calling window still holds).
    CallPolicy.objects.create(bank=bank, max_answered_per_debtor=10000, max_unanswered_per_number=10000)
    slots = []
    for i in range(calls):
        ext = f"800{i + 1}" if ARGS.asterisk else f"81{i:02d}"
        user = User.objects.filter(username=f"bench_dialer_{i}").first() or f.CollectorFactory(
            username=f"bench_dialer_{i}")
        user.sip_endpoint = ext
        user.save()
        case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=user, status=CaseStatus.IN_PROGRESS,
                             mobile=f"1370000{i:04d}")
        client = Client()
        client.force_login(user)
        slots.append({"ext": ext, "case_id": case.pk, "number": case.mobile,
                      "cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"})
    return slots


def start(cmd: list[str], port: int | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if port is not None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return proc
            time.sleep(0.2)
        proc.kill()
        raise SystemExit(f"{cmd} did not start")
    return proc


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


by_status: dict[str, list[float]] = {}
rescued: list[str] = []  # calls whose far end never hung up, ended from the call panel


async def collector_loop(http, url: str, slot: dict, until: float, latencies: list[float], done: list[str],
                         refused: list[str], budget: list[int] | None = None) -> None:
    import aiohttp

    headers = {"Cookie": slot["cookie"]}
    async with http.ws_connect(url.replace("http", "ws", 1) + "/ws/live/", headers={**headers, "Origin": url},
                               heartbeat=None) as ws:
        async with http.get(f"{url}/cases/{slot['case_id']}/", headers=headers) as resp:
            page = await resp.text()
        token = page.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]  # the page's hx-headers
        while time.monotonic() < until:
            if budget is not None:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            async with http.post(f"{url}/cases/{slot['case_id']}/dial/call/", data={"contact": ""},
                                 headers={**headers, "X-CSRFToken": token, "Referer": url}) as resp:
                body = await resp.json()
            if resp.status != 200:
                refused.append(body.get("error", str(resp.status)))
                await asyncio.sleep(0.5)
                continue
            call_uuid = body["call_uuid"]
            talk_until: float | None = None
            while True:
                wait = 60.0 if talk_until is None else max(0.5, talk_until - time.monotonic())
                try:
                    message = await ws.receive(timeout=wait)
                except TimeoutError:
                    if talk_until is None:
                        raise
                    # The far end never hung up (SIPp sometimes loses a call's BYE): the collector hangs up.
                    talk_until = time.monotonic() + 60
                    rescued.append(call_uuid)
                    async with http.post(f"{url}/cases/calls/hangup/", data={"call_uuid": call_uuid},
                                         headers={**headers, "X-CSRFToken": token, "Referer": url}) as resp:
                        await resp.read()
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise SystemExit(f"websocket closed: {message}")
                now = time.time()
                data = json.loads(message.data)
                if data.get("type") != "call.status_changed" or data.get("call_uuid") != call_uuid:
                    continue
                if data["status"] in ("dialling", "connected", "ended") and data.get("sent_at"):
                    latencies.append((now - data["sent_at"]) * 1000)
                    by_status.setdefault(data["status"], []).append((now - data["sent_at"]) * 1000)
                if data["status"] == "connected" and talk_until is None:
                    talk_until = time.monotonic() + ARGS.talk + 15
                if data["status"] in ("ended", "refused"):
                    (done if data["status"] == "ended" else refused).append(data.get("message", ""))
                    break


def start_asterisk():
    """The kit's Asterisk in a fresh run dir, the carrier answering after 1 s and talking --talk s, 6 phones."""
    import tempfile

    from tests.asterisk.conftest import Kit, kit_dir, missing_reason

    reason = missing_reason()
    if reason is not None:
        raise SystemExit(f"--asterisk: {reason}")
    kit = Kit(kit_dir(), Path(tempfile.mkdtemp(prefix="cm-ast-bench-", dir="/tmp")))
    kit.start()
    kit.trunk("--answer-after", "1", "--hangup-after", f"{ARGS.talk:g}")
    for n in range(1, 7):
        kit.phone(f"800{n}", "--answer-after", "0.3")
    os.environ["DIALER_ARI_URL"] = kit.ari_url
    os.environ["DIALER_ARI_USER"] = kit.env["ASTERISK_ARI_USER"]
    os.environ["DIALER_ARI_PASSWORD"] = kit.env["ASTERISK_ARI_PASSWORD"]
    return kit


async def main(slots: list[dict[str, object]]) -> None:
    import aiohttp
    from django.core.cache import cache

    from cases.models import CallRecord
    from dialer.simulator.engine import Engine
    from dialer.simulator.server import SimulatorServer

    kit = sim = None
    if ARGS.asterisk:
        kit = start_asterisk()
    else:
        engine = Engine(phones=[s["ext"] for s in slots], lines=10, trunk="trunk", speed=1.0, user="asterisk",
                        password="bench-secret")
        sim = SimulatorServer(engine)
        sim.start()
        async with aiohttp.ClientSession() as http:
            for slot in slots:
                async with http.post(sim.url + "_sim/script", json={"number": slot["number"], "answer_after": 1,
                                                                   "hangup_after": ARGS.talk}) as resp:
                    assert resp.status < 400, await resp.text()
        os.environ["DIALER_ARI_URL"] = sim.url
    port = free_port()
    web = start([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "asgi:application"], port)
    dialer = start([sys.executable, "manage.py", "run_dialer"])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not (cache.get("dialer:health") or {}).get("ari_connected"):
            if time.monotonic() > deadline:
                raise SystemExit("the dialer did not connect")
            await asyncio.sleep(0.2)
        latencies: list[float] = []
        done: list[str] = []
        refused: list[str] = []
        cpu0, t0 = cpu_seconds(dialer.pid), time.monotonic()
        until = t0 + (3600 if ARGS.asterisk else ARGS.seconds)
        budget = [ARGS.total] if ARGS.asterisk else None
        sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in slots]
        try:
            await asyncio.gather(*(collector_loop(s, url, slot, until, latencies, done, refused, budget)
                                   for s, slot in zip(sessions, slots, strict=True)))
        finally:
            for s in sessions:
                await s.close()
        wall = time.monotonic() - t0
        cpu = cpu_seconds(dialer.pid) - cpu0
        from asgiref.sync import sync_to_async

        def stored_count() -> int:
            return CallRecord.objects.filter(recording__isnull=False, recording__sha256__gt="").count()
        records = await sync_to_async(CallRecord.objects.count)()
        deadline = time.monotonic() + 30  # the last recordings
        while await sync_to_async(stored_count)() < records and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        stored = await sync_to_async(stored_count)()
        qs = statistics.quantiles(latencies, n=100, method="inclusive")
        print(f"calls: {len(done)} ended in {wall:.1f} s with {ARGS.calls} collectors dialling at once "
              f"(talk {ARGS.talk:g} s); refused {len(refused)} {sorted(set(refused))[:3]}")
        print(f"call records {records}, with recording stored {stored}")
        print(f"calls handled per minute: {len(done) / wall * 60:.1f}")
        print(f"ARI event → collector websocket latency over {len(latencies)} updates: "
              f"p50 {statistics.median(latencies):.1f} ms, p90 {qs[89]:.1f} ms, p99 {qs[98]:.1f} ms, "
              f"max {max(latencies):.1f} ms")
        for status, values in sorted(by_status.items()):
            print(f"  {status}: p50 {statistics.median(values):.1f} ms, max {max(values):.1f} ms ({len(values)})")
        print(f"machine load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print(f"dialer process CPU: {cpu:.2f} s over {wall:.1f} s = {cpu / wall * 100:.1f}% of one core")
        if kit is not None:
            causes = await sync_to_async(lambda: sorted(
                set(CallRecord.objects.values_list("hangup_cause", flat=True))))()
            failed = await sync_to_async(CallRecord.objects.exclude(hangup_cause="通话结束").count)()
            left = kit.stored_recordings()
            print(f"calls the carrier (SIPp) never hung up, ended from the call panel: {len(rescued)}")
            print(f"real Asterisk: {failed} calls not ended normally (causes seen: {causes}); "
                  f"{len(left)} recordings left on Asterisk; {stored} stored and hashed here")
    finally:
        dialer.terminate()
        web.terminate()
        for proc in (dialer, web):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if sim is not None:
            sim.stop()
        if kit is not None:
            kit.stop()
            if not ARGS.keep:
                import shutil

                shutil.rmtree(kit.run, ignore_errors=True)
        if not ARGS.keep:
            admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def run_progressive() -> None:
    import psycopg

    from bench import dialer_progressive

    with contextlib.suppress(psycopg.errors.DuplicateDatabase):
        admin_sql(f"CREATE DATABASE {DB_NAME}")
    try:
        asyncio.run(dialer_progressive.main(ARGS))
    finally:
        if not ARGS.keep:
            import shutil

            from django.db import connections

            connections.close_all()
            admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            shutil.rmtree(os.environ["MEDIA_ROOT"], ignore_errors=True)


if __name__ == "__main__":
    if ARGS.progressive:
        run_progressive()
    else:
        asyncio.run(main(prepare(ARGS.calls)))
