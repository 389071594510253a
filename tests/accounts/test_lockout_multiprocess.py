"""Login lockout across real web processes run the way docker-compose.yml ships them, behind a proxy that
appends the address it saw to X-Forwarded-For (deploy/nginx.conf: $proxy_add_x_forwarded_for).

An attacker writes their own X-Forwarded-For: a new made-up address for every guess. Only the hop our proxy
appended counts, and the user name is locked as well as the address.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import aiohttp
import pytest
from channels.db import database_sync_to_async

from accounts.models import AuditAction, AuditEntry
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
RIGHT = "Right-Password-2026"
pytestmark = pytest.mark.timeout(180)


def shipped_daphne_options() -> list[str]:
    """The daphne options of the `web` service in docker-compose.yml, less the bind address and port."""
    compose = (ROOT / "docker-compose.yml").read_text()
    web = compose.split("\n  web:\n", 1)[1]
    command = re.search(r"command:\s*\[(.*?)\]", web).group(1)
    args = [a.strip().strip('"') for a in command.split(",")]
    assert args[0] == "daphne" and args[-1] == "asgi:application", args
    options, skip = [], False
    for arg in args[1:-1]:
        if skip:
            skip = False
        elif arg in ("--bind", "-b", "--port", "-p"):
            skip = True
        else:
            options.append(arg)
    return shlex.split(" ".join(options))


async def _login(base: str, username: str, password: str, *, forwarded: str) -> tuple[int, bool]:
    """One sign-in attempt from a fresh browser, through the proxy: (status, signed in?)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        page = await http.get(base + "/accounts/login/", headers={"X-Forwarded-For": forwarded})
        html = await page.text()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        response = await http.post(
            base + "/accounts/login/",
            allow_redirects=False,
            data={"csrfmiddlewaretoken": token, "username": username, "password": password},
            headers={"X-Forwarded-For": forwarded, "Referer": base + "/accounts/login/"},
        )
        signed_in = response.status == 302 and "sessionid" in {c.key for c in http.cookie_jar}
        return response.status, signed_in


def _user(username: str):
    user = f.CollectorFactory(username=username)
    user.set_password(RIGHT)
    user.save()
    return user


async def test_spoofed_forwarded_for_does_not_dodge_the_lockout_across_two_processes(start_daphne):
    # given: two web processes started as shipped, and a user
    options = shipped_daphne_options()
    servers = [start_daphne(daphne_args=options), start_daphne(daphne_args=options)]
    await database_sync_to_async(_user)("target")
    # when: 8 wrong guesses from one machine, each claiming another address to the left of the proxy's hop
    for i in range(8):
        status, signed_in = await _login(
            servers[i % 2], "target", f"wrong-{i}", forwarded=f"198.18.{i}.{i + 1}, 203.0.113.50"
        )
        assert not signed_in
    # then: the right password no longer signs in, on either process
    for base in servers:
        status, signed_in = await _login(base, "target", RIGHT, forwarded="198.18.99.99, 203.0.113.50")
        assert (status, signed_in) == (429, False)
    # and the failures were recorded with the proxy's address, not the made-up ones
    ips = await database_sync_to_async(
        lambda: set(AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).values_list("ip_address", flat=True))
    )()
    assert ips == {"203.0.113.50"}


async def test_guesses_from_many_real_addresses_lock_the_user_name(start_daphne):
    # given
    options = shipped_daphne_options()
    servers = [start_daphne(daphne_args=options), start_daphne(daphne_args=options)]
    await database_sync_to_async(_user)("target2")
    # when: a botnet, each guess from a different real address
    for i in range(6):
        _, signed_in = await _login(servers[i % 2], "target2", f"wrong-{i}", forwarded=f"203.0.113.{10 + i}")
        assert not signed_in
    # then: the user name is locked wherever the next attempt comes from
    status, signed_in = await _login(servers[0], "target2", RIGHT, forwarded="203.0.113.200")
    assert (status, signed_in) == (429, False)
