"""AppConsumer: the websocket base every consumer builds on.

- Authenticates by the Django session (AuthMiddlewareStack in asgi.py; the origin is checked there too by
  AllowedHostsOriginValidator). Anonymous or inactive users are closed with 4401, forbidden topics 4403.
- Joins the groups `groups_for(user)` returns (checked by policy there) and leaves them on disconnect.
- Catch-up (R1): the client connects with `?after=<last event id it saw>`; the consumer joins its groups
  FIRST, then replays the user's stored events newer than that id, then lets live messages through. A
  live message that was also replayed is dropped by its event id, so there is neither gap nor duplicate
  (the client de-duplicates by id as well).
- Generic dispatch: the channels handler of an event is its type with dots turned into underscores; every
  type in realtime.events.EVENT_TYPES is forwarded to the browser as JSON unless a subclass defines a
  handler of its own.
- A socket never outlives its session (accounts.sessions, realtime.access): it joins `session.<digest>` and
  `account.<id>` and closes with 4401 when the session ends (logout), the account is deactivated or its
  password reset; the session is re-checked on connect, on every client frame and every
  REALTIME_SESSION_CHECK_SECONDS (idle expiry). A user who must first change a temporary password or enrol a
  second factor gets no socket. When a case is taken from the user (CaseAccessRevoked) every topic is
  resolved again and those no longer visible are left.
- Every client frame is handled with the connection's origin bound (accounts.origin): what it audits carries
  the IP address and user agent. A binary frame or one that is not JSON is answered, never fatal.
- Groups many sockets of a process watch (`groups.is_broadcast`: dashboards, lines) are joined through
  realtime.fanout: one member per process, each event encoded once, bursts written as one batch frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs

from asgiref.typing import WebSocketReceiveEvent
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.models import User
from accounts.origin import RequestOrigin, bound_origin, origin_of_scope
from accounts.sessions import session_refusal
from cases.selectors.notifications import REPLAY_LIMIT, user_event_messages_after
from realtime import groups
from realtime.consumers.topics import TopicForbidden, parse_topics, resolve_topic
from realtime.events import EVENT_ID_KEY, EVENT_TYPES, handler_name
from realtime.fanout import broadcast_join, broadcast_leave

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

Handler = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]

# Client → server messages other areas handle (e.g. "chat.typing"): name → sync function(user, content)
# run in a thread. Register with @client_action("<name>").
CLIENT_ACTIONS: dict[str, Callable[[User, dict[str, Any]], dict[str, Any] | None]] = {}


def client_action(name: str) -> Callable[[Callable[[User, dict[str, Any]], dict[str, Any] | None]],
                                         Callable[[User, dict[str, Any]], dict[str, Any] | None]]:
    def decorate(fn: Callable[[User, dict[str, Any]], dict[str, Any] | None]) -> Callable[
            [User, dict[str, Any]], dict[str, Any] | None]:
        CLIENT_ACTIONS[name] = fn
        return fn

    return decorate


class AppConsumer(AsyncJsonWebsocketConsumer):
    user: User | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined: list[str] = []
        self.last_event_id = 0
        # Topic spec ("case:12") → the groups it joined, to resolve again when access changes.
        self.topic_groups: dict[str, list[str]] = {}
        self.control_groups: set[str] = set()
        self.origin: RequestOrigin | None = None
        self.session_key: str | None = None
        self.session_watch: asyncio.Task[None] | None = None
        self.closing = False
        # Broadcast frames that arrive between joining a group and accepting the socket (a send before the
        # accept is an error): written right after the accept.
        self.early_broadcasts: list[tuple[str, list[dict[str, Any]]]] | None = []

    # --- the parts subclasses choose -----------------------------------------------------------------

    def groups_for(self, user: User) -> list[str]:
        """Groups this connection joins (sync: may query). Raise TopicForbidden to refuse the connection."""
        return [groups.user(user.pk)]

    def query_param(self, name: str, default: str = "") -> str:
        raw = self.scope.get("query_string", b"").decode("latin-1")
        values = parse_qs(raw).get(name)
        return values[-1] if values else default

    # --- lifecycle -----------------------------------------------------------------------------------

    async def connect(self) -> None:
        # object: the stubs call it a UserLazyObject, which at run time answers isinstance for the user it wraps.
        user: object = self.scope.get("user")
        self.origin = origin_of_scope(self.scope)
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        # An AnonymousUser (or no user) is not a User.
        if not isinstance(user, User) or not user.is_active:
            # Accept first so the browser sees the code (a refused handshake only says 403).
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        refusal = await database_sync_to_async(session_refusal)(session_key=self.session_key, user_id=user.pk)
        if refusal is not None:
            logger.info("websocket of user %s refused: %s", user.pk, refusal)
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        try:
            wanted = await database_sync_to_async(self.groups_for)(user)
        except TopicForbidden as exc:
            logger.info("websocket of user %s refused: %s", user.pk, exc)
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # Join before replaying: anything committed after the replay query arrives live (no gap). The control
        # groups first: a logout or deactivation from now on reaches this socket.
        assert self.session_key is not None
        self.control_groups = {groups.account(user.pk), groups.session(self.session_key)}
        for name in dict.fromkeys([*sorted(self.control_groups), *wanted]):
            await self.join_group(name)
        await self.accept()
        early, self.early_broadcasts = self.early_broadcasts or [], None
        for frame, messages in early:
            await self.send_broadcast(frame, messages)
        self.session_watch = asyncio.ensure_future(self.watch_session())
        after = self.query_param("after")
        if after.isdigit():
            await self.replay(after=int(after))

    async def replay(self, *, after: int) -> None:
        assert self.user is not None
        self.last_event_id = after
        messages = await database_sync_to_async(user_event_messages_after)(user_id=self.user.pk, after=after)
        for message in messages:
            await self.send_json(message)
            event_id = message.get(EVENT_ID_KEY)
            if isinstance(event_id, int):
                self.last_event_id = max(self.last_event_id, event_id)
        await self.send_json({"type": "realtime.replayed", "count": len(messages),
                              "last_event_id": self.last_event_id, "truncated": len(messages) >= REPLAY_LIMIT})

    async def disconnect(self, code: int) -> None:
        if self.session_watch is not None:
            self.session_watch.cancel()
            self.session_watch = None
        self.closing = True
        for name in list(self.joined):
            await self.leave_group(name)

    async def join_group(self, name: str) -> None:
        if groups.is_broadcast(name):
            await broadcast_join(self.channel_layer, name, self)
        else:
            await self.channel_layer.group_add(name, self.channel_name)
        self.joined.append(name)

    async def leave_group(self, name: str) -> None:
        self.joined.remove(name)
        if groups.is_broadcast(name):
            await broadcast_leave(self.channel_layer, name, self)
        else:
            await self.channel_layer.group_discard(name, self.channel_name)

    # --- the session behind the socket ---------------------------------------------------------------

    async def session_ok(self) -> bool:
        """Whether the session is still good; closes the socket (4401) when it is not."""
        if self.user is None or self.closing:
            return False
        refusal = await database_sync_to_async(session_refusal)(session_key=self.session_key, user_id=self.user.pk)
        if refusal is None:
            return True
        logger.info("websocket of user %s closed: %s", self.user.pk, refusal)
        await self.end(CLOSE_UNAUTHENTICATED)
        return False

    async def end(self, code: int) -> None:
        if self.closing:
            return
        self.closing = True
        await self.close(code=code)

    async def watch_session(self) -> None:
        """Idle expiry has no event: look at the session every so often while the socket is open."""
        interval = max(float(getattr(settings, "REALTIME_SESSION_CHECK_SECONDS", 60)), 0.2)
        with contextlib.suppress(asyncio.CancelledError):
            while not self.closing:
                await asyncio.sleep(interval)
                try:
                    if not await self.session_ok():
                        return
                except Exception:  # a process edge: a failed look-up (database restarting) tries again later
                    logger.exception("session check of websocket of user %s failed", getattr(self.user, "pk", None))

    async def session_ended(self, message: dict[str, Any]) -> None:
        await self.end(CLOSE_UNAUTHENTICATED)

    async def account_signed_out(self, message: dict[str, Any]) -> None:
        await self.end(CLOSE_UNAUTHENTICATED)

    async def account_case_access_revoked(self, message: dict[str, Any]) -> None:
        await self.recheck_access()

    async def recheck_access(self) -> None:
        """Resolve every topic again; leave those the user may no longer see and say so to the page."""
        assert self.user is not None
        for spec, names in list(self.topic_groups.items()):
            try:
                await database_sync_to_async(resolve_topic)(self.user, spec)
            except TopicForbidden:
                for name in names:
                    if name in self.joined and name not in self.control_groups:
                        await self.leave_group(name)
                del self.topic_groups[spec]
                await self.send_json({"type": "realtime.revoked", "topic": spec,
                                      "message": "您已无权查看该内容，实时更新已停止"})

    # --- server → client -----------------------------------------------------------------------------

    async def forward_event(self, message: dict[str, Any]) -> None:
        """Send a registered event to the browser as JSON, once per stored event id."""
        event_id = message.get(EVENT_ID_KEY)
        if isinstance(event_id, int):
            if event_id <= self.last_event_id:
                return  # already replayed on connect
            self.last_event_id = event_id
        await self.send_json(message)

    async def send_broadcast(self, frame: str, messages: list[dict[str, Any]]) -> None:
        """A broadcast group's messages (realtime.fanout): the frame encoded once for every socket, unless one
        of them needs this socket's own handling (a stored event id, a handler of this consumer's own)."""
        if self.closing:
            return
        if self.early_broadcasts is not None:
            self.early_broadcasts.append((frame, messages))
            return
        if all(EVENT_ID_KEY not in m and self._is_forwarded(m.get("type")) for m in messages):
            await self.send(text_data=frame)
            return
        for message in messages:
            await self.dispatch(message)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # channels runs close_old_connections() in a worker thread before every handler: a thread hop per
        # message, which dominated fan-out cost (bench/fanout.py). Forwarding an event touches no database,
        # so it skips that; every other handler (websocket.connect/receive, custom ones) goes the usual way.
        if self._is_forwarded(message.get("type")):
            await self.forward_event(message)
            return
        await super().dispatch(message)

    def _is_forwarded(self, event_type: object) -> bool:
        if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
            return False
        own = getattr(type(self), handler_name(event_type), None)
        return own is None  # no handler of its own: the generic forward

    def __getattr__(self, name: str) -> Handler:
        # Only reached when normal lookup fails: map "<area>_<snake>" handler names of registered
        # event types to forward_event, so every event type has a handler without boilerplate.
        for event_type in EVENT_TYPES:
            if handler_name(event_type) == name:
                return self.forward_event
        raise AttributeError(name)

    # --- client → server -----------------------------------------------------------------------------

    async def websocket_receive(self, message: WebSocketReceiveEvent) -> None:
        """Every client frame: the session must still be good; handled with the connection's origin bound."""
        if not await self.session_ok():
            return
        with bound_origin(self.origin):
            await super().websocket_receive(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None:
            await self.send_json({"type": "realtime.error", "message": "不支持二进制消息"})
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, TypeError):
            await self.send_json({"type": "realtime.error", "message": "消息格式不正确"})
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        action = str(content.get("action", ""))
        if action == "ping":
            await self.send_json({"type": "realtime.pong", "t": content.get("t")})
            return
        if action in ("subscribe", "unsubscribe"):
            await self.change_subscription(action, str(content.get("topic", "")))
            return
        fn = CLIENT_ACTIONS.get(action)
        if fn is None:
            await self.send_json({"type": "realtime.error", "action": action, "message": "不支持的操作"})
            return
        assert self.user is not None
        try:
            reply = await database_sync_to_async(fn)(self.user, content)
        except Exception as exc:  # a process edge: one bad message must not kill the socket
            from cases.exceptions import DomainError

            if isinstance(exc, DomainError):
                await self.send_json({"type": "realtime.error", "action": action, "message": str(exc)})
                return
            logger.exception("client action %s of user %s failed", action, self.user.pk)
            await self.send_json({"type": "realtime.error", "action": action, "message": "操作失败，请重试"})
            return
        if reply is not None:
            await self.send_json(reply)

    async def change_subscription(self, action: str, spec: str) -> None:
        assert self.user is not None
        try:
            names = await database_sync_to_async(resolve_topic)(self.user, spec)
        except TopicForbidden:
            await self.send_json({"type": "realtime.error", "action": action, "topic": spec,
                                  "message": "无权订阅该内容"})
            return
        keep = {groups.user(self.user.pk), *self.control_groups}
        for name in names:
            if action == "subscribe" and name not in self.joined:
                await self.join_group(name)
            elif action == "unsubscribe" and name in self.joined and name not in keep:
                await self.leave_group(name)
        if action == "subscribe":
            self.topic_groups[spec] = list(names)
        else:
            self.topic_groups.pop(spec, None)
        await self.send_json({"type": f"realtime.{action}d", "topic": spec})


def topics_groups(user: User, raw: str, *, into: dict[str, list[str]] | None = None) -> list[str]:
    """Groups of the topics named in a query value (TopicForbidden if any is not allowed); `into` collects
    topic → groups for the consumer to resolve again later."""
    names: list[str] = []
    for spec in parse_topics(raw):
        resolved = resolve_topic(user, spec)
        if into is not None:
            into[spec] = resolved
        names.extend(resolved)
    return names
