"""`bench/dialer.py --progressive`: connected calls per collector-hour, progressive (连续外呼) vs click-to-call.

N collectors work against the ARI simulator (one in-process Dialer, PostgreSQL, Redis) twice on the same odds:
30 % of numbers answer (after 3–15 s, then talk --talk-min…--talk-max s), 40 % ring until the customer ring time
(--ring s, no answer), 20 % are busy, 10 % unreachable. A connected call's outcome takes the collector --outcome s to
save; the wrap-up (--wrap-up s) is the most the next progressive call waits for it.

- progressive: a session per collector over their cases; the dialer rings their phone whenever they are free.
- click-to-call: each collector dials their cases one by one through `dial_request` (the case page's button),
  with --pick s to pick the next case and number and click after every call (and after saving an outcome).

Both run on the simulator's clock (--speed: simulated seconds per real second); every human time (wrap-up, outcome,
pick) is scaled the same way, so the figures are per simulated collector-hour. Printed: connected calls per
collector-hour in each mode and their ratio, abandoned calls (a customer answering with no collector on the line),
guard violations found by replaying the call records against the rules afterwards (window, answered cap per
debtor, unanswered cap per number, blocked numbers), refusals logged, and the answer rate per caller number (per
trunk while calls carry no caller number).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
import random
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# The bench's own queries (the collectors polling, clicking, saving outcomes) run on threads of their own, so they
# never queue the dialer's database work as they would not were the dialer its own process (run_dialer).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bench-db")
POLL_S = 0.2


async def db(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_POOL, functools.partial(fn, *args, **kwargs))


BEHAVIOURS = [("answer", 30), ("no_answer", 40), ("busy", 20), ("unreachable", 10)]


def behaviour_for(rng: random.Random) -> str:
    roll = rng.uniform(0, 100)
    for name, weight in BEHAVIOURS:
        if roll < weight:
            return name
        roll -= weight
    return BEHAVIOURS[-1][0]


def prepare(args: Any) -> dict[str, Any]:
    """Collectors 8101…, two case sets per collector with the same odds in the same order (one per mode), a few
    blocked numbers and debtors already at today's answered cap (the guard must refuse them)."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.utils import timezone

    from cases.enums import CaseStatus
    from cases.models import BlockedNumber, CallPolicy, CallRecord
    from cases.models.compliance import BlockedNumberReason
    from tests import factories as f

    call_command("migrate", verbosity=0)
    cache.delete_many(["dialer:health", "dialer:lines"])
    bank = f.BankFactory()
    policy = CallPolicy.objects.create(bank=bank, window_start=dt.time(8, 0), window_end=dt.time(22, 0),
                                       max_answered_per_debtor=3, max_unanswered_per_number=6)
    batch = f.BatchFactory(bank=bank)
    world: dict[str, Any] = {"policy": policy, "collectors": [], "scripts": {}}
    try:  # the caller-ID pool (外显号码池): three numbers on the trunk, rotated by the dialer
        from callerids.models import CallerNumber

        for n in range(3):
            CallerNumber.objects.create(number=f"02488880{n:03d}", trunk="trunk", daily_cap=100000)
    except ImportError:
        pass
    now = timezone.now()
    for i in range(args.collectors):
        user = f.CollectorFactory(username=f"bench_prog_{i}", sip_endpoint=f"81{i:02d}")
        per_mode: dict[str, list[int]] = {}
        for mode in ("progressive", "click"):
            rng = random.Random(args.seed * 1000 + i)  # the same sequence of odds in both modes
            ids = []
            for j in range(args.cases):
                number = f"13{'5' if mode == 'progressive' else '6'}{i:02d}{j:06d}"
                case = f.CaseFactory(batch=batch, collector=user, status=CaseStatus.IN_PROGRESS, mobile=number)
                kind = behaviour_for(rng)
                roll = rng.random()
                if roll < 0.03:
                    BlockedNumber.objects.create(number=number, reason=BlockedNumberReason.EMPTY, case=case,
                                                 created_by=user)
                elif roll < 0.06:
                    for _ in range(3):  # called and answered three times earlier today: at the cap
                        CallRecord.objects.create(case=case, collector=user, number=number, started_at=now,
                                                  answered_at=now, ended_at=now, result="self_answered")
                talk = rng.uniform(args.talk_min, args.talk_max)
                world["scripts"][number] = {"behaviour": kind, "answer_after": rng.uniform(3, 15),
                                            "hangup_after": talk}
                ids.append(case.pk)
            per_mode[mode] = ids
        world["collectors"].append({"user": user, "ext": user.sip_endpoint, **per_mode})
    return world


async def main(args: Any) -> None:
    import aiohttp
    import django

    django.setup()
    from asgiref.sync import sync_to_async
    from django.utils import timezone

    from dialer.app import Dialer
    from dialer.config import DialerConfig
    from dialer.simulator.engine import Engine
    from dialer.simulator.server import SimulatorServer
    from progressive import actions as session_actions

    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=16))  # the dialer's
    world = await sync_to_async(prepare)(args)
    scale = 1.0 / args.speed
    session_actions.UNANSWERED_PAUSE_S = session_actions.UNANSWERED_PAUSE_S * scale  # type: ignore[assignment]
    exts = [c["ext"] for c in world["collectors"]]
    engine = Engine(phones=exts, lines=args.lines, trunk="trunk", speed=args.speed, user="asterisk",
                    password="bench-secret")
    sim = SimulatorServer(engine)
    sim.start()
    async with aiohttp.ClientSession() as http:
        for ext in exts:
            async with http.post(sim.url + f"_sim/phones/{ext}", json={"online": True, "answer_after": 2}) as r:
                assert r.status < 400, await r.text()
        for number, script in world["scripts"].items():
            async with http.post(sim.url + "_sim/script", json={"number": number, **script}) as r:
                assert r.status < 400, await r.text()
    os.environ["DIALER_ARI_URL"] = sim.url
    from django.conf import settings

    settings.DIALER_ARI_URL = sim.url
    config = DialerConfig.from_settings()
    dialer = Dialer(config, heartbeat_s=1.0)
    task = asyncio.create_task(dialer.run(install_signals=False))
    deadline = time.monotonic() + 30
    while not dialer.client.connected.is_set():
        if time.monotonic() > deadline:
            raise SystemExit("the dialer did not connect to the simulator")
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # its first heartbeat: the click-to-call path checks it
    results: dict[str, dict[str, Any]] = {}
    try:
        for mode in ("progressive", "click"):
            results[mode] = await run_mode(mode, world, args, scale)
    finally:
        dialer.stop()
        await asyncio.wait({task}, timeout=30)
        sim.stop()
    await sync_to_async(report, thread_sensitive=False)(world, args, results, timezone.now())


async def _outcome(call_id: int, collector_id: int) -> None:

    from accounts.models import User
    from cases.actions.calls import call_outcome_record
    from cases.models import CallRecord

    def save() -> None:
        call = CallRecord.objects.get(pk=call_id)
        if not call.result:
            call_outcome_record(call=call, by=User.objects.get(pk=collector_id), result="self_answered", note="bench")
    await db(save)


async def run_mode(mode: str, world: dict[str, Any], args: Any, scale: float) -> dict[str, Any]:
    from django.utils import timezone

    from cases.models import CallRecord
    from progressive.actions import session_start, session_stop
    from progressive.models import DialSession

    real_seconds = args.minutes * 60 * scale
    started = timezone.now()
    stop_at = time.monotonic() + real_seconds
    case_ids = {cid for c in world["collectors"] for cid in c[mode]}

    async def outcome_bot() -> None:
        """The collectors save each connected call's outcome --outcome s after it ended (on our clock: the call
        record's times are the simulator's, which runs --speed times faster)."""
        done: set[int] = set()
        seen: dict[int, float] = {}
        while time.monotonic() < stop_at + 5:
            rows = await db(lambda: list(
                CallRecord.objects.filter(case_id__in=case_ids, answered_at__isnull=False, result="",
                                          ended_at__isnull=False).values_list("pk", "collector_id")))
            for pk, collector_id in rows:
                first = seen.setdefault(pk, time.monotonic())
                if pk not in done and time.monotonic() >= first + args.outcome * scale:
                    done.add(pk)
                    await _outcome(pk, collector_id)
            await asyncio.sleep(POLL_S)

    if mode == "progressive":
        sessions = []
        for c in world["collectors"]:
            session = await db(session_start, collector=c["user"], case_ids=c["progressive"], wrap_up_s=30)
            sessions.append(session)
        # Human times on the simulator's clock: the wrap-up scaled like every other delay.
        await db(DialSession.objects.filter(pk__in=[s.pk for s in sessions]).update,
                 wrap_up_s=max(1, round(args.wrap_up * scale)))
        await asyncio.gather(outcome_bot(), asyncio.sleep(real_seconds))
        for s in sessions:
            await db(session_stop, session=s, by=None, reason="bench")
    else:
        await asyncio.gather(outcome_bot(), *(click_loop(c, args, scale, stop_at) for c in world["collectors"]))
    ended = timezone.now()
    await asyncio.sleep(max(3.0, (args.ring + 20) * scale))  # the calls in flight end and are written
    return {"started": started, "ended": ended, "real_seconds": real_seconds, "case_ids": case_ids}


async def click_loop(c: dict[str, Any], args: Any, scale: float, stop_at: float) -> None:
    """One collector clicking: pick the next case and number (--pick s), dial, wait for the call to end, save the
    outcome of a connected call (--outcome s)."""

    from cases.actions.dialer import DialRefusedError, dial_request
    from cases.models import CallRecord, CallRefusal, Case

    for case_id in c["click"]:
        await asyncio.sleep(args.pick * scale)
        if time.monotonic() >= stop_at:
            return
        case = await db(Case.objects.get, pk=case_id)
        since = time.time()
        try:
            call_uuid = await db(dial_request, case=case, by=c["user"])
        except DialRefusedError:
            continue
        while time.monotonic() < stop_at + 60:
            record = await db(lambda u=call_uuid: CallRecord.objects.filter(call_uuid=u).first())
            if record is not None:
                if record.answered_at is not None:
                    while time.monotonic() < stop_at + 5 and not await db(
                            lambda pk=record.pk: bool(CallRecord.objects.get(pk=pk).result)):
                        await asyncio.sleep(POLL_S)  # the outcome bot saves it after --outcome s
                break
            refused = await db(lambda n=case.mobile, t=since: CallRefusal.objects.filter(
                collector=c["user"], number=n, created_at__gte=dt.datetime.fromtimestamp(t - 1, tz=dt.UTC)).exists())
            if refused:
                break
            await asyncio.sleep(POLL_S)


def violations(records: list[Any], policy: Any) -> list[str]:
    """Replay the calls in order against the rules the guard enforces; each breach is listed."""
    from django.utils import timezone

    from cases.models import BlockedNumber, CallRecord

    found = []
    blocked = set(BlockedNumber.objects.filter(lifted_at=None).values_list("number", flat=True))
    day_start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))
    answered: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    for r in CallRecord.objects.filter(started_at__gte=day_start, call_uuid__isnull=True).select_related("case"):
        if r.answered_at is not None:
            answered[r.case.id_number] += 1  # the seeded earlier calls
    for r in sorted(records, key=lambda r: r.started_at):
        local = timezone.localtime(r.started_at).time()
        if not policy.window_start <= local < policy.window_end:
            found.append(f"{r.call_uuid}: outside the window at {local}")
        if answered[r.case.id_number] >= policy.max_answered_per_debtor:
            found.append(f"{r.call_uuid}: debtor already answered {answered[r.case.id_number]} times")
        if unanswered[r.number] >= policy.max_unanswered_per_number:
            found.append(f"{r.call_uuid}: number already unanswered {unanswered[r.number]} times")
        if r.number in blocked:
            found.append(f"{r.call_uuid}: blocked number dialled")
        if r.answered_at is not None:
            answered[r.case.id_number] += 1
        else:
            unanswered[r.number] += 1
    return found


def report(world: dict[str, Any], args: Any, results: dict[str, dict[str, Any]], now: dt.datetime) -> None:
    from cases.models import CallRecord, CallRefusal
    from progressive.models import EntryKind, SessionEntry

    hours = args.minutes / 60 * args.collectors
    print(f"{args.collectors} collectors, {args.lines} lines, {args.minutes:g} simulated minutes per mode at speed "
          f"{args.speed:g}; odds 30 % answer / 40 % no answer (ring {args.ring:g} s) / 20 % busy / 10 % unreachable; "
          f"talk {args.talk_min:g}–{args.talk_max:g} s; outcome saved after {args.outcome:g} s, wrap-up "
          f"{args.wrap_up:g} s; click-to-call picks for {args.pick:g} s")
    rates = {}
    has_caller_id = any(f.name == "caller_id" for f in CallRecord._meta.get_fields())
    for mode, r in results.items():
        records = list(CallRecord.objects.filter(case_id__in=r["case_ids"], call_uuid__isnull=False,
                                                 started_at__lt=r["ended"]).select_related("case"))
        connected = [x for x in records if x.answered_at is not None]
        abandoned = [x for x in connected if (x.duration_s or 0) < 1]
        rates[mode] = len(connected) / hours
        refusals = CallRefusal.objects.filter(case_id__in=r["case_ids"]).count()
        bad = violations(records, world["policy"])
        by_cause = Counter(x.hangup_cause for x in records)
        print(f"{mode:>12}: {len(records)} calls, {len(connected)} connected = {rates[mode]:.1f} connected calls per "
              f"collector-hour; abandoned {len(abandoned)}; guard violations {len(bad)} {bad[:3]}; refusals logged "
              f"{refusals}; causes {dict(by_cause.most_common())}")
        if mode == "progressive":
            skipped = Counter(SessionEntry.objects.filter(kind=EntryKind.REFUSED).values_list("rule", flat=True))
            print(f"{'':>12}  numbers the guard refused and the sessions passed over: {dict(skipped)}")
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for x in records:
            key = (getattr(x, "caller_id", "") or "（无外显号码）") if has_caller_id else "trunk"
            per[key][0] += 1
            per[key][1] += x.answered_at is not None
        label = "caller number" if has_caller_id else "trunk (calls carry no caller number yet)"
        print(f"{'':>12}  answer rate per {label}: " + ", ".join(
            f"{k} {a}/{n} = {a / n:.0%}" for k, (n, a) in sorted(per.items()) if n))
    if rates.get("click"):
        print(f"progressive / click-to-call = {rates['progressive'] / rates['click']:.2f}× (target ≥ 1.8×)")
    print(f"machine load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
