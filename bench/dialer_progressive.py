"""`bench/dialer.py --progressive`: connected calls per collector-hour, progressive (连续外呼) vs click-to-call.

N collectors work twice on the same odds, through the product's Dialer (in this process), PostgreSQL and Redis:
30 % of numbers answer, 40 % ring until the customer ring time (--ring s, DIALER_CUSTOMER_RING_SECONDS: no answer),
20 % are busy, 10 % unreachable. A connected call's outcome takes the collector --outcome s to save; the wrap-up
(--wrap-up s) is the most the next progressive call waits for it.

- progressive: a session per collector over their cases; the dialer rings their phone whenever they are free.
- click-to-call: each collector dials their cases one by one through `dial_request` (the case page's button),
  with --pick s to pick the next case and number and click after every call (and after saving an outcome).

Two telephony back ends run the same pass (`run_pass`):

- the ARI simulator (default): each number's odds drawn at random, answering after 3–15 s and talking
  --talk-min…--talk-max s, on the simulator's clock (--speed: simulated seconds per real second); every human time
  (wrap-up, outcome, pick), the dialer's progressive tick and the collectors' polling are scaled the same way, so
  the figures are per simulated collector-hour.
- --asterisk: a real Asterisk from the kit (../shared/asterisk, as tests/asterisk/conftest.py starts it) in real
  time, SIPp as the phones 8001–8009 (answering after --phone-answer s) and as the carrier (sipp-trunk). The odds are
  realised by the dialled numbers' last digits, which sipp-trunk reads: …486 busy, …404 not found (unreachable),
  …408 rings until cancelled (no answer), any other (…200 here) answers after --answer-after s and hangs up after
  --talk s. Then (unless --no-compare) the simulator runs the same pass with exactly these parameters and numbers,
  its far ends scripted by sipp-trunk's rules (`trunk_far_end`), and both are printed side by side.

Each pass has its own bank, cases and caller-ID pool (the collectors are shared), so the second starts clean.

The calling window: the bench's bank allows 08:00–22:00 Shanghai time. Outside that (a bench runs at any hour) the
guard is told it is 10:00, ticking on (`GuardClock`), as tests/asterisk/conftest.py's `_inside_calling_hours` does
for the real-Asterisk suite, and the replay of the window rule uses that same clock.

Printed per pass: connected calls per collector-hour in each mode and their ratio, abandoned calls (a customer
answering with no collector on the line), guard violations found by replaying the call records against the rules
afterwards (window, answered cap per debtor, unanswered cap per number, blocked numbers), refusals logged, the answer
rate per caller number, and how many calls the carrier saw with the caller number the product recorded on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import os
import random
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# The bench's own queries (the collectors polling, clicking, saving outcomes) run on threads of their own, so they
# never queue the dialer's database work as they would not were the dialer its own process (run_dialer).
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bench-db")
POLL_S = 0.2  # the collectors' polling, real seconds at speed 1 (scaled with the clock)
TICK_S = 0.5  # the dialer's progressive tick (DialerConfig.progressive_tick_s), likewise


async def db(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(_POOL, functools.partial(fn, *args, **kwargs))


BEHAVIOURS = [("answer", 30), ("no_answer", 40), ("busy", 20), ("unreachable", 10)]
# The kit's sipp-trunk picks a call's behaviour by the dialled number's last digits (its sipp/uas.xml.in).
TRUNK_SUFFIX = {"answer": "200", "no_answer": "408", "busy": "486", "unreachable": "404"}
SUFFIX_BEHAVIOUR = {"486": "busy", "404": "unreachable", "503": "unavailable", "408": "no_answer"}


def behaviour_for(rng: random.Random) -> str:
    roll = rng.uniform(0, 100)
    for name, weight in BEHAVIOURS:
        if roll < weight:
            return name
        roll -= weight
    return BEHAVIOURS[-1][0]


def trunk_far_end(number: str, *, answer_after: float, talk: float) -> dict[str, Any]:
    """What the kit's sipp-trunk does when `number` is dialled, as a simulator script (`_sim/script`)."""
    return {"behaviour": SUFFIX_BEHAVIOUR.get(number[-3:], "answer"), "answer_after": answer_after,
            "hangup_after": talk}


# ---- the calling window ---------------------------------------------------------------------------------------

class GuardClock:
    """The local time the compliance guard is told: the real one inside the bench's hours, else 10:00 Shanghai time
    today ticking on (a bench lasts well under the two hours left before 22:00)."""

    def __init__(self) -> None:
        from django.utils import timezone

        from tests.clock_shift import shift_to_ten

        inside = dt.time(8, 5) <= timezone.localtime().time() <= dt.time(20, 0)
        self.shift = dt.timedelta(0) if inside else dt.timedelta(seconds=shift_to_ten())

    def local(self, at: dt.datetime) -> dt.datetime:
        from django.utils import timezone

        return timezone.localtime(at) + self.shift

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from dialer import compliance

        real = compliance.check
        if self.shift:
            compliance.check = lambda facts, *, local_now: real(facts, local_now=local_now + self.shift)
        try:
            yield
        finally:
            compliance.check = real

    def describe(self) -> str:
        if not self.shift:
            return "the real time"
        return f"10:00 Shanghai time ticking on (the real time is {dt.datetime.now().astimezone():%H:%M %Z})"


# ---- the telephony back ends ----------------------------------------------------------------------------------

class Simulated:
    """The ARI simulator in this process (its own thread), one phone per collector, each number scripted."""

    label = "simulator"

    def __init__(self, args: Any, speed: float) -> None:
        self.args = args
        self.speed = speed
        self.engine: Any = None
        self.server: Any = None

    def extensions(self, n: int) -> list[str]:
        if self.args.odds == "trunk":  # the kit's phones, so that a comparison differs in nothing else
            return [f"800{i + 1}" for i in range(n)]
        return [f"81{i:02d}" for i in range(n)]

    async def start(self, world: dict[str, Any]) -> dict[str, str]:
        import aiohttp

        from dialer.simulator.engine import Engine
        from dialer.simulator.server import SimulatorServer

        exts = [c["ext"] for c in world["collectors"]]
        self.engine = Engine(phones=exts, lines=self.args.lines, trunk="trunk", speed=self.speed, user="asterisk",
                             password="bench-secret")
        self.server = SimulatorServer(self.engine)
        self.server.start()
        url = self.server.url
        async with aiohttp.ClientSession() as http:
            for ext in exts:
                async with http.post(url + f"_sim/phones/{ext}",
                                     json={"online": True, "answer_after": self.args.phone_answer}) as r:
                    assert r.status < 400, await r.text()
            for number, script in world["scripts"].items():
                async with http.post(url + "_sim/script", json={"number": number, **script}) as r:
                    assert r.status < 400, await r.text()
        return {"ari_url": url, "ari_user": "asterisk", "ari_password": "bench-secret"}

    def caller_ids_seen(self) -> dict[str, list[str]]:
        seen: dict[str, list[str]] = {}
        for dial in list(self.engine.trunk_dials):
            seen.setdefault(dial["number"], []).append(dial["caller_id"])
        return seen

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


class RealAsterisk:
    """The kit's Asterisk in a fresh run dir, SIPp as the collectors' phones and as the carrier."""

    label = "real Asterisk"
    speed = 1.0

    def __init__(self, args: Any) -> None:
        self.args = args
        self.kit: Any = None

    def extensions(self, n: int) -> list[str]:
        if n > 9:
            raise SystemExit("--asterisk: the kit has phones 8001–8009, so at most 9 collectors")
        return [f"800{i + 1}" for i in range(n)]

    async def start(self, world: dict[str, Any]) -> dict[str, str]:
        from asgiref.sync import sync_to_async

        from tests.asterisk.conftest import Kit, kit_dir, missing_reason

        reason = missing_reason()
        if reason is not None:
            raise SystemExit(f"--asterisk: {reason}")
        kit_path = kit_dir()
        assert kit_path is not None
        # A short path: Asterisk's control socket path must stay under 100 characters.
        self.kit = Kit(kit_path, Path(tempfile.mkdtemp(prefix="cm-ast-prog-", dir="/tmp")))

        def up() -> None:
            self.kit.start()
            self.kit.trunk("--answer-after", f"{self.args.answer_after:g}", "--hangup-after", f"{self.args.talk:g}")
            for c in world["collectors"]:
                self.kit.phone(c["ext"], "--answer-after", f"{self.args.phone_answer:g}")
        await sync_to_async(up, thread_sensitive=False)()
        return {"ari_url": self.kit.ari_url, "ari_user": self.kit.env["ASTERISK_ARI_USER"],
                "ari_password": self.kit.env["ASTERISK_ARI_PASSWORD"], "app": self.kit.env.get("ASTERISK_APP",
                                                                                              "collect")}

    def caller_ids_seen(self) -> dict[str, list[str]]:
        from tests.asterisk.test_caller_id import invites

        return invites(self.kit)

    def stop(self) -> None:
        if self.kit is None:
            return
        self.kit.stop()  # the kit's `stop RUN_DIR`: Asterisk and every SIPp helper of this run dir
        if not self.args.keep:
            shutil.rmtree(self.kit.run, ignore_errors=True)


# ---- one pass -------------------------------------------------------------------------------------------------

def prepare(args: Any, pass_no: int, exts: list[str]) -> dict[str, Any]:
    """A bank with its calling policy and caller-ID pool, collectors on `exts`, and two case sets per collector with
    the same odds in the same order (one per mode), a few blocked numbers and debtors already at today's answered
    cap (the guard must refuse them). The same seed gives every pass the same sequence of odds."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from callerids.models import CallerNumber
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
    # The caller-ID pool (外显号码池): three numbers of this pass's bank on the trunk, rotated by the dialer.
    for n in range(3):
        CallerNumber.objects.create(number=f"02488880{pass_no}{n:02d}", trunk="trunk", bank=bank, daily_cap=100000)
    User.objects.filter(sip_endpoint__in=exts).update(sip_endpoint="")
    now = timezone.now()
    for i, ext in enumerate(exts):
        user = User.objects.filter(username=f"bench_prog_{i}").first() or f.CollectorFactory(
            username=f"bench_prog_{i}")
        user.sip_endpoint = ext
        user.save(update_fields=["sip_endpoint"])
        per_mode: dict[str, list[int]] = {}
        for mode in ("progressive", "click"):
            rng = random.Random(args.seed * 1000 + i)  # the same sequence of odds in both modes
            ids = []
            for j in range(args.cases):
                kind = behaviour_for(rng)
                # 11 digits: 1, the pass, the mode, the collector, the case (and with trunk odds sipp-trunk's digits)
                head = f"1{3 + pass_no}{'5' if mode == 'progressive' else '6'}{i:02d}"
                number = f"{head}{j:03d}{TRUNK_SUFFIX[kind]}" if args.odds == "trunk" else f"{head}{j:06d}"
                case = f.CaseFactory(batch=batch, collector=user, status=CaseStatus.IN_PROGRESS, mobile=number)
                roll = rng.random()
                if roll < 0.03:
                    BlockedNumber.objects.create(number=number, reason=BlockedNumberReason.EMPTY, case=case,
                                                 created_by=user)
                elif roll < 0.06:
                    for _ in range(3):  # called and answered three times earlier today: at the cap
                        CallRecord.objects.create(case=case, collector=user, number=number, started_at=now,
                                                  answered_at=now, ended_at=now, result="self_answered")
                talk = rng.uniform(args.talk_min, args.talk_max)
                answer_after = rng.uniform(3, 15)
                if args.odds == "trunk":
                    world["scripts"][number] = trunk_far_end(number, answer_after=args.answer_after, talk=args.talk)
                else:
                    world["scripts"][number] = {"behaviour": kind, "answer_after": answer_after, "hangup_after": talk}
                ids.append(case.pk)
            per_mode[mode] = ids
        world["collectors"].append({"user": user, "ext": ext, **per_mode})
    return world


async def run_pass(args: Any, telephony: Any, pass_no: int, guard: GuardClock, pause_s: float) -> dict[str, Any]:
    """Both modes on one telephony back end, then the report; returns the figures for the side-by-side table."""
    from asgiref.sync import sync_to_async

    from dialer.app import Dialer
    from dialer.config import DialerConfig
    from progressive import actions as session_actions

    exts = telephony.extensions(args.collectors)
    world = await sync_to_async(prepare)(args, pass_no, exts)
    scale = 1.0 / telephony.speed
    session_actions.UNANSWERED_PAUSE_S = pause_s * scale  # type: ignore[assignment]
    ari = await telephony.start(world)
    results: dict[str, dict[str, Any]] = {}
    try:
        config = dataclasses.replace(DialerConfig.from_settings(), progressive_tick_s=TICK_S * scale, **ari)
        dialer = Dialer(config, heartbeat_s=1.0)
        task = asyncio.create_task(dialer.run(install_signals=False))
        deadline = time.monotonic() + 30
        while not dialer.client.connected.is_set():
            if time.monotonic() > deadline:
                raise SystemExit(f"the dialer did not connect to the {telephony.label}")
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # its first heartbeat: the click-to-call path checks it
        try:
            for mode in ("progressive", "click"):
                results[mode] = await run_mode(mode, world, args, scale, dialer)
        finally:
            dialer.stop()
            await asyncio.wait({task}, timeout=30)
        seen = telephony.caller_ids_seen()
    finally:
        telephony.stop()
    from django.db import connections

    await sync_to_async(connections.close_all)()
    return await sync_to_async(report, thread_sensitive=False)(world, args, results, telephony, seen, guard)


async def _outcome(call_id: int, collector_id: int) -> None:

    from accounts.models import User
    from cases.actions.calls import call_outcome_record
    from cases.models import CallRecord

    def save() -> None:
        call = CallRecord.objects.get(pk=call_id)
        if not call.result:
            call_outcome_record(call=call, by=User.objects.get(pk=collector_id), result="self_answered", note="bench")
    await db(save)


async def run_mode(mode: str, world: dict[str, Any], args: Any, scale: float, dialer: Any) -> dict[str, Any]:
    from django.utils import timezone

    from cases.models import CallRecord
    from progressive.actions import session_start, session_stop
    from progressive.models import DialSession

    real_seconds = args.minutes * 60 * scale
    started = timezone.now()
    stop_at = time.monotonic() + real_seconds
    case_ids = {cid for c in world["collectors"] for cid in c[mode]}
    poll = max(0.05, POLL_S * scale)
    rescued: list[str] = []

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
            await asyncio.sleep(poll)

    async def watchdog() -> None:
        """A call far longer than any the carrier makes (SIPp can lose a BYE) is hung up by its collector from the
        call panel, as a person would; counted, so a report shows it."""
        from accounts.models import User
        from cases.actions.dialer import call_hangup_request

        longest = (dialer.config.collector_ring_s + args.ring + max(args.talk, args.talk_max) + 30) * scale
        while time.monotonic() < stop_at + 5:
            for call in dialer.handlers.live_calls():
                if time.time() - call.since > longest and call.uuid not in rescued and call.collector_id:
                    rescued.append(call.uuid)
                    await db(lambda u=call.uuid, c=call.collector_id: call_hangup_request(
                        call_uuid=u, by=User.objects.get(pk=c)))
            await asyncio.sleep(1.0)

    bots = [asyncio.create_task(outcome_bot()), asyncio.create_task(watchdog())]
    if mode == "progressive":
        sessions = []
        for c in world["collectors"]:
            session = await db(session_start, collector=c["user"], case_ids=c["progressive"], wrap_up_s=30)
            sessions.append(session)
        # Human times on the telephony's clock: the wrap-up scaled like every other delay.
        await db(DialSession.objects.filter(pk__in=[s.pk for s in sessions]).update,
                 wrap_up_s=max(1, round(args.wrap_up * scale)))
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        for s in sessions:
            await db(session_stop, session=s, by=None, reason="bench")
    else:
        await asyncio.gather(*(click_loop(c, args, scale, stop_at, poll) for c in world["collectors"]))
    # Only calls started within the --minutes count: the bots' last seconds (saving the last outcomes) are no
    # working time (counted, they gave the simulator --speed times as many extra seconds as real Asterisk).
    ended = started + dt.timedelta(seconds=real_seconds)
    await asyncio.gather(*bots)
    await asyncio.sleep(max(3.0, (args.ring + 20) * scale))  # the calls in flight end and are written
    return {"started": started, "ended": ended, "real_seconds": real_seconds, "case_ids": case_ids,
            "rescued": rescued}


async def click_loop(c: dict[str, Any], args: Any, scale: float, stop_at: float, poll: float) -> None:
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
                        await asyncio.sleep(poll)  # the outcome bot saves it after --outcome s
                break
            refused = await db(lambda n=case.mobile, t=since: CallRefusal.objects.filter(
                collector=c["user"], number=n, created_at__gte=dt.datetime.fromtimestamp(t - 1, tz=dt.UTC)).exists())
            if refused:
                break
            await asyncio.sleep(poll)


# ---- the report -----------------------------------------------------------------------------------------------

def violations(records: list[Any], policy: Any, guard: GuardClock) -> list[str]:
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
        local = guard.local(r.started_at).time()
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


def cycles(records: list[Any], speed: float) -> dict[str, tuple[float, int]]:
    """Seconds (on the telephony's clock) from one call's start to the same collector's next, by how the first went:
    where the two back ends spend their time differently. The starts are on our clock (the dialer's)."""
    gaps: dict[str, list[float]] = defaultdict(list)
    by_collector: dict[int, list[Any]] = defaultdict(list)
    for r in records:
        by_collector[r.collector_id].append(r)
    for mine in by_collector.values():
        mine.sort(key=lambda r: r.started_at)
        for first, then in zip(mine, mine[1:], strict=False):
            kind = "connected" if first.answered_at is not None else (
                "no answer" if first.hangup_cause == "无人接听" else "busy/unreachable")
            gaps[kind].append((then.started_at - first.started_at).total_seconds() * speed)
    return {kind: (sum(v) / len(v), len(v)) for kind, v in sorted(gaps.items())}


def report(world: dict[str, Any], args: Any, results: dict[str, dict[str, Any]], telephony: Any,
           seen: dict[str, list[str]], guard: GuardClock) -> dict[str, Any]:
    from cases.models import CallRecord, CallRefusal
    from progressive.models import EntryKind, SessionEntry

    hours = args.minutes / 60 * args.collectors
    if args.odds == "trunk":
        far = (f"answer after {args.answer_after:g} s and talk {args.talk:g} s (sipp-trunk's rules by the last "
               "digits)")
    else:
        far = f"answer after 3–15 s and talk {args.talk_min:g}–{args.talk_max:g} s"
    print(f"== {telephony.label} (speed {telephony.speed:g}): {args.collectors} collectors (phones "
          f"{', '.join(c['ext'] for c in world['collectors'])}, answering after {args.phone_answer:g} s), "
          f"{args.lines} lines, {args.minutes:g} minutes per mode; odds 30 % answer / 40 % no answer (ring "
          f"{args.ring:g} s) / 20 % busy / 10 % unreachable, {far}; outcome saved after {args.outcome:g} s, wrap-up "
          f"{args.wrap_up:g} s; click-to-call picks for {args.pick:g} s; the guard's clock: {guard.describe()}")
    summary: dict[str, Any] = {"label": telephony.label, "speed": telephony.speed, "modes": {}}
    for mode, r in results.items():
        records = list(CallRecord.objects.filter(case_id__in=r["case_ids"], call_uuid__isnull=False,
                                                 started_at__lt=r["ended"]).select_related("case"))
        connected = [x for x in records if x.answered_at is not None]
        abandoned = [x for x in connected if (x.duration_s or 0) < 1]
        rate = len(connected) / hours
        refusals = CallRefusal.objects.filter(case_id__in=r["case_ids"]).count()
        bad = violations(records, world["policy"], guard)
        by_cause = Counter(x.hangup_cause for x in records)
        summary["modes"][mode] = {"calls": len(records), "connected": len(connected), "rate": rate,
                                  "abandoned": len(abandoned), "violations": len(bad), "refusals": refusals}
        print(f"{mode:>12}: {len(records)} calls, {len(connected)} connected = {rate:.1f} connected calls per "
              f"collector-hour; abandoned {len(abandoned)}; guard violations {len(bad)} {bad[:3]}; refusals logged "
              f"{refusals}; causes {dict(by_cause.most_common())}")
        summary["modes"][mode]["cycles"] = gaps = cycles(records, telephony.speed)
        print(f"{'':>12}  seconds from a call's start to the collector's next, after a call that was: " + ", ".join(
            f"{kind} {mean:.1f} s ({n})" for kind, (mean, n) in gaps.items()))
        if r["rescued"]:
            print(f"{'':>12}  calls the carrier never hung up, ended by the collector from the call panel: "
                  f"{len(r['rescued'])}")
        if mode == "progressive":
            skipped = Counter(SessionEntry.objects.filter(kind=EntryKind.REFUSED, case_id__in=r["case_ids"])
                              .values_list("rule", flat=True))
            print(f"{'':>12}  numbers the guard refused and the sessions passed over: {dict(skipped)}")
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for x in records:
            key = x.caller_id or "（无外显号码）"
            per[key][0] += 1
            per[key][1] += x.answered_at is not None
        print(f"{'':>12}  answer rate per caller number: " + ", ".join(
            f"{k} {a}/{n} = {a / n:.0%}" for k, (n, a) in sorted(per.items()) if n))
        dialled = [x for x in records if x.caller_id]
        matching = sum(1 for x in dialled if seen.get(x.number) == [x.caller_id])
        print(f"{'':>12}  the carrier saw the caller number the product recorded on {matching} of {len(dialled)} "
              "calls carrying one")
    rates = {mode: m["rate"] for mode, m in summary["modes"].items()}
    summary["ratio"] = rates["progressive"] / rates["click"] if rates.get("click") else None
    if summary["ratio"] is not None:
        print(f"progressive / click-to-call = {summary['ratio']:.2f}× (target ≥ 1.8×)")
    summary["load"] = os.getloadavg()
    print(f"machine load average at the end: {summary['load'][0]:.2f} on {os.cpu_count()} cores")
    return summary


def side_by_side(summaries: list[dict[str, Any]]) -> None:
    """The passes' figures in columns: whether the simulator and real Asterisk agree."""
    heads = [f"{s['label']} (speed {s['speed']:g})" for s in summaries]
    width = max(22, *(len(h) + 2 for h in heads))
    label = 46
    print("== side by side (the same collectors, numbers, odds and times)")
    print(f"{'':<{label}}" + "".join(f"{h:>{width}}" for h in heads))
    for mode in ("progressive", "click"):
        for key, fmt in (("calls", "{:d}"), ("connected", "{:d}"), ("rate", "{:.1f}"), ("abandoned", "{:d}"),
                         ("violations", "{:d}"), ("refusals", "{:d}")):
            name = {"rate": "connected per collector-hour", "violations": "guard violations"}.get(key, key)
            print(f"{mode + ' ' + name:<{label}}" + "".join(
                f"{fmt.format(s['modes'][mode][key]):>{width}}" for s in summaries))
    for mode in ("progressive", "click"):
        for kind in ("connected", "no answer", "busy/unreachable"):
            cells = [s["modes"][mode]["cycles"].get(kind) for s in summaries]
            print(f"{mode + ' s to next after ' + kind:<{label}}" + "".join(
                f"{'-' if c is None else f'{c[0]:.1f} ({c[1]})':>{width}}" for c in cells))
    print(f"{'progressive / click-to-call':<{label}}" + "".join(
        f"{'-' if s['ratio'] is None else format(s['ratio'], '.2f') + '×':>{width}}" for s in summaries))
    print(f"{'load average (1 min) at the end':<{label}}" + "".join(f"{s['load'][0]:>{width}.2f}" for s in summaries))


async def main(args: Any) -> None:
    import django

    django.setup()
    from progressive import actions as session_actions

    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=16))  # the dialer's
    guard = GuardClock()
    pause_s = session_actions.UNANSWERED_PAUSE_S  # each pass scales it to its clock
    passes: list[Any] = [RealAsterisk(args)] if args.asterisk else []
    if not args.asterisk or args.compare:
        passes.append(Simulated(args, args.speed))
    summaries = []
    with guard.installed():
        for pass_no, telephony in enumerate(passes):
            summaries.append(await run_pass(args, telephony, pass_no, guard, pause_s))
    if len(summaries) > 1:
        side_by_side(summaries)
