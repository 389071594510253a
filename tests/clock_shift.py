"""Run a Python program with its clock moved into the calling window (08:00–22:00 Shanghai time), ticking on.

    python tests/clock_shift.py manage.py run_dialer
    python tests/clock_shift.py -m daphne -b 127.0.0.1 -p 8000 asgi:application

For what must dial whatever the hour it runs: tests/asterisk/test_faults.py's `run_dialer` process (as
tests/asterisk/conftest.py's `_inside_calling_hours` does for the in-process tests) and bench/agency_day.py's
processes after 22:00. CM_CLOCK_SHIFT_S is the number of seconds added to the clock; one run sets it once for all
of its processes, so their timestamps (an ARI event's, a websocket frame's arrival) still agree with each other.
Unset, the clock moves to 10:00 Shanghai time today. Run with the repository as the working directory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import runpy
import sys
import time
import zoneinfo
from collections.abc import Iterator

import time_machine

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def shift_to_ten() -> float:
    """Seconds to add to the clock for it to read 10:00 Shanghai time today."""
    now = dt.datetime.now(SHANGHAI)
    return (dt.datetime.combine(now.date(), dt.time(10, 0), tzinfo=SHANGHAI) - now).total_seconds()


@contextlib.contextmanager
def moved_clock(shift: float) -> Iterator[None]:
    """The clock `shift` seconds ahead (or behind), ticking on from now."""
    with time_machine.travel(time.time() + shift, tick=True):
        time.time()  # a ticking travel starts to tick at the first reading, not on entry: read it at once
        yield


def run(argv: list[str]) -> None:
    """Run `argv` (a script and its arguments, or -m module and its arguments) as __main__."""
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    shift = float(os.environ.get("CM_CLOCK_SHIFT_S") or shift_to_ten())
    with moved_clock(shift):
        run(sys.argv[1:])
