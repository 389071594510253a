"""Benchmark: an agency's working day, compressed, on the production shape of one box.

    .venv/bin/python bench/agency_day.py [--collectors 30] [--clerks C/10] [--managers C/20] [--minutes 5]
                                         [--speed 10] [--cases-per-collector 1000] [--keep]
    .venv/bin/python bench/agency_day.py --base-url http://HOST [--sim-url http://SIM:8088/] ...  (a running stack)

What runs (started and stopped here unless --base-url):
- PostgreSQL database `cm_bench_agencyday` (created, migrated, seeded, dropped unless --keep): one bank per clerk,
  its batches imported through the import action (5,000-row workbooks) and assigned to the collectors,
  `--cases-per-collector` cases each (a phone collector holds some 800–1,500 cases);
- Redis (`--redis`, channel and cache prefix `benchday`);
- 2 daphne processes behind a round-robin TCP proxy (asyncio, this script in its own process with --serve-proxy;
  per connection, so a websocket or a keep-alive HTTP connection stays on one daphne);
- the ARI simulator (`python -m dialer.simulator`, 10 lines, one phone per collector), `manage.py run_dialer`
  against it (the banks' calling caps lifted, as bench/dialer.py does), `manage.py run_scheduler`.

Who works (each a simulated person over real HTTP and websockets, signed in by a session cookie made with
force_login; managers sign in with TOTP in real life, which a cookie stands in for):
- collectors: /ws/live/ open all day; 今日工作 (/work/), open a case (its page and work panel), dial from the
  case page's endpoint, follow the call on the socket, hang up after talking, enter the outcome of an answered
  call; now and then upload a file to the case or ask the clerk for documents (调档) and answer the chat;
- clerks: /ws/live/ open; import a 5,000-row batch through the import page and assign it to their collectors
  (preview, then confirm), upload the bank's repayment file (preview, then confirm), answer document requests
  in their chat, look at the inbox and the case list;
- managers: /ws/live/?topics=dashboard,lines open all day (the dashboard and the lines board), the dashboard
  page now and then and a report every few simulated minutes.
Think times come from the day described in DAY below, divided by --speed (10: a 5-minute run is 50 minutes
of the day). Call far ends are scripted on the simulator with the same compression (ring, talk).

Prints, for the measured window:
- per kind of request: count, errors (HTTP status ≥ 400, a form error or a missing success text: each one is a
  finding), p50/p99/max ms;
- per kind of push: call status → collector (ARI event leaving the simulator → the collector's socket, as
  bench/dialer.py), chat message → the other side and document request → clerk (sender's POST → the other
  side's socket), dashboard → managers (the ARI hang-up of a call → its calls_made counter on each manager's
  socket);
- lost events: every event stored for a user (UserEvent) during the run that none of their sockets received
  live or on reconnect (?after=), and every call whose end never reached the collector;
- CPU (% of one core) and peak RSS per process, from /proc (PostgreSQL: the backends of this database;
  Redis: the whole server, shared with other users of the machine);
- the database's busiest statements, by sampling pg_stat_activity every 0.2 s (pg_stat_statements needs a
  restart of PostgreSQL to load, which a shared machine does not get).
No figure is asserted: the README quotes them with the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import io
import itertools
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "cm_bench_agencyday"
PG = "postgres://postgres@127.0.0.1:5432"
PREFIX = "benchday"
sys.path.insert(0, str(ROOT))

# --- The day ------------------------------------------------------------------------------------------------
# One working day of each kind of person, in seconds of the day and events per day. The bench divides every
# wait by --speed.
DAY_S = 8 * 3600


@dataclass(frozen=True)
class Day:
    # A phone collector makes 150–250 attempts in a day (about one every two to three minutes, the call
    # included); about a third reach somebody, who talks for a minute or two; the rest ring out or are busy.
    collector_attempts: int = 200
    answer_rate: float = 0.35
    busy_rate: float = 0.20  # of the unanswered: busy after a few seconds; the others ring ~30 s without answer
    ring_s: float = 10  # before an answer
    ring_out_s: float = 30  # no answer
    talk_s: tuple[float, float] = (40, 150)  # uniform
    # They look at 今日工作 again after every ten or so cases.
    queue_every: int = 10
    # A few uploads a day (a payment receipt, a hardship letter) and one or two document requests (调档).
    collector_uploads: int = 5
    collector_doc_requests: int = 2
    # A clerk (one for about ten collectors) imports the morning's batch and assigns it, uploads the bank's
    # repayment list once, answers document requests within a couple of minutes, and looks at the inbox
    # and the case list a few dozen times. The once-a-day jobs happen once in every run (in its first half,
    # like a morning): the run measures the day's busy part, not its average.
    clerk_answer_s: float = 120
    clerk_browse: int = 48
    repayment_share: float = 0.01  # of the bank's cases repay on a given day
    # A manager keeps the dashboard and the lines board open, reloads the dashboard every quarter of an
    # hour and opens a report every few minutes.
    manager_dashboard_s: float = 900
    manager_report_s: float = 240


DAY = Day()
# People arrive over the run's first minute, not in one second: a morning's logins spread over half an hour, and
# a restarted web process's sockets come back with jittered backoff (realtime.js). Everyone at once made the first
# page of each manager wait behind 172 websocket handshakes (dashboard 0.7 s, measured alone 20 ms).
ARRIVAL_S = 60.0
BATCH_ROWS = 5000
BANK_NAMES = ("招商银行", "建设银行", "工商银行", "交通银行", "浦发银行", "中信银行", "光大银行", "民生银行",
              "兴业银行", "广发银行")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--collectors", type=int, default=30)
    p.add_argument("--clerks", type=int, default=None, help="default: collectors / 10")
    p.add_argument("--managers", type=int, default=None, help="default: collectors / 20")
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--speed", type=float, default=10, help="time compression of the people's think times")
    p.add_argument("--cases-per-collector", type=int, default=1000)
    p.add_argument("--lines", type=int, default=10)
    p.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    p.add_argument("--keep", action="store_true", help="keep the benchmark database")
    p.add_argument("--base-url", default="", help="a running stack (its proxy): start nothing, seed into the "
                   "database of DATABASE_URL, which that stack uses")
    p.add_argument("--sim-url", default="", help="with --base-url: the stack's ARI simulator, to script far ends")
    p.add_argument("--insecure", action="store_true", help="with --base-url: accept a self-signed TLS certificate")
    p.add_argument("--serve-proxy", default="", help=argparse.SUPPRESS)  # PORT=BACKEND,BACKEND: the proxy process
    args = p.parse_args()
    if args.base_url and not args.sim_url:
        # The seeded debtors' numbers are random: they must never reach a real trunk.
        p.error("--base-url needs --sim-url: the stack's dialer must talk to the ARI simulator, not a real trunk")
    args.clerks = args.clerks if args.clerks is not None else max(1, args.collectors // 10)
    args.managers = args.managers if args.managers is not None else max(1, args.collectors // 20)
    return args


ARGS = parse_args()
if not ARGS.base_url and not ARGS.serve_proxy:
    # A process entry point like manage.py: it chooses database and Redis before Django starts.
    os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
    os.environ["REDIS_URL"] = ARGS.redis
    os.environ["CHANNEL_PREFIX"] = PREFIX
    os.environ["CACHE_PREFIX"] = PREFIX
    os.environ["MEDIA_ROOT"] = os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="cm-bench-agencyday-")
    # The nightly backup is not part of the day (the scheduler would run a missed one at once: a pg_dump).
    os.environ["BACKUP_SCHEDULED"] = "0"
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["SCHEDULER_EMBEDDED"] = "0"
os.environ["DIALER_EMBEDDED"] = "0"
os.environ["DIALER_SIMULATOR"] = "0"
os.environ["SECURE_SSL_REDIRECT"] = "0"  # plain HTTP on loopback
os.environ["SECURE_COOKIES"] = "0"
os.environ.setdefault("DIALER_ARI_USER", "asterisk")
os.environ.setdefault("DIALER_ARI_PASSWORD", "bench-secret")
os.environ["DIALER_LINES"] = str(ARGS.lines)


def think(mean_s: float) -> float:
    """A real wait for a think time of `mean_s` seconds of the day (exponential: people are not clocks)."""
    return random.expovariate(1 / mean_s) / ARGS.speed if mean_s > 0 else 0.0


# --- The proxy (its own process) ----------------------------------------------------------------------------

async def serve_proxy(spec: str) -> None:
    """Round-robin TCP proxy: each new connection goes to the next backend, bytes piped both ways."""
    port, backends = spec.split("=", 1)
    targets = itertools.cycle([(h, int(p)) for h, p in (b.rsplit(":", 1) for b in backends.split(","))])

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        host, bport = next(targets)
        try:
            server_r, server_w = await asyncio.open_connection(host, bport)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    server = await asyncio.start_server(handle, "127.0.0.1", int(port), backlog=1024)
    async with server:
        await server.serve_forever()


# --- Database and people ------------------------------------------------------------------------------------

def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Person:
    kind: str  # collector | clerk | manager
    user_id: int
    name: str
    cookie: tuple[str, str]  # session cookie name, value
    ext: str = ""
    bank_id: int = 0
    team: list[int] = field(default_factory=list)  # a clerk's collectors
    cases: list[tuple[int, str]] = field(default_factory=list)  # a collector's (case id, mobile)
    case_nos: list[str] = field(default_factory=list)  # a clerk's bank's assigned case numbers
    workbook: bytes = b""  # a clerk's morning batch
    # Filled while the run goes
    event_ids: set[int] = field(default_factory=set)
    last_event_id: int = 0
    reconnects: int = 0
    live_since: float = 0.0  # epoch seconds its /ws/live/ first opened (a dashboard frame before it never comes)
    calls: asyncio.Queue[dict] = field(default_factory=asyncio.Queue)  # call.* frames, for the call followed
    chats: asyncio.Queue[dict] = field(default_factory=asyncio.Queue)  # chat and document requests, to answer


def case_workbook(batch_no: str, rows: int, seed: int) -> bytes:
    """A standard-template workbook of `rows` cases of batch `batch_no` (bench/import_batch.py's rows)."""
    from openpyxl import Workbook

    chosen = {name: os.environ.get(name) for name in ("DATABASE_URL", "REDIS_URL")}
    from bench.import_batch import standard_rows  # a process entry point too: it sets its own database …
    from cases.imports.excel import HEADERS

    os.environ.update({k: v for k, v in chosen.items() if v is not None})  # … which our processes must not get

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("委案数据")
    sheet.append([*HEADERS, "账单日"])
    for n, row in enumerate(standard_rows(rows, seed), start=1):
        row[0], row[1] = batch_no, f"{batch_no}-{n:05d}"
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def repayment_workbook(case_nos: list[str]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["案件编号", "还款金额", "还款日期", "流水号"])
    day = dt.date.today() - dt.timedelta(days=1)
    for n, case_no in enumerate(case_nos):
        sheet.append([case_no, random.choice((200, 500, 800, 1000, 1500)), day, f"HK{uuid.uuid4().hex[:12]}{n}"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def prepare() -> list[Person]:
    """Create (unless --base-url), migrate and seed the database; return the people with their sessions."""
    if not ARGS.base_url:
        admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")  # a run kept with --keep, or cut short
        admin_sql(f"CREATE DATABASE {DB_NAME}")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import BranchCompany, Department, User
    from cases.actions.assignments import assignment_create
    from cases.actions.batches import batch_import_file
    from cases.models import Bank, CallPolicy, Case, ClerkBankScope

    started = time.monotonic()
    if not ARGS.base_url:
        call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:4].upper()  # --base-url may seed the same database again: names stay unique
    branch = BranchCompany.objects.create(name=f"压测分公司{run}")
    departments = [Department.objects.create(branch=branch, name=f"电催{n}部") for n in range(1, 4)]

    def session(user: User) -> tuple[str, str]:
        client = Client()
        client.force_login(user)
        return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value

    people: list[Person] = []
    collectors = []
    for i in range(ARGS.collectors):
        user = User.objects.create(username=f"bd{run}c{i}", full_name=f"业务员{i + 1:03d}", is_phone_collector=True,
                                   branch=branch, department=departments[i % 3], sip_endpoint=f"8{i:03d}")
        collectors.append(user)
        people.append(Person("collector", user.pk, user.full_name, session(user), ext=user.sip_endpoint))
    clerks = []
    for k in range(ARGS.clerks):
        bank = Bank.objects.create(code=f"B{run}{k}", name=f"{BANK_NAMES[k % len(BANK_NAMES)]}{run}{k}")
        # The bench calls many debtors many times: lift the caps; the window as wide as the rules allow.
        CallPolicy.objects.create(bank=bank, window_start=dt.time(8), window_end=dt.time(22),
                                  max_answered_per_debtor=10000, max_unanswered_per_number=10000)
        user = User.objects.create(username=f"bd{run}k{k}", full_name=f"内勤{k + 1:02d}", is_clerk=True, branch=branch)
        ClerkBankScope.objects.create(clerk=user, bank=bank)
        team = [c.pk for c in collectors[k::ARGS.clerks]]
        clerks.append((user, bank, team))
        people.append(Person("clerk", user.pk, user.full_name, session(user), bank_id=bank.pk, team=team))
    for m in range(ARGS.managers):
        user = User.objects.create(username=f"bd{run}m{m}", full_name=f"经理{m + 1}", is_manager=True, branch=branch)
        people.append(Person("manager", user.pk, user.full_name, session(user)))
    by_id = {p.user_id: p for p in people}

    # The cases: each clerk's bank's batches imported (the import action) and assigned to the clerk's team.
    seeded = 0
    for k, (clerk, bank, team) in enumerate(clerks):
        total = ARGS.cases_per_collector * len(team)
        for b in range(0, total, BATCH_ROWS):
            rows = min(BATCH_ROWS, total - b)
            data = case_workbook(f"S{run}{k}{b // BATCH_ROWS:02d}", rows, seed=hash((run, k, b)) & 0xFFFF)
            batch = batch_import_file(bank=bank, uploaded_by=clerk, file=io.BytesIO(data), filename="seed.xlsx")
            ids = list(Case.objects.filter(batch=batch).order_by("id").values_list("id", flat=True))
            for n, collector_id in enumerate(team):
                assignment_create(cases=Case.objects.filter(pk__in=ids[n::len(team)]),
                                  collector=User.objects.get(pk=collector_id), by=clerk, reason="压测初始分配")
            seeded += rows
        person = by_id[clerk.pk]
        person.case_nos = list(Case.objects.filter(bank=bank, collector__isnull=False)
                               .values_list("case_no", flat=True)[: max(10, int(total * DAY.repayment_share))])
        person.workbook = case_workbook(f"D{run}{k}", BATCH_ROWS, seed=k + 1)
    for person in people:
        if person.kind == "collector":
            person.cases = list(Case.objects.filter(collector_id=person.user_id).order_by("?")
                                .values_list("id", "mobile")[:400])
    print(f"seeded {seeded:,} cases for {ARGS.collectors} collectors, {ARGS.clerks} clerks, {ARGS.managers} "
          f"managers in {time.monotonic() - started:.0f} s")
    return people


# --- Processes ----------------------------------------------------------------------------------------------

def start(name: str, cmd: list[str], logs: Path, port: int | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if os.environ.get("CM_CLOCK_SHIFT_S") and cmd[0] == sys.executable:
        cmd = [cmd[0], str(ROOT / "tests" / "clock_shift.py"), *cmd[1:]]  # the run's clock (see in_calling_hours)
    log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.bench_name = name  # type: ignore[attr-defined]
    if port is not None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return proc
            time.sleep(0.2)
        proc.kill()
        raise SystemExit(f"{name} did not start (see {logs / name}.log)")
    return proc


def proc_stat(pid: int) -> tuple[float, int] | None:
    """CPU seconds (user + system) and RSS bytes of a process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[21]) * os.sysconf("SC_PAGE_SIZE")


def pids_named(comm: str) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                if (d / "comm").read_text().strip() == comm:
                    found.append(int(d.name))
    return found


class Sampler(threading.Thread):
    """Every 0.2 s: what the database is running (pg_stat_activity); every second: CPU and RSS per process."""

    def __init__(self, procs: dict[str, list[int]], db_name: str) -> None:
        super().__init__(daemon=True)
        self.procs = procs
        self.db_name = db_name
        self.stop_event = threading.Event()
        self.statements: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.peak_rss: dict[int, int] = {}
        self.group_of: dict[int, str] = {}

    def run(self) -> None:
        import psycopg

        conninfo = os.environ["DATABASE_URL"]
        with psycopg.connect(conninfo, autocommit=True) as conn:
            tick = 0
            while not self.stop_event.wait(0.2):
                rows = conn.execute(
                    "SELECT pid, state, wait_event_type, query FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", [self.db_name]).fetchall()
                self.samples += 1
                for _pid, state, wait, query in rows:
                    if state == "active":
                        self.statements[("[lock wait] " if wait == "Lock" else "") + normalise(query)] += 1
                if tick % 5 == 0 and self.procs:  # no processes to watch on a stack elsewhere
                    self.procs["postgres (this database)"] = [r[0] for r in rows]
                    self.read_procs()
                tick += 1
        self.read_procs()

    def read_procs(self) -> None:
        for group, pids in self.procs.items():
            for pid in pids:
                stat = proc_stat(pid)
                if stat is None:
                    continue
                self.group_of[pid] = group
                self.first.setdefault(pid, stat[0])
                self.last[pid] = stat[0]
                self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), stat[1])

    def report(self, wall: float) -> list[str]:
        groups: dict[str, list[int]] = collections.defaultdict(list)
        for pid, group in self.group_of.items():
            groups[group].append(pid)
        lines = []
        for group, pids in groups.items():
            cpu = sum(self.last[p] - self.first[p] for p in pids)
            # PostgreSQL backends share their buffers: the largest one, not the sum, says what the run held.
            peaks = [self.peak_rss[p] for p in pids]
            rss = max(peaks) if group.startswith("postgres") else sum(peaks)
            lines.append(f"  {group:<28} {len(pids):>3} proc  CPU {cpu / wall * 100:6.1f}% of a core   "
                         f"peak RSS {rss / 2**20:7.1f} MB")
        return lines


def normalise(query: str) -> str:
    text = re.sub(r"\s+", " ", query or "").strip()
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\b\d+\b", "N", text)
    text = re.sub(r"(N, )+N", "N…", text)
    return text[:150]


# --- Measurements -------------------------------------------------------------------------------------------

class Stats:
    def __init__(self) -> None:
        self.requests: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: dict[str, list[str]] = collections.defaultdict(list)
        self.pushes: dict[str, list[float]] = collections.defaultdict(list)
        self.counts: collections.Counter[str] = collections.Counter()
        self.sent: dict[str, float] = {}  # chat client_msg_id / "docreq:<case id>" → epoch seconds sent
        self.call_ends: dict[int, list[float]] = collections.defaultdict(list)  # collector → ARI hang-up times
        self.dashboard_seen: dict[tuple[int, int], list[float]] = collections.defaultdict(list)  # (manager, coll.)
        self.calls_lost = 0
        self.refused: collections.Counter[str] = collections.Counter()

    def error(self, kind: str, what: str) -> None:
        self.errors[kind].append(what[:200])


STATS = Stats()
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


class Session:
    """One person's browser: a cookie jar, the CSRF token of the last page, and their /ws/live/ socket."""

    def __init__(self, person: Person, base: str, end: float) -> None:
        import aiohttp
        from yarl import URL

        self.person = person
        self.base = base
        self.end = end  # monotonic time the run ends
        jar = aiohttp.CookieJar(unsafe=True)
        jar.update_cookies({person.cookie[0]: person.cookie[1]}, URL(base))
        connector = aiohttp.TCPConnector(limit=4, ssl=not ARGS.insecure)
        self.http = aiohttp.ClientSession(cookie_jar=jar, connector=connector,
                                          timeout=aiohttp.ClientTimeout(total=120))
        self.token = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.closing = False

    async def request(self, kind: str, method: str, path: str, *, expect: str = "", refuse: str = "",
                      htmx: bool = False, ok_statuses: tuple[int, ...] = (200,), **kwargs: object) -> str | None:
        """One request; its time is recorded under `kind`, and it is an error unless its status is one of
        `ok_statuses`, the body holds `expect` and not `refuse`."""
        headers = {"Referer": self.base + "/"}
        if method == "POST":
            headers["X-CSRFToken"] = self.token
        if htmx:
            headers["HX-Request"] = "true"
        started = time.perf_counter()
        try:
            async with self.http.request(method, self.base + path, headers=headers, allow_redirects=False,
                                         **kwargs) as resp:
                body = await resp.text(errors="replace")
                status = resp.status
                self.last_headers = resp.headers
        except Exception as exc:  # a process edge: a refused or reset connection is a finding, not a crash
            STATS.requests[kind].append((time.perf_counter() - started) * 1000)
            STATS.error(kind, f"{type(exc).__name__}: {exc}")
            return None
        STATS.requests[kind].append((time.perf_counter() - started) * 1000)
        if match := CSRF.search(body):
            self.token = match.group(1)
        if status not in ok_statuses:
            STATS.error(kind, f"HTTP {status} {path}: {plain(body)[:120]}")
            return None
        if expect and expect not in body:
            STATS.error(kind, f"no “{expect}” in {path}: {form_errors(body)}")
            return None
        if refuse and refuse in body:
            STATS.error(kind, f"{path}: {form_errors(body)}")
            return None
        return body

    async def open_live(self, topics: str = "") -> None:
        """Arrive (see ARRIVAL_S), then open /ws/live/ as the first page does."""
        await until_or(self.end, random.uniform(0, ARRIVAL_S))
        if await self.connect(topics):
            self.reader = asyncio.create_task(self.read(topics))

    async def connect(self, topics: str) -> bool:
        """Open /ws/live/ as realtime.js does: from the last event id seen, and on failure again after an
        exponential backoff with full jitter (1 s doubling to 30 s). Every refused handshake is an error."""
        query = f"?topics={topics}&" if topics else "?"
        for attempt in itertools.count(1):
            url = self.base.replace("http", "ws", 1) + "/ws/live/" + query + f"after={self.person.last_event_id}"
            started = time.perf_counter()
            try:
                self.ws = await self.http.ws_connect(url, headers={"Origin": self.base}, heartbeat=None,
                                                     max_msg_size=0)
            except Exception as exc:  # a process edge: a refused handshake is a finding; the browser retries
                STATS.requests["websocket connect"].append((time.perf_counter() - started) * 1000)
                STATS.error("websocket connect", f"{type(exc).__name__}: {exc}")
                if self.closing or time.monotonic() > self.end:
                    return False
                await asyncio.sleep(random.uniform(0, min(30.0, 2.0 ** (attempt - 1))))
                continue
            STATS.requests["websocket connect"].append((time.perf_counter() - started) * 1000)
            self.person.live_since = self.person.live_since or time.time()
            return True
        return False

    async def read(self, topics: str) -> None:
        import aiohttp

        person = self.person
        while not self.closing:
            assert self.ws is not None
            message = await self.ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                if self.closing:
                    return
                person.reconnects += 1  # an unexpected close: catch up from the last event id seen
                if not await self.connect(topics):
                    return
                continue
            now = time.time()
            frame = json.loads(message.data)
            # A burst of dashboard events arrives as one realtime.batch frame (realtime.fanout): each in order.
            for data in frame["messages"] if frame.get("type") == "realtime.batch" else [frame]:
                event_id = data.get("event_id")
                if isinstance(event_id, int):
                    person.event_ids.add(event_id)
                    person.last_event_id = max(person.last_event_id, event_id)
                kind = str(data.get("type", ""))
                STATS.counts[kind] += 1
                if kind == "call.status_changed":
                    if data.get("sent_at") and data.get("status") in ("ringing", "dialling", "connected", "ended"):
                        STATS.pushes["call status → collector"].append((now - data["sent_at"]) * 1000)
                    if data.get("status") == "ended" and data.get("sent_at"):
                        STATS.call_ends[person.user_id].append(data["sent_at"])
                    await person.calls.put(data)
                elif kind == "call.recorded":
                    await person.calls.put(data)
                elif kind == "chat.message_posted":
                    sent = STATS.sent.get(str(data.get("client_msg_id")))
                    if sent and data.get("author_id") != person.user_id:
                        STATS.pushes["chat message → other side"].append((now - sent) * 1000)
                        await person.chats.put(data)
                elif kind == "docreq.opened":
                    sent = STATS.sent.get(f"docreq:{data.get('case_id')}")
                    if sent:
                        STATS.pushes["document request → clerk"].append((now - sent) * 1000)
                    await person.chats.put(data)
                elif kind == "dashboard.counter_changed" and (data.get("deltas") or {}).get("calls_made"):
                    STATS.dashboard_seen[(person.user_id, data["collector_id"])].append(now)

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
        await self.http.close()


def form_errors(body: str) -> str:
    found = re.findall(r'class="(?:form-error|errorlist|error)[^"]*"[^>]*>(.*?)</', body, flags=re.S)
    text = " | ".join(plain(f).strip() for f in found[:3])
    return text or plain(body)[:100]


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>|\s+", " ", html)


# --- The people ---------------------------------------------------------------------------------------------

async def until_or(end: float, delay: float) -> bool:
    """Sleep `delay` unless the run ends first; False once it has ended."""
    left = end - time.monotonic()
    if left <= 0:
        return False
    await asyncio.sleep(min(delay, left))
    return time.monotonic() < end


async def script_far_end(sim_http, sim_url: str, number: str) -> bool:
    """How the debtor's phone behaves this time; True when it will be answered."""
    if not sim_url:
        return True
    roll = random.random()
    if roll < DAY.answer_rate:
        body = {"number": number, "behaviour": "answer", "answer_after": DAY.ring_s / ARGS.speed,
                "ring_after": 0.2, "hangup_after": None}
        answered = True
    elif roll < DAY.answer_rate + (1 - DAY.answer_rate) * DAY.busy_rate:
        body = {"number": number, "behaviour": "busy", "ring_after": 3 / ARGS.speed}
        answered = False
    else:
        # Rings out: the simulator's "busy" after the ring time stands in, so the ring is compressed too.
        body = {"number": number, "behaviour": "busy", "ring_after": DAY.ring_out_s / ARGS.speed}
        answered = False
    async with sim_http.post(sim_url.rstrip("/") + "/_sim/script", json=body) as resp:
        await resp.read()
    return answered


async def follow_call(s: Session, case_id: int, call_uuid: str) -> tuple[str, int | None]:
    """Follow one call on the socket until it ends; hang up after talking. Returns the end and the call id."""
    person = s.person
    talk_until = None
    end = ""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        wait = deadline - time.monotonic() if talk_until is None else max(0.05, talk_until - time.monotonic())
        try:
            data = await asyncio.wait_for(person.calls.get(), timeout=wait)
        except TimeoutError:
            if talk_until is not None:
                talk_until = None
                deadline = time.monotonic() + 30
                await s.request("hang up", "POST", "/cases/calls/hangup/", data={"call_uuid": call_uuid},
                                expect='"ok"')
            continue
        if data.get("type") == "call.status_changed" and data.get("call_uuid") == call_uuid:
            status = data.get("status")
            if status == "connected" and talk_until is None:
                talk_until = time.monotonic() + random.uniform(*DAY.talk_s) / ARGS.speed
            if status in ("ended", "refused"):
                end = status
                if status == "refused":
                    STATS.refused[str(data.get("message", ""))[:40]] += 1
                break
    if not end:
        STATS.calls_lost += 1
        return "lost", None
    if end == "refused":
        return end, None
    # The dialer writes the call record after the end; its call.recorded names the call to enter the outcome on.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            data = await asyncio.wait_for(person.calls.get(), timeout=deadline - time.monotonic())
        except TimeoutError:
            break
        if data.get("type") == "call.recorded" and data.get("case_id") == case_id:
            return end, data["call_id"] if data.get("needs_outcome") else None
    return end, None


async def collector_day(s: Session, end: float, sim_http, sim_url: str) -> None:
    person = s.person
    await s.open_live()
    chats: dict[int, int] = {}  # case id → document request id
    attempts = 0
    cycle = DAY_S / DAY.collector_attempts
    await until_or(end, random.uniform(0, cycle / ARGS.speed))  # people do not all start on the same second
    queue_ids: list[int] = []
    own = [c for c, _ in person.cases]
    mobiles = dict(person.cases)
    while time.monotonic() < end:
        started = time.monotonic()
        if attempts % DAY.queue_every == 0:
            body = await s.request("今日工作 page", "GET", "/work/")
            if body:
                queue_ids = [int(i) for i in dict.fromkeys(re.findall(r'href="/cases/(\d+)/"', body))
                             if int(i) in mobiles]
        case_id = queue_ids.pop(0) if queue_ids else random.choice(own)
        attempts += 1
        if await s.request("case page", "GET", f"/cases/{case_id}/") is None:
            continue
        await s.request("case work panel", "GET", f"/cases/{case_id}/work/", htmx=True)
        await script_far_end(sim_http, sim_url, mobiles[case_id])
        body = await s.request("dial", "POST", f"/cases/{case_id}/dial/call/", data={"contact": ""},
                               expect="call_uuid")
        if body:
            _, call_id = await follow_call(s, case_id, json.loads(body)["call_uuid"])
            if call_id is not None and time.monotonic() < end:
                await until_or(end, think(20))  # typing the notes
                result = random.choices(["self_answered", "third_party", "promise"], [55, 30, 15])[0]
                prefix = f"outcome-{call_id}-"
                data = {prefix + "result": result, prefix + "note": "客户称月底前处理"}
                if result == "promise":
                    data[prefix + "promise_date"] = (dt.date.today() + dt.timedelta(days=7)).isoformat()
                    data[prefix + "promise_amount"] = "800"
                await s.request("call outcome", "POST", f"/cases/{case_id}/work/calls/{call_id}/outcome/",
                                data=data, htmx=True, expect="通话结果已登记")
        if random.random() < DAY.collector_uploads / DAY.collector_attempts:
            await upload(s, case_id)
        if random.random() < DAY.collector_doc_requests / DAY.collector_attempts and case_id not in chats:
            STATS.sent[f"docreq:{case_id}"] = time.time()
            body = await s.request("document request", "POST", f"/cases/{case_id}/docreq/new/",
                                   ok_statuses=(302,), data={"items": ["address", "employer"],
                                                             "reason": "客户称已搬家，需要单位地址安排外访"})
            if body is not None:
                location = s.last_headers.get("Location", "")
                if m := re.search(r"/docreq/(\d+)/", location):
                    chats[case_id] = int(m.group(1))
        await answer_chats(s, end)
        await until_or(end, max(0.0, think(cycle) - (time.monotonic() - started)))


async def upload(s: Session, case_id: int) -> None:
    import aiohttp
    from PIL import Image

    photo = io.BytesIO()
    Image.new("RGB", (640, 480), (220, 220, 210)).save(photo, format="JPEG")  # a phone photo of a receipt
    form = aiohttp.FormData()
    form.add_field("kind", "attachment")
    form.add_field("file", photo.getvalue(), filename="还款凭证.jpg", content_type="image/jpeg")
    await s.request("file upload", "POST", f"/cases/{case_id}/work/files/", data=form, htmx=True, expect="已上传")


async def answer_chats(s: Session, end: float) -> None:
    """Answer every chat message that arrived (a collector thanks the clerk; a clerk answers the request)."""
    person = s.person
    pending = []
    while not person.chats.empty():
        pending.append(person.chats.get_nowait())
    for data in pending:
        if data.get("type") not in ("chat.message_posted", "docreq.opened"):
            continue
        if person.kind == "collector" and data.get("author_side") == "collector":
            continue
        request_id = data["request_id"]
        await s.request("chat page", "GET", f"/cases/docreq/{request_id}/")
        client_msg_id = uuid.uuid4().hex
        text = "收到，谢谢" if person.kind == "collector" else "单位地址已补充到委案资料，请查看附件说明"
        STATS.sent[client_msg_id] = time.time()
        await s.request("chat message", "POST", f"/cases/docreq/{request_id}/messages/", htmx=True,
                        data={"text": text, "client_msg_id": client_msg_id}, refuse='role="alert"')


async def clerk_day(s: Session, end: float, run_s: float) -> None:
    person = s.person
    await s.open_live()
    jobs = {"import": time.monotonic() + random.uniform(0, run_s / 2),
            "repayments": time.monotonic() + random.uniform(0, run_s / 2)}
    next_browse = time.monotonic() + think(DAY_S / DAY.clerk_browse)
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= jobs.get("import", float("inf")):
            del jobs["import"]
            await import_and_assign(s)
        if now >= jobs.get("repayments", float("inf")):
            del jobs["repayments"]
            await repayment_file(s)
        if now >= next_browse:
            await s.request("docreq inbox", "GET", "/cases/docreq/")
            await s.request("case list", "GET", "/cases/?status=in_progress")
            next_browse = time.monotonic() + think(DAY_S / DAY.clerk_browse)
        if not person.chats.empty():
            await until_or(end, think(DAY.clerk_answer_s))
            await answer_chats(s, end)
        await until_or(end, 0.5)


async def import_and_assign(s: Session) -> None:
    import aiohttp

    person = s.person
    await s.request("import page", "GET", "/cases/import/")
    form = aiohttp.FormData()
    form.add_field("bank", str(person.bank_id))
    form.add_field("file", person.workbook, filename="委案批次.xlsx",
                   content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    body = await s.request("import 5,000 rows", "POST", "/cases/import/", data=form, htmx=True, expect="导入成功")
    if body is None or not (m := re.search(r"\?batch=(\d+)", body)):
        return
    filters = f"batch={m.group(1)}&status=unassigned"
    await s.request("assign page", "GET", f"/cases/assign/?{filters}")
    data = {"filters": filters, "select_all": "1", "collector": [str(c) for c in person.team], "mode": "count",
            "reason": "新批次分配"}
    body = await s.request("assign preview", "POST", "/cases/assign/preview/", data=data, htmx=True,
                           expect='name="digest"')
    if body is None or not (m := re.search(r'name="digest" value="([^"]+)"', body)):
        return
    await s.request("assign 5,000 cases", "POST", "/cases/assign/confirm/", data={**data, "digest": m.group(1)},
                    htmx=True, refuse="form-error")


async def repayment_file(s: Session) -> None:
    import hashlib

    import aiohttp

    person = s.person
    data = await asyncio.to_thread(repayment_workbook, person.case_nos)
    await s.request("repayment file page", "GET", "/cases/repayments/file/")
    form = aiohttp.FormData()
    form.add_field("bank", str(person.bank_id))
    form.add_field("file", data, filename="回款明细.xlsx",
                   content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if await s.request(f"repayment file preview ({len(person.case_nos)} rows)", "POST", "/cases/repayments/file/",
                       data=form, expect="sha256") is None:
        return
    await s.request(f"repayment file confirm ({len(person.case_nos)} rows)", "POST",
                    "/cases/repayments/file/confirm/", ok_statuses=(302,),
                    data={"bank": str(person.bank_id), "sha256": hashlib.sha256(data).hexdigest(),
                          "filename": "回款明细.xlsx"})


async def manager_day(s: Session, end: float) -> None:
    await s.open_live("dashboard,lines")
    await s.request("dashboard page", "GET", "/cases/dashboard/")
    await s.request("lines board page", "GET", "/cases/lines/")
    next_dashboard = time.monotonic() + think(DAY.manager_dashboard_s)
    reports = itertools.cycle([("report page", "/cases/reports/"), ("batch progress page", "/cases/reports/batches/"),
                               ("collector list page", "/work/collectors/")])
    next_report = time.monotonic() + think(DAY.manager_report_s)
    while await until_or(end, min(next_dashboard, next_report) - time.monotonic()):
        if time.monotonic() >= next_dashboard:
            await s.request("dashboard page", "GET", "/cases/dashboard/")
            next_dashboard = time.monotonic() + think(DAY.manager_dashboard_s)
        if time.monotonic() >= next_report:
            kind, path = next(reports)
            await s.request(kind, "GET", path)
            next_report = time.monotonic() + think(DAY.manager_report_s)


# --- The run ------------------------------------------------------------------------------------------------

def pct(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return 0.0, 0.0, 0.0
    if len(values) == 1:
        return values[0], values[0], values[0]
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), qs[98], max(values)


def dashboard_latencies(people: list[Person]) -> list[float]:
    """The i-th calls_made frame a manager saw for a collector belongs to that collector's i-th call end after
    the manager's socket opened (counter frames are live only: the calls that ended before it are on the page)."""
    out: list[float] = []
    for manager in (p for p in people if p.kind == "manager" and p.live_since):
        for collector_id, ends in STATS.call_ends.items():
            seen = STATS.dashboard_seen.get((manager.user_id, collector_id), [])
            after = sorted(e for e in ends if e > manager.live_since)
            out.extend((arrived - ended) * 1000 for ended, arrived in zip(after, sorted(seen), strict=False))
    return out


def lost_events(people: list[Person], first_id: int) -> tuple[int, int, list[str]]:
    """Events stored for the people during the run against those their sockets received."""
    from cases.models import UserEvent

    stored = missing = 0
    examples: list[str] = []
    by_user = {p.user_id: p for p in people}
    for user_id, event_id, kind in UserEvent.objects.filter(user_id__in=by_user, id__gt=first_id).values_list(
            "user_id", "id", "type"):
        stored += 1
        if event_id not in by_user[user_id].event_ids:
            missing += 1
            if len(examples) < 5:
                examples.append(f"{kind} #{event_id} → {by_user[user_id].kind} {user_id}")
    return stored, missing, examples


async def drive(people: list[Person], base: str, sim_url: str) -> float:
    import aiohttp

    run_s = ARGS.minutes * 60
    async with aiohttp.ClientSession() as sim_http:
        for person in people:  # each collector's desk phone (the simulator adds those it does not have)
            if person.kind == "collector":
                async with sim_http.post(f"{sim_url.rstrip('/')}/_sim/phones/{person.ext}", json={}) as resp:
                    resp.raise_for_status()
        end = time.monotonic() + run_s
        sessions = [Session(p, base, end) for p in people]
        tasks = []
        for s in sessions:
            if s.person.kind == "collector":
                tasks.append(collector_day(s, end, sim_http, sim_url))
            elif s.person.kind == "clerk":
                tasks.append(clerk_day(s, end, run_s))
            else:
                tasks.append(manager_day(s, end))
        t0 = time.monotonic()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        wall = time.monotonic() - t0
        # The last pushes: wait until no frame has arrived for 5 s (at most 60 s), so a late frame is not lost.
        quiet_since, seen = time.monotonic(), STATS.counts.total()
        while time.monotonic() - quiet_since < 5 and time.monotonic() - t0 - wall < 60:
            await asyncio.sleep(0.5)
            if STATS.counts.total() != seen:
                quiet_since, seen = time.monotonic(), STATS.counts.total()
        for s in sessions:
            await s.close()
    for result in results:
        if isinstance(result, BaseException):
            STATS.error("person crashed", f"{type(result).__name__}: {result}")
    return wall


def report(people: list[Person], wall: float, sampler: Sampler | None, first_event_id: int) -> None:
    load = os.getloadavg()
    print(f"\nagency day: {ARGS.collectors} collectors, {ARGS.clerks} clerks, {ARGS.managers} managers; "
          f"{wall / 60:.1f} min at speed {ARGS.speed:g} (= {wall * ARGS.speed / 3600:.1f} h of the day); "
          f"{ARGS.lines} lines; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(f"\n{'request':<40} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind in sorted(STATS.requests):
        p50, p99, top = pct(STATS.requests[kind])
        print(f"{kind:<40} {len(STATS.requests[kind]):>6} {len(STATS.errors.get(kind, [])):>6} "
              f"{p50:>8.0f} {p99:>8.0f} {top:>8.0f}")
    STATS.pushes["dashboard (calls_made) → managers"] = dashboard_latencies(people)
    print(f"\n{'push':<40} {'count':>6} {'':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind in sorted(STATS.pushes):
        p50, p99, top = pct(STATS.pushes[kind])
        print(f"{kind:<40} {len(STATS.pushes[kind]):>6} {'':>6} {p50:>8.0f} {p99:>8.0f} {top:>8.0f}")
    calls = STATS.counts["call.recorded"]
    print(f"\ncalls recorded {calls}; refused by the dialer {sum(STATS.refused.values())} "
          f"{dict(STATS.refused.most_common(3))}; frames by type {dict(STATS.counts.most_common(8))}")
    stored, missing, examples = lost_events(people, first_event_id)
    reconnects = sum(p.reconnects for p in people)
    print(f"lost events: {missing} of {stored} stored events never reached a socket {examples}; "
          f"calls whose end never reached the collector: {STATS.calls_lost}; socket reconnects: {reconnects}")
    errors = [(kind, e) for kind, errs in STATS.errors.items() for e in errs]
    print(f"errors: {len(errors)}")
    for kind, e in errors[:15]:
        print(f"  {kind}: {e}")
    if sampler is not None:
        print("\nprocesses (CPU over the run, peak RSS):")
        print("\n".join(sampler.report(wall)))
        print(f"\nbusiest statements ({sampler.samples} samples of pg_stat_activity, one every 0.2 s; share of samples "
              f"in which the statement was running):")
        for query, n in sampler.statements.most_common(10):
            print(f"  {n / sampler.samples * 100:5.1f}%  {query}")


def main() -> None:
    if ARGS.serve_proxy:
        asyncio.run(serve_proxy(ARGS.serve_proxy))
        return
    people = prepare()
    from cases.models import UserEvent

    first_event_id = UserEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for person in people:  # a page is rendered with the latest event id (meta rt-after): nothing older replays
        person.last_event_id = first_event_id
    from django.db import connections

    connections.close_all()
    procs: list[subprocess.Popen[bytes]] = []
    sampler = None
    finished = False
    logs = Path(tempfile.mkdtemp(prefix="cm-bench-agencyday-logs-"))
    try:
        if ARGS.base_url:
            base, sim_url = ARGS.base_url.rstrip("/"), ARGS.sim_url
            # The stack's processes are not ours to watch (docker stats shows them); its database is.
            sampler = Sampler({}, os.environ["DATABASE_URL"].rsplit("/", 1)[1].split("?")[0])
            sampler.start()
        else:
            sim_port = free_port()
            phones = ",".join(p.ext for p in people if p.kind == "collector")
            procs.append(start("simulator", [sys.executable, "-m", "dialer.simulator", "--port", str(sim_port),
                                             "--lines", str(ARGS.lines), "--phones", phones, "--user", "asterisk",
                                             "--password", "bench-secret"], logs, sim_port))
            sim_url = f"http://127.0.0.1:{sim_port}/"
            os.environ["DIALER_ARI_URL"] = sim_url
            web_ports = [free_port(), free_port()]
            for n, port in enumerate(web_ports):
                procs.append(start(f"daphne {n + 1}", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p",
                                                       str(port), "asgi:application"], logs, port))
            proxy_port = free_port()
            procs.append(start("proxy", [sys.executable, __file__, "--serve-proxy",
                                         f"{proxy_port}=" + ",".join(f"127.0.0.1:{p}" for p in web_ports)],
                               logs, proxy_port))
            procs.append(start("dialer", [sys.executable, "manage.py", "run_dialer"], logs))
            procs.append(start("scheduler", [sys.executable, "manage.py", "run_scheduler"], logs))
            base = f"http://127.0.0.1:{proxy_port}"
            wait_for_dialer()
            groups = {proc.bench_name: [proc.pid] for proc in procs}  # type: ignore[attr-defined]
            groups["bench driver (this process)"] = [os.getpid()]
            groups["redis-server (shared)"] = pids_named("redis-server")
            sampler = Sampler(groups, DB_NAME)
            sampler.start()
        print(f"running {ARGS.minutes:g} min against {base} (logs in {logs})")
        wall = asyncio.run(drive(people, base, sim_url))
        if sampler is not None:
            sampler.stop_event.set()
            sampler.join(10)
        report(people, wall, sampler, first_event_id)
        finished = True
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not ARGS.keep and not ARGS.base_url:
            import shutil

            connections.close_all()
            admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
            shutil.rmtree(os.environ["MEDIA_ROOT"], ignore_errors=True)
            if finished and not any(STATS.errors.values()):  # the processes' logs explain errors and failures
                shutil.rmtree(logs, ignore_errors=True)
            else:
                print(f"the processes' logs are kept in {logs}")


def wait_for_dialer() -> None:
    from django.core.cache import cache

    deadline = time.monotonic() + 60
    while not (cache.get("dialer:health") or {}).get("ari_connected"):
        if time.monotonic() > deadline:
            raise SystemExit("the dialer did not connect to the simulator")
        time.sleep(0.3)


@contextlib.contextmanager
def in_calling_hours():
    """Outside the calling window (or within an hour of its end) the dialer refuses every call: then the run, this
    process and every process it starts, runs with its clock moved to 10:00 Shanghai time by one shared offset
    (tests/clock_shift.py), so their timestamps still agree. A running stack (--base-url) keeps its own clock."""
    from tests.clock_shift import SHANGHAI, moved_clock, shift_to_ten

    local = dt.datetime.now(SHANGHAI).time()
    if ARGS.base_url or ARGS.serve_proxy or dt.time(8) <= local < dt.time(21):
        yield
        return
    shift = shift_to_ten()
    os.environ["CM_CLOCK_SHIFT_S"] = f"{shift:.6f}"
    print(f"the calling window is closed at {local:%H:%M} Shanghai time: the run's clock reads 10:00")
    with moved_clock(shift):
        yield


if __name__ == "__main__":
    with in_calling_hours():
        main()
