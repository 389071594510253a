"""Run the simulator in a background thread on a free loopback port (tests, demos, the embedded default)."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from dialer.simulator.app import build_app
from dialer.simulator.engine import Engine


class SimulatorServer:
    """uvicorn serving one Engine in its own thread and event loop; `url` is http://127.0.0.1:<port>/."""

    def __init__(self, engine: Engine, host: str = "127.0.0.1", port: int = 0) -> None:
        self.engine = engine
        self.host = host
        self.port = port or _free_port(host)
        config = uvicorn.Config(
            build_app(engine), host=host, port=self.port, ws="wsproto", log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="ari-simulator", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("ARI simulator did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
