"""Live servers and browsers for end-to-end tests.

pytest-django's `live_server` is WSGI and has no websockets, so these fixtures start real daphne processes
(`asgi:application`) on free loopback ports against the test database, with the channel layer the
environment configures (in-memory by default, channels-redis when REDIS_URL is set, which lets several
daphne processes share events).

- `live_url`: base URL of a shared daphne (scheduler off). Data must be committed: it depends on
  `transactional_db`.
- `start_daphne(**env)`: start another daphne for this test only (e.g. SCHEDULER_EMBEDDED="1", or a second
  web process); returns its base URL; stopped at the end of the test. `daphne_args=[...]` adds command-line
  options (e.g. the ones docker-compose.yml ships).
- `browser_page(user=None, base_url=None)`: a new browser context (own cookies), signed in as `user` by a
  session cookie, and a page in it; call it twice for two people side by side.
- `login_cookie(user, base_url)`: the session cookie dict Playwright's add_cookies takes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
# `./dev test` runs two workers on two cores, so a page may answer slower than alone: assertions wait up to 10 s
# for what they expect (they return as soon as it holds; only a failing one takes the whole wait).
expect.set_options(timeout=10_000)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url_of_test_db() -> str:
    """A DATABASE_URL naming the test database this pytest session created."""
    from django.db import connection

    cfg = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(cfg["NAME"])
        if name.startswith("file:") or name == ":memory:":
            raise RuntimeError("live servers need a file-based SQLite test database (see tests/conftest.py)")
        return f"sqlite:///{name}"
    if connection.vendor == "postgresql":
        user = cfg.get("USER") or "postgres"
        password = f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else ""
        host = cfg.get("HOST") or "127.0.0.1"
        port = cfg.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{cfg['NAME']}"
    raise RuntimeError(f"no live server support for {connection.vendor}")


class DaphneProcess:
    def __init__(self, *, env: dict[str, str], args: list[str] | tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="daphne-", suffix=".log", delete=False)  # noqa: SIM115
        full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.browser.live_settings",
                    "DATABASE_URL": database_url_of_test_db(), "SCHEDULER_EMBEDDED": "0", "PYTHONUNBUFFERED": "1",
                    **env}
        if not full_env.get("REDIS_URL"):
            full_env.pop("REDIS_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), *args, "asgi:application"],
            cwd=ROOT, env=full_env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"daphne did not start within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(Path(self.log.name).read_text(errors="replace").splitlines()[-n:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


@pytest.fixture(scope="session")
def _shared_daphne(django_db_setup, django_db_blocker) -> Iterator[DaphneProcess]:
    with django_db_blocker.unblock():
        server = DaphneProcess(env={})
    yield server
    server.stop()


@pytest.fixture
def live_url(transactional_db, _shared_daphne) -> str:
    return _shared_daphne.url


@pytest.fixture
def start_daphne(transactional_db) -> Iterator[Callable[..., str]]:
    started: list[DaphneProcess] = []

    def _start(*, daphne_args: list[str] | tuple[str, ...] = (), **env: str) -> str:
        server = DaphneProcess(env=env, args=daphne_args)
        started.append(server)
        return server.url

    yield _start
    for server in started:
        server.stop()


def login_cookie(user, base_url: str) -> dict[str, object]:
    """A signed-in session for `user`, as a Playwright cookie for `base_url`."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": base_url}


# Module scope: Playwright's sync API keeps its event loop running in this thread for as long as it lives,
# and pytest-asyncio cannot run the async tests of other modules while it does.
@pytest.fixture(scope="module")
def _browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django's guard would then refuse
    # the ORM calls that set up test data. The tests' own code is synchronous, so the guard is lifted
    # while the browser lives (as Playwright's documentation for Django advises).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_page(_browser, live_url) -> Iterator[Callable[..., object]]:
    contexts = []

    def _open(user=None, *, base_url: str | None = None, viewport: dict[str, int] | None = None):
        base = base_url or live_url
        context = _browser.new_context(base_url=base, locale="zh-CN", timezone_id="Asia/Shanghai",
                                       viewport=viewport or {"width": 1400, "height": 900})
        if user is not None:
            context.add_cookies([login_cookie(user, base)])
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()
