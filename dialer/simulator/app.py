"""HTTP and websocket face of the simulated Asterisk: ARI under /ari, test controls under /_sim.

Starlette only; nothing of the product is imported. Errors are Asterisk's {"message": ...} bodies with
its status codes; /ari/api-docs serves the real Swagger files with basePath rewritten to the Host header.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from dialer.simulator.engine import Engine, SimError, ast_true

logger = logging.getLogger(__name__)

API_DOCS = Path(__file__).resolve().parent / "api-docs"
Handler = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"message": message}, status)


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    return user, password


def build_app(engine: Engine) -> Starlette:
    def authorized(scope_params: Any, headers: Any) -> bool:
        return engine.check_auth(scope_params.get("api_key"), _basic(headers.get("authorization")))

    def ari(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            if not authorized(request.query_params, request.headers):
                response = _error(401, "Authentication required")
                response.headers["WWW-Authenticate"] = 'Basic realm="Asterisk REST Interface"'
                return response
            try:
                return await handler(request)
            except SimError as exc:
                return _error(exc.status, exc.message)

        return wrapped

    def control(handler: Handler) -> Handler:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except SimError as exc:
                return _error(exc.status, exc.message)

        return wrapped

    def q(request: Request, name: str, default: str | None = None) -> str | None:
        return request.query_params.get(name, default)

    def q_int(request: Request, name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise SimError(400, f"{name} must be an integer") from exc

    def required(request: Request, name: str) -> str:
        value = request.query_params.get(name)
        if not value:
            raise SimError(400, f"Missing parameter {name}")
        return value

    # ---- api-docs ------------------------------------------------------------------------------------

    async def api_docs(request: Request) -> Response:
        name = request.path_params["name"]
        path = API_DOCS / name
        if not name.endswith(".json") or not path.is_file() or path.parent != API_DOCS:
            return _error(404, "Not found")
        data = json.loads(path.read_text(encoding="utf-8"))
        host = request.headers.get("host", "localhost:8088")
        data["basePath"] = f"http://{host}/ari"
        return _json(data)

    # ---- asterisk ------------------------------------------------------------------------------------

    async def asterisk_info(request: Request) -> Response:
        return _json(engine.info(q(request, "only")))

    async def asterisk_ping(request: Request) -> Response:
        return _json(engine.ping())

    # ---- channels ------------------------------------------------------------------------------------

    async def channels_list(request: Request) -> Response:
        return _json([engine.channel_json(c) for c in engine.channels.values()])

    async def channels_originate(request: Request) -> Response:
        return _json(
            engine.originate(
                endpoint=required(request, "endpoint"),
                app=q(request, "app"),
                app_args=q(request, "appArgs", "") or "",
                channel_id=q(request, "channelId"),
                caller_id=q(request, "callerId", "") or "",
                timeout=q_int(request, "timeout", 30),
            )
        )

    async def channels_create(request: Request) -> Response:
        return _json(
            engine.create(
                endpoint=required(request, "endpoint"),
                app=required(request, "app"),
                app_args=q(request, "appArgs", "") or "",
                channel_id=q(request, "channelId"),
            )
        )

    async def channel_item(request: Request) -> Response:
        channel_id = request.path_params["channel_id"]
        if request.method == "GET":
            return _json(engine.channel_json(engine.get_channel(channel_id)))
        if request.method == "DELETE":
            engine.hangup(channel_id, reason=q(request, "reason"), reason_code=q(request, "reason_code"))
            return Response(status_code=204)
        # POST /channels/{channelId}: originate with id
        return _json(
            engine.originate(
                endpoint=required(request, "endpoint"),
                app=q(request, "app"),
                app_args=q(request, "appArgs", "") or "",
                channel_id=channel_id,
                caller_id=q(request, "callerId", "") or "",
                timeout=q_int(request, "timeout", 30),
            )
        )

    async def channel_answer(request: Request) -> Response:
        engine.answer(request.path_params["channel_id"])
        return Response(status_code=204)

    async def channel_variable(request: Request) -> Response:
        channel_id, variable = request.path_params["channel_id"], q(request, "variable") or ""
        if request.method == "GET":
            return _json({"value": engine.get_variable(channel_id, variable)})
        engine.set_variable(channel_id, variable, q(request, "value") or "")
        return Response(status_code=204)

    async def channel_ring(request: Request) -> Response:
        engine.ring(request.path_params["channel_id"])
        return Response(status_code=204)

    async def channel_dial(request: Request) -> Response:
        engine.dial(
            channel_id=request.path_params["channel_id"],
            caller=q(request, "caller"),
            timeout=q_int(request, "timeout", 0),
        )
        return Response(status_code=204)

    async def channel_dtmf(request: Request) -> Response:
        engine.send_dtmf(request.path_params["channel_id"], required(request, "dtmf"))
        return Response(status_code=204)

    async def channel_snoop(request: Request) -> Response:
        return _json(
            engine.snoop(
                channel_id=request.path_params["channel_id"],
                spy=q(request, "spy", "none") or "none",
                whisper=q(request, "whisper", "none") or "none",
                app=q(request, "app", "") or "",
                app_args=q(request, "appArgs", "") or "",
                snoop_id=request.path_params.get("snoop_id") or q(request, "snoopId"),
            )
        )

    # ---- bridges -------------------------------------------------------------------------------------

    async def bridges_root(request: Request) -> Response:
        if request.method == "GET":
            return _json([engine.bridge_json(b) for b in engine.bridges.values()])
        return _json(
            engine.create_bridge(
                bridge_type=q(request, "type", "mixing") or "mixing",
                bridge_id=q(request, "bridgeId"),
                name=q(request, "name", "") or "",
            )
        )

    async def bridge_item(request: Request) -> Response:
        bridge_id = request.path_params["bridge_id"]
        if request.method == "GET":
            return _json(engine.bridge_json(engine.get_bridge(bridge_id)))
        if request.method == "DELETE":
            engine.destroy_bridge(bridge_id)
            return Response(status_code=204)
        return _json(
            engine.create_bridge(
                bridge_type=q(request, "type", "mixing") or "mixing",
                bridge_id=bridge_id,
                name=q(request, "name", "") or "",
            )
        )

    async def bridge_add(request: Request) -> Response:
        engine.add_channel(request.path_params["bridge_id"], required(request, "channel").split(","))
        return Response(status_code=204)

    async def bridge_remove(request: Request) -> Response:
        engine.remove_channel(request.path_params["bridge_id"], required(request, "channel").split(","))
        return Response(status_code=204)

    async def bridge_record(request: Request) -> Response:
        result = engine.record_bridge(
            request.path_params["bridge_id"],
            name=q(request, "name", "") or "",
            fmt=q(request, "format", "") or "",
            if_exists=q(request, "ifExists", "fail") or "fail",
            max_duration=q_int(request, "maxDurationSeconds", 0),
            beep=ast_true(q(request, "beep")),
        )
        return _json(result, 201)

    # ---- recordings ----------------------------------------------------------------------------------

    async def live_get(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "DELETE":
            engine.stop_live(name, cancel=True)
            return Response(status_code=204)
        return _json(engine.get_live(name))

    async def live_stop(request: Request) -> Response:
        engine.stop_live(request.path_params["name"])
        return Response(status_code=204)

    async def stored_list(request: Request) -> Response:
        return _json([{"name": r.name, "format": r.format} for r in engine.stored.values()])

    async def stored_item(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "DELETE":
            engine.delete_stored(name)
            return Response(status_code=204)
        recording = engine.get_stored(name)
        return _json({"name": recording.name, "format": recording.format})

    async def stored_file(request: Request) -> Response:
        recording = engine.get_stored(request.path_params["name"])
        data = await asyncio.get_running_loop().run_in_executor(None, recording.wav)
        return Response(data, media_type="audio/wav")

    # ---- endpoints, device states, applications -------------------------------------------------------

    async def endpoints_list(request: Request) -> Response:
        return _json([engine.endpoint_json(r) for r in engine.endpoint_resources()])

    async def endpoints_tech(request: Request) -> Response:
        if request.path_params["tech"] != "PJSIP":
            return _error(404, "Endpoint not found")
        return _json([engine.endpoint_json(r) for r in engine.endpoint_resources()])

    async def endpoint_item(request: Request) -> Response:
        resource = request.path_params["resource"]
        if request.path_params["tech"] != "PJSIP" or resource not in engine.endpoint_resources():
            return _error(404, "Endpoint not found")
        return _json(engine.endpoint_json(resource))

    async def device_states(request: Request) -> Response:
        return _json([{"name": f"PJSIP/{ext}", "state": engine.device_state(ext)} for ext in engine.phones])

    async def device_state(request: Request) -> Response:
        name = request.path_params["name"]
        ext = name.partition("/")[2] if name.startswith("PJSIP/") else ""
        if ext not in engine.phones:
            return _json({"name": name, "state": "UNKNOWN"})
        return _json({"name": name, "state": engine.device_state(ext)})

    async def applications_list(request: Request) -> Response:
        return _json([engine.app_json(a) for a in engine.apps.values()])

    async def application_get(request: Request) -> Response:
        return _json(engine.app_json(engine.get_app(request.path_params["app"])))

    async def application_subscription(request: Request) -> Response:
        sources = [s for s in (q(request, "eventSource", "") or "").split(",") if s]
        if request.method == "POST":
            return _json(engine.subscribe(request.path_params["app"], sources))
        return _json(engine.unsubscribe(request.path_params["app"], sources))

    # ---- events websocket ----------------------------------------------------------------------------

    async def events(websocket: WebSocket) -> None:
        if not authorized(websocket.query_params, websocket.headers):
            await websocket.send_denial_response(_error(401, "Authentication required"))
            return
        names = [n for n in (websocket.query_params.get("app") or "").split(",") if n]
        if not names:
            await websocket.send_denial_response(_error(400, "Missing parameter app"))
            return
        await websocket.accept()
        queue = engine.connect_app(names, ast_true(websocket.query_params.get("subscribeAll")))

        async def drain_client() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    await websocket.receive_text()

        reader = asyncio.get_running_loop().create_task(drain_client())
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                message = getter.result()
                if message is None:
                    break
                await websocket.send_text(json.dumps(message, ensure_ascii=False))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            engine.disconnect_app(queue)
            reader.cancel()
            with contextlib.suppress(Exception):
                await websocket.close()

    # ---- /_sim control API (tests and demos only; never used by the dialer) ---------------------------

    async def sim_script(request: Request) -> Response:
        data = await request.json()
        number = str(data.get("number", ""))
        if not number:
            raise SimError(400, "number is required")
        return _json(engine.set_script(number, data))

    async def sim_quirks(request: Request) -> Response:
        return _json(engine.set_quirks(await request.json()))

    async def sim_phone(request: Request) -> Response:
        data = await request.json() if await request.body() else {}
        return _json(engine.set_phone(request.path_params["ext"], data))

    async def sim_inbound(request: Request) -> Response:
        data = await request.json()
        hangup_after = data.get("hangup_after")
        return _json(
            engine.inbound(
                caller=str(data["caller"]),
                exten=str(data.get("exten", "s")),
                app=str(data.get("app", "collect")),
                hangup_after=None if hangup_after is None else float(hangup_after),
            )
        )

    async def sim_far_hangup(request: Request) -> Response:
        data = await request.json() if await request.body() else {}
        engine.far_end_hangup(request.path_params["channel_id"], int(data.get("cause", 16)))
        return Response(status_code=204)

    async def sim_dtmf(request: Request) -> Response:
        data = await request.json()
        engine.send_dtmf(request.path_params["channel_id"], str(data["digits"]))
        return Response(status_code=204)

    async def sim_drop(request: Request) -> Response:
        return _json({"dropped": engine.drop_websockets()})

    async def sim_restart(request: Request) -> Response:
        engine.restart()
        return _json({"restarted": True})

    async def sim_reset(request: Request) -> Response:
        engine.reset()
        return _json({"reset": True})

    async def sim_state(request: Request) -> Response:
        return _json(engine.state())

    routes = [
        Route("/ari/api-docs/{name}", ari(api_docs)),
        Route("/ari/asterisk/info", ari(asterisk_info), methods=["GET"]),
        Route("/ari/asterisk/ping", ari(asterisk_ping), methods=["GET"]),
        Route("/ari/channels", ari(channels_list), methods=["GET"]),
        Route("/ari/channels", ari(channels_originate), methods=["POST"]),
        Route("/ari/channels/create", ari(channels_create), methods=["POST"]),
        Route("/ari/channels/{channel_id}", ari(channel_item), methods=["GET", "POST", "DELETE"]),
        Route("/ari/channels/{channel_id}/answer", ari(channel_answer), methods=["POST"]),
        Route("/ari/channels/{channel_id}/ring", ari(channel_ring), methods=["POST"]),
        Route("/ari/channels/{channel_id}/variable", ari(channel_variable), methods=["GET", "POST"]),
        Route("/ari/channels/{channel_id}/dial", ari(channel_dial), methods=["POST"]),
        Route("/ari/channels/{channel_id}/dtmf", ari(channel_dtmf), methods=["POST"]),
        Route("/ari/channels/{channel_id}/snoop", ari(channel_snoop), methods=["POST"]),
        Route("/ari/channels/{channel_id}/snoop/{snoop_id}", ari(channel_snoop), methods=["POST"]),
        Route("/ari/bridges", ari(bridges_root), methods=["GET", "POST"]),
        Route("/ari/bridges/{bridge_id}", ari(bridge_item), methods=["GET", "POST", "DELETE"]),
        Route("/ari/bridges/{bridge_id}/addChannel", ari(bridge_add), methods=["POST"]),
        Route("/ari/bridges/{bridge_id}/removeChannel", ari(bridge_remove), methods=["POST"]),
        Route("/ari/bridges/{bridge_id}/record", ari(bridge_record), methods=["POST"]),
        Route("/ari/recordings/live/{name}", ari(live_get), methods=["GET", "DELETE"]),
        Route("/ari/recordings/live/{name}/stop", ari(live_stop), methods=["POST"]),
        Route("/ari/recordings/stored", ari(stored_list), methods=["GET"]),
        Route("/ari/recordings/stored/{name}", ari(stored_item), methods=["GET", "DELETE"]),
        Route("/ari/recordings/stored/{name}/file", ari(stored_file), methods=["GET"]),
        Route("/ari/endpoints", ari(endpoints_list), methods=["GET"]),
        Route("/ari/endpoints/{tech}", ari(endpoints_tech), methods=["GET"]),
        Route("/ari/endpoints/{tech}/{resource}", ari(endpoint_item), methods=["GET"]),
        Route("/ari/deviceStates", ari(device_states), methods=["GET"]),
        Route("/ari/deviceStates/{name:path}", ari(device_state), methods=["GET"]),
        Route("/ari/applications", ari(applications_list), methods=["GET"]),
        Route("/ari/applications/{app}", ari(application_get), methods=["GET"]),
        Route("/ari/applications/{app}/subscription", ari(application_subscription), methods=["POST", "DELETE"]),
        WebSocketRoute("/ari/events", events),
        Route("/_sim/script", control(sim_script), methods=["POST"]),
        Route("/_sim/quirks", control(sim_quirks), methods=["POST"]),
        Route("/_sim/phones/{ext}", control(sim_phone), methods=["POST"]),
        Route("/_sim/inbound", control(sim_inbound), methods=["POST"]),
        Route("/_sim/channels/{channel_id}/hangup", control(sim_far_hangup), methods=["POST"]),
        Route("/_sim/channels/{channel_id}/dtmf", control(sim_dtmf), methods=["POST"]),
        Route("/_sim/drop-websocket", control(sim_drop), methods=["POST"]),
        Route("/_sim/restart", control(sim_restart), methods=["POST"]),
        Route("/_sim/reset", control(sim_reset), methods=["POST"]),
        Route("/_sim/state", control(sim_state), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.engine = engine
    return app
