"""`manage.py run_dialer` for tests/asterisk/test_faults.py, with the clock at 10:00 Shanghai time today (ticking
on): the calling window holds whatever time the suite runs, as tests/asterisk/conftest.py's `_inside_calling_hours`
gives the in-process tests. Run with the repository as the working directory."""

from __future__ import annotations

import datetime as dt
import os
import sys
import zoneinfo

import time_machine

sys.path.insert(0, os.getcwd())

from django.core.management import execute_from_command_line  # noqa: E402

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

if __name__ == "__main__":
    today = dt.datetime.now(SHANGHAI).date()
    with time_machine.travel(dt.datetime.combine(today, dt.time(10, 0), tzinfo=SHANGHAI), tick=True):
        execute_from_command_line(["manage.py", "run_dialer"])
