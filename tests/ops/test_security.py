"""Security review checks: login throttling, CSRF on every POST URL, an IDOR sweep over every object URL,
forged uploads, and websockets without or with a foreign session."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cases.models import StoredFile
from tests import factories as f
from tests import test_permissions as perms
from tests.realtime import conftest as realtime_conftest
from tests.test_permissions import MATRIX, NOT_ALLOWED, OK, REDIRECT, ROLES, Route, _client

pytestmark = pytest.mark.django_db

# The permission matrix's world and its autouse fixtures (objects of every kind), shared with this sweep.
globals().update({name: value for name, value in vars(perms).items()
                  if type(value).__name__ == "FixtureFunctionDefinition"})
ws_connect = realtime_conftest.ws_connect


# --- login throttling ------------------------------------------------------------------------------------

def test_five_failed_logins_lock_the_account_with_a_chinese_page(collector):
    # given
    client = Client()
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "collector", "password": "wrong-password"})
    # when: even the right password is refused now
    response = client.post(reverse("accounts:login"), {"username": "collector", "password": f.PASSWORD})
    # then
    assert response.status_code == 429
    text = response.content.decode()
    assert "登录失败次数过多" in text and "15 分钟" in text
    assert client.get(reverse("cases:case-list")).status_code == 302


def test_four_failures_still_let_the_right_password_in(collector):
    # given
    client = Client()
    for _ in range(4):
        client.post(reverse("accounts:login"), {"username": "collector", "password": "wrong-password"})
    # when
    response = client.post(reverse("accounts:login"), {"username": "collector", "password": f.PASSWORD})
    # then
    assert response.status_code == 302 and response["Location"] == reverse("frontend:home")


# --- CSRF ------------------------------------------------------------------------------------------------

POSTS = [r for r in MATRIX if r.method == "post"]


def _allowed_role(route: Route) -> str | None:
    for role in ROLES:
        if role != "anonymous" and route.expect[role] in (OK, REDIRECT):
            return role
    return None


@pytest.mark.parametrize("route", POSTS, ids=[r.name for r in POSTS])
def test_every_post_url_refuses_a_request_without_csrf_token(request, world, other_clerk, other_collector,
                                                             field_collector, manager, sysadmin, route):
    # given: the role that may do it, in a browser-like client that enforces CSRF
    role = _allowed_role(route)
    if role is None:
        pytest.skip("no role may post here")
    client = Client(enforce_csrf_checks=True)
    client.force_login(request.getfixturevalue(role))
    # when
    response = client.post(route.url(world), {})
    # then
    assert response.status_code == 403, f"{route.name} accepted a POST without CSRF token ({role})"


def test_every_post_url_of_the_product_is_in_the_csrf_sweep():
    # given: URL names whose views only answer POST (the matrix says 405 to a GET for everyone signed in)
    get_405 = {r.name for r in MATRIX if r.method == "get" and NOT_ALLOWED in r.expect.values()}
    # then
    assert get_405 <= {r.name for r in POSTS} | {"accounts:logout", "ops:backup-start", "ops:vpn-delete"}


# --- IDOR sweep ------------------------------------------------------------------------------------------

_NO_KWARGS = Route.__dataclass_fields__["kwargs"].default
OBJECT_GETS = [r for r in MATRIX if r.method == "get" and r.kwargs is not _NO_KWARGS]


def _variants(kwargs: dict[str, object]) -> list[dict[str, object]]:
    """The world's ids and their neighbours (sequential ids are what an attacker walks)."""
    out = [kwargs]
    for key, value in kwargs.items():
        if isinstance(value, int):
            out += [{**kwargs, key: value + d} for d in (-2, -1, 1, 2) if value + d > 0]
    return out


@pytest.mark.parametrize("route", OBJECT_GETS, ids=[r.name for r in OBJECT_GETS])
def test_idor_sweep_no_foreign_object_leaks(request, world, other_clerk, other_collector, field_collector,
                                            manager, sysadmin, route):
    # given: every role that must not see the world's object, with the world's ids and their neighbours
    kwargs = route.kwargs(world)
    denied = [role for role in ROLES if route.expect[role] not in (OK,)]
    for role in denied:
        client = _client(request, role)
        for variant in _variants(kwargs):
            # when
            try:
                url = reverse(route.name, kwargs=variant)
            except Exception:
                continue
            response = client.get(url, route.query)
            # then: never the world's debtor or ID number
            if response.status_code == 200 and not getattr(response, "streaming", False):
                text = response.content.decode(errors="replace")
                assert "王权限" not in text and world.id_number not in text, (route.name, role, variant)


# --- forged uploads --------------------------------------------------------------------------------------

EXE = b"MZ\x90\x00" + b"\x00" * 200
HTML = b"<html><script>alert(document.cookie)</script></html>"


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (300 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("合同.pdf", EXE, "document"),
    ("门牌.jpg", HTML, "photo"),
    ("通话.wav", EXE, "recording"),
    ("表格.pdf", b"%PDF", "visit_form_pdf"),
])
def test_forged_case_files_are_refused(world, collector, name, content, kind):
    # given
    client = Client()
    client.force_login(collector)
    # when
    response = client.post(reverse("cases:file-upload", kwargs={"case_id": world.case_id}),
                           {"kind": kind, "file": SimpleUploadedFile(name, content, "application/pdf")})
    # then
    assert response.status_code in (200, 400)
    assert not StoredFile.objects.filter(original_name=name).exists()


def test_zip_bomb_workbook_is_refused(clerk, bank):
    # given
    client = Client()
    client.force_login(clerk)
    bomb = SimpleUploadedFile("批次.xlsx", _zip_bomb(),
                              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    # when
    response = client.post(reverse("cases:batch-import"), {"bank": bank.pk, "file": bomb})
    # then
    from cases.models import Batch

    assert response.status_code in (200, 400)
    assert not Batch.objects.exists()


# --- websockets ------------------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_websocket_without_session_is_refused(ws_connect):
    # when
    communicator = await ws_connect(None)
    # then
    closed = await communicator.receive_output(timeout=10)
    assert closed["type"] == "websocket.close" and closed["code"] == 4401


@pytest.mark.django_db(transaction=True)
async def test_websocket_with_a_forged_session_is_refused():
    # given
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"),
               (b"cookie", f"{settings.SESSION_COOKIE_NAME}=forged0123456789abcdefghijklmnop".encode())]
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
    # when
    connected, _ = await communicator.connect(timeout=10)
    closed = await communicator.receive_output(timeout=10)
    await communicator.wait(timeout=10)
    # then
    assert connected and closed["code"] == 4401


@pytest.mark.django_db(transaction=True)
async def test_websocket_from_a_foreign_origin_is_refused(collector):
    # given
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from asgi import application
    from tests.realtime.conftest import session_cookie_for

    cookie = await database_sync_to_async(session_cookie_for)(collector)
    headers = [(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1"), (b"cookie", cookie.encode())]
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
    # when
    connected, _ = await communicator.connect(timeout=5)
    # then
    assert not connected
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_websocket_of_a_deactivated_user_is_refused(collector, ws_connect):
    # given
    from channels.db import database_sync_to_async

    from accounts.models import User

    await database_sync_to_async(User.objects.filter(pk=collector.pk).update)(is_active=False)
    # when
    communicator = await ws_connect(collector)
    closed = await communicator.receive_output(timeout=10)
    # then
    assert closed["code"] == 4401


@pytest.mark.django_db(transaction=True)
async def test_websocket_cannot_subscribe_to_a_foreign_case(world, other_collector, ws_connect):
    # when
    communicator = await ws_connect(other_collector, f"/ws/live/?topics=case:{world.case_id}")
    closed = await communicator.receive_output(timeout=10)
    # then
    assert closed["code"] == 4403
