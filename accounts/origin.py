"""Where a request comes from: the client's IP address (trusting only our own proxies) and its user agent.

One mechanism for every audit entry made while serving a request (PIPL): `RequestOriginMiddleware` binds the
request's origin for as long as the request is handled, websocket consumers bind theirs around each client
message, and `accounts.actions.audit_record` reads the bound origin when it is not handed a request. So an
action several layers below the view (an export, a repayment, an import, an assignment) records the address
and browser without every call site passing the request down.

The client address: the peer of the web process (REMOTE_ADDR; daphne must run *without* --proxy-headers,
which would put the left-most, client-chosen X-Forwarded-For there). When that peer is one of
settings.TRUSTED_PROXIES, X-Forwarded-For is read from the right, skipping trusted proxies: the first address
that is not ours is the one the proxy saw. Anything to its left was written by the client and is ignored, so a
client cannot pick a new address for every login attempt.

Must not import `cases` or `realtime`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

USER_AGENT_MAX = 300

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RequestOrigin:
    ip: str | None
    user_agent: str


_current: ContextVar[RequestOrigin | None] = ContextVar("request_origin", default=None)


@lru_cache(maxsize=8)
def _trusted_networks(spec: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _parse(value: str) -> IPAddress | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[v6]:port"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "v4:port"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_trusted(address: IPAddress) -> bool:
    return any(address in net for net in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip_from_meta(meta: Mapping[str, object]) -> str | None:
    """The client's address from a request's META (see the module docstring for whom it trusts)."""
    peer = _parse(str(meta.get("REMOTE_ADDR") or ""))
    if peer is None:
        return None
    if not _is_trusted(peer):
        return str(peer)
    hops = [h for h in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return str(peer)  # a garbled hop written by someone we do not trust: stop at what we know
        if not _is_trusted(address):
            return str(address)
    if hops:  # every hop is one of our proxies
        return str(_parse(hops[0]))
    real = _parse(str(meta.get("HTTP_X_REAL_IP") or ""))
    return str(real or peer)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address of `request` (django-axes calls this too: settings.AXES_CLIENT_IP_CALLABLE)."""
    if request is None:
        return None
    return client_ip_from_meta(request.META)


def origin_of(request: HttpRequest) -> RequestOrigin:
    agent = str(request.META.get("HTTP_USER_AGENT") or "")
    return RequestOrigin(ip=client_ip(request), user_agent=agent[:USER_AGENT_MAX])


def origin_of_scope(scope: Mapping[str, object]) -> RequestOrigin:
    """The origin of an ASGI connection (a websocket), read like a request's META."""
    meta: dict[str, object] = {}
    client = scope.get("client")
    if isinstance(client, list | tuple) and client:
        meta["REMOTE_ADDR"] = str(client[0])
    raw_headers = scope.get("headers") or []
    for name, value in raw_headers:  # type: ignore[attr-defined]
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        meta[key] = f"{meta[key]},{text}" if key in meta else text
    return RequestOrigin(
        ip=client_ip_from_meta(meta), user_agent=str(meta.get("HTTP_USER_AGENT") or "")[:USER_AGENT_MAX]
    )


def current_origin() -> RequestOrigin | None:
    """The origin bound for the request or client message being handled now, if any."""
    return _current.get()


@contextmanager
def bound_origin(origin: RequestOrigin | None) -> Iterator[None]:
    token = _current.set(origin)
    try:
        yield
    finally:
        _current.reset(token)


def with_origin(chunks: Iterator[bytes], origin: RequestOrigin | None) -> Iterator[bytes]:
    """Pull `chunks` with `origin` bound: a streamed export audits when its first chunk is produced, after the
    middleware has returned."""
    try:
        while True:
            with bound_origin(origin):
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
            yield chunk
    finally:
        # Closed early (the client went away): close the source too (zip, cursor, file).
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


class RequestOriginMiddleware:
    """Binds the request's origin (IP address, user agent) while the request is handled."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with bound_origin(origin_of(request)):
            return self.get_response(request)
