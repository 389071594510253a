"""The dialer against a real Asterisk: the kit in ../shared/asterisk (README there), SIPp as phones and carrier.

One Asterisk per test session, in a fresh run dir, on loopback ports that are free (the defaults when they
are), with the carrier (sipp-trunk) and collector phones 8001–8003 (sipp-phone). Tests run the product's own
Dialer (dialer/app.py, aioari) in the test's event loop, or `manage.py run_dialer` as a process for the
signal tests, against the test database.

Where the kit lives: $ASTERISK_KIT, else ../shared/asterisk beside the checkout, else /work/shared/asterisk.
The build: $ASTERISK_PREFIX (default /opt/cm-asterisk), made by the kit's `build`. Without it every test
here is skipped with the reason, unless CM_ASTERISK_REQUIRED=1 (set by .ci/run), which makes it an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import zoneinfo
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache

from dialer.app import HEALTH_KEY, Dialer
from dialer.config import DialerConfig

REPO = Path(__file__).resolve().parents[2]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PHONES = ("8001", "8002", "8003")


def kit_dir() -> Path | None:
    candidates = [os.environ.get("ASTERISK_KIT", ""), str(REPO.parent / "shared" / "asterisk"),
                  "/work/shared/asterisk"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "start").is_file():
            return Path(candidate).resolve()
    return None


def prefix_dir() -> Path:
    return Path(os.environ.get("ASTERISK_PREFIX", "/opt/cm-asterisk"))


def missing_reason() -> str | None:
    kit = kit_dir()
    if kit is None:
        return "the Asterisk kit (../shared/asterisk) was not found; set ASTERISK_KIT"
    if not (prefix_dir() / "sbin" / "asterisk").exists():
        return f"no Asterisk build in {prefix_dir()}: run `bash {kit}/build` first"
    if shutil.which("sipp") is None:
        return "SIPp (Debian sip-tester) is not installed: the kit's build installs it"
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    ours = [item for item in items if Path(str(item.fspath)).is_relative_to(here)]
    for item in ours:
        item.add_marker(pytest.mark.asterisk)
        # Under pytest-xdist (--dist loadgroup) the whole suite runs on one worker: it shares one Asterisk.
        item.add_marker(pytest.mark.xdist_group("asterisk"))
    reason = missing_reason()
    if reason is None or not ours:
        return
    if os.environ.get("CM_ASTERISK_REQUIRED") == "1":
        raise pytest.UsageError(f"CM_ASTERISK_REQUIRED=1 but {reason}")
    for item in ours:
        item.add_marker(pytest.mark.skip(reason=f"real-Asterisk suite skipped: {reason}"))


# ---- the kit ------------------------------------------------------------------------------------------------

def _tcp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> dict[str, str]:
    """The kit's default ports when free, else a block shifted as a whole (another Asterisk on this machine)."""
    for k in range(8):
        http, sip, trunk, phone, media, rtp = 18088 + k * 10, 15060 + k * 100, 15070 + k * 100, 5100 + k * 100, \
            16000 + k * 500, 20000 + k * 1000
        udp = [sip, *range(trunk, trunk + 9), *(phone + n for n in range(1, 10))]
        if _tcp_free(http) and all(_udp_free(p) for p in udp):
            return {"ASTERISK_HTTP_PORT": str(http), "ASTERISK_SIP_PORT": str(sip), "ASTERISK_TRUNK_PORT": str(trunk),
                    "ASTERISK_PHONE_PORT_BASE": str(phone), "ASTERISK_SIPP_MEDIA_BASE": str(media),
                    "ASTERISK_RTP_START": str(rtp), "ASTERISK_RTP_END": str(rtp + 999)}
    raise RuntimeError("no free block of loopback ports for the test Asterisk")


class Kit:
    """One running Asterisk and its SIPp helpers; every helper runs with this run dir's env."""

    def __init__(self, kit: Path, run: Path) -> None:
        self.kit = kit
        self.run = run
        self.env: dict[str, str] = {}
        self.phone_modes: dict[str, tuple[str, ...]] = {}

    def _environ(self) -> dict[str, str]:
        return {**os.environ, "ASTERISK_PREFIX": str(prefix_dir()), "ASTERISK_RUN_DIR": str(self.run), "TZ":
                "Asia/Shanghai", **self.env}

    def script(self, name: str, *args: str, timeout: float = 90, check: bool = True) -> str:
        done = subprocess.run(["bash", str(self.kit / name), *args], env=self._environ(), capture_output=True,
                              text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout + done.stderr

    def start(self) -> None:
        """Start Asterisk; a second start (after a crash) reuses the run dir and its ports."""
        if not self.env:
            self.env = _ports()
        self.script("start", str(self.run))
        for line in (self.run / "env").read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, _, value = line.partition("=")
                self.env[key.strip()] = value.strip().strip("'\"")

    def stop(self) -> None:
        self.script("stop", str(self.run), check=False, timeout=60)

    @property
    def ari_url(self) -> str:
        return self.env["ASTERISK_ARI_URL"]

    @property
    def pid(self) -> int:
        return int((self.run / "asterisk.pid").read_text().strip())

    def cli(self, command: str) -> str:
        conf = self.run / "etc" / "asterisk.conf"
        done = subprocess.run([str(prefix_dir() / "sbin" / "asterisk"), "-C", str(conf), "-rx", command],
                              capture_output=True, text=True, timeout=30, check=False)
        return done.stdout

    # ---- SIPp ---------------------------------------------------------------------------------------------

    def phone(self, ext: str, *options: str) -> None:
        """(Re)start phone `ext` with these sipp-phone options (no options: rings 1 s, answers, talks on)."""
        if self.phone_modes.get(ext) == options:
            return
        if ext in self.phone_modes:
            self.script("sipp-phone", ext, "--stop", check=False)
        self.script("sipp-phone", ext, *options)
        self.phone_modes[ext] = options

    def phone_offline(self, ext: str) -> None:
        self.script("sipp-phone", ext, "--stop", check=False)
        self.phone_modes.pop(ext, None)

    def trunk(self, *options: str) -> None:
        self.script("sipp-trunk", "--stop", check=False)
        self.script("sipp-trunk", *options)

    def call(self, caller: str, exten: str = "95555", *options: str) -> Path:
        """An inbound call through the trunk, in the background; returns its .result file."""
        out = self.script("sipp-call", caller, exten, *options, "--background")
        for word in out.split():
            if word.endswith(".result"):
                return Path(word)
        raise RuntimeError(f"sipp-call printed no result file: {out}")

    # ---- ARI straight (what the test observes; the dialer has its own client) --------------------------------

    def ari(self, method: str, path: str) -> object:
        user, password = self.env["ASTERISK_ARI_USER"], self.env["ASTERISK_ARI_PASSWORD"]
        request = urllib.request.Request(f"{self.ari_url}ari/{path.lstrip('/')}", method=method,
                                         headers={"Connection": "close"})
        sep = "&" if "?" in path else "?"
        request.full_url = f"{request.full_url}{sep}api_key={user}:{password}"
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            body = response.read()
        return json.loads(body) if body else None

    def stored_recordings(self) -> list[str]:
        return [r["name"] for r in self.ari("GET", "recordings/stored")]  # type: ignore[union-attr]

    def channels(self) -> list[dict]:
        return self.ari("GET", "channels")  # type: ignore[return-value]

    def bridges(self) -> list[dict]:
        return self.ari("GET", "bridges")  # type: ignore[return-value]


@pytest.fixture(scope="session")
def kit():
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    path = kit_dir()
    assert path is not None
    # Short path: Asterisk's control socket path must stay under 100 characters.
    run = Path(tempfile.mkdtemp(prefix="cm-ast-", dir="/tmp"))
    asterisk = Kit(path, run)
    asterisk.start()
    try:
        asterisk.trunk("--answer-after", "0.5", "--hangup-after", "3")
        for ext in PHONES:
            asterisk.phone(ext, "--answer-after", "0.3")
        yield asterisk
    finally:
        asterisk.stop()
        if os.environ.get("CM_ASTERISK_KEEP_RUN") != "1":
            shutil.rmtree(run, ignore_errors=True)


@pytest.fixture
def asterisk(kit):
    """The session's Asterisk, with the default phones back in their default mode and nothing left over."""
    for ext in PHONES:
        kit.phone(ext, "--answer-after", "0.3")
    yield kit
    for channel in kit.channels():
        with contextlib.suppress(Exception):
            kit.ari("DELETE", f"channels/{channel['id']}")
    for bridge in kit.bridges():
        with contextlib.suppress(Exception):
            kit.ari("DELETE", f"bridges/{bridge['id']}")
    for name in kit.stored_recordings():
        with contextlib.suppress(Exception):
            kit.ari("DELETE", f"recordings/stored/{name}")


# ---- the product's dialer ------------------------------------------------------------------------------------

def config_for(kit: Kit, **overrides) -> DialerConfig:
    values = {"ari_url": kit.ari_url, "ari_user": kit.env["ASTERISK_ARI_USER"],
              "ari_password": kit.env["ASTERISK_ARI_PASSWORD"], "app": kit.env.get("ASTERISK_APP", "collect"),
              "trunk": "trunk", "lines": 6, "drain_timeout_s": 10, "collector_ring_s": 4, "customer_ring_s": 4,
              "reconnect_max_s": 1, "simulator": False, "fallback_extensions": ("8002",)}
    values.update(overrides)
    return DialerConfig(**values)


async def until(predicate, timeout: float = 10.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(step)
    raise AssertionError("condition not met in time")


async def until_db(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await sync_to_async(predicate)()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


class Running:
    """The product's Dialer in the test's loop, as run_dialer runs it (minus the signal handlers)."""

    def __init__(self, dialer: Dialer) -> None:
        self.dialer = dialer
        self.task: asyncio.Task | None = None

    @property
    def handlers(self):
        return self.dialer.handlers

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.dialer.run(install_signals=False))
        await until(lambda: self.dialer.client.connected.is_set(), 15)
        await until_db(lambda: bool((cache.get(HEALTH_KEY) or {}).get("ari_connected")), 10)
        return self

    async def __aexit__(self, *exc) -> None:
        object.__setattr__(self.dialer.config, "drain_timeout_s", 1)
        self.dialer.stop()
        assert self.task is not None
        done, _ = await asyncio.wait({self.task}, timeout=20)
        if not done:
            self.task.cancel()
            raise AssertionError("Dialer.run() did not return within 20 s of stop()")
        self.task.result()


@pytest.fixture
def running(asterisk):
    def start(**overrides) -> Running:
        return Running(Dialer(config_for(asterisk, **overrides), heartbeat_s=0.5, backoff_initial_s=0.1))
    return start


@pytest.fixture(autouse=True)
def _inside_calling_hours(monkeypatch):
    """The compliance window is 08:00–21:00 Shanghai time and Asterisk's clock is the real one, so outside
    those hours only the compliance check is told it is 10:00 (its own tests are in tests/dialer)."""
    from dialer import compliance

    now = dt.datetime.now(SHANGHAI)
    if dt.time(8, 5) <= now.time() <= dt.time(20, 55):
        return
    real = compliance.check

    def at_ten(facts, *, local_now):
        return real(facts, local_now=local_now.replace(hour=10, minute=0))
    monkeypatch.setattr(compliance, "check", at_ten)


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()
