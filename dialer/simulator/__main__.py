"""Run the simulator alone: `python -m dialer.simulator --port 8088 --lines 10 --phones 8001,8002`."""

from __future__ import annotations

import argparse

import uvicorn

from dialer.simulator.app import build_app
from dialer.simulator.engine import Engine


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dialer.simulator", description="ARI (Asterisk) simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--lines", type=int, default=10, help="outside lines on the trunk")
    parser.add_argument(
        "--phones",
        default="8001,8002,8003,8004,8005,8006,8007,8008",
        help="comma-separated PJSIP extensions of the collectors' phones",
    )
    parser.add_argument("--trunk", default="trunk", help="PJSIP endpoint name of the trunk")
    parser.add_argument("--user", default="asterisk")
    parser.add_argument("--password", default="asterisk")
    parser.add_argument("--speed", type=float, default=1.0, help="time acceleration factor")
    parser.add_argument("--tz-offset", type=int, default=480, help="minutes east of UTC for event timestamps")
    args = parser.parse_args(argv)
    engine = Engine(
        phones=[p for p in args.phones.split(",") if p],
        lines=args.lines,
        trunk=args.trunk,
        speed=args.speed,
        tz_offset_minutes=args.tz_offset,
        user=args.user,
        password=args.password,
    )
    uvicorn.run(build_app(engine), host=args.host, port=args.port, ws="wsproto", log_level="warning")


if __name__ == "__main__":
    main()
