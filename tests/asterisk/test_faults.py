"""Faults on a real Asterisk: `core restart now` and `kill -9` of Asterisk mid-call, and `manage.py run_dialer`
(a real process) stopped with SIGTERM or killed with SIGKILL mid-call and started again."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from cases.actions.dialer import HEALTH_KEY, dial_request
from cases.enums import CaseStatus
from cases.models import CallRecord, PendingRecording
from realtime import groups
from tests import factories as f
from tests.asterisk.conftest import REPO, until, until_db

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asterisk]

LOST = "呼叫系统重启或中断，通话已断开"


@pytest.fixture
def world(db):
    collector = f.CollectorFactory(sip_endpoint="8001")
    f.CollectorFactory(sip_endpoint="8002")
    case = f.CaseFactory(collector=collector, status=CaseStatus.IN_PROGRESS, mobile="13800138000")
    return type("World", (), {"collector": collector, "case": case})


def statuses(published, user) -> list[str]:
    return [m["status"] for m in published.messages_to(groups.user(user.pk)) if m["type"] == "call.status_changed"]


def record_of(call_uuid: str) -> CallRecord | None:
    return CallRecord.objects.select_related("recording").filter(call_uuid=call_uuid).first()


def read_stored(stored) -> bytes:
    with stored.file.open("rb") as fh:
        return fh.read()


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnframes() / wav.getframerate()


async def dial(world) -> str:
    return await sync_to_async(dial_request)(case=world.case, by=world.collector)


# ---- Asterisk restarts and crashes -----------------------------------------------------------------------------

async def test_core_restart_now_mid_call_ends_the_call_as_lost_at_the_restart(running, asterisk, world, published):
    async with running() as run:
        call_uuid = await dial(world)
        await until(lambda: "connected" in statuses(published, world.collector), 15)
        await asyncio.sleep(2)
        # when
        restarted_at = time.time()
        asterisk.cli("core restart now")
        record = await until_db(lambda: record_of(call_uuid), 30)
        await until(lambda: run.dialer.client.connected.is_set(), 30)
        # then: the restart hung the call up cleanly; it is written once, with its duration up to the restart
        assert record.answered_at is not None
        assert record.ended_at.timestamp() <= restarted_at + 2
        assert 1 <= record.duration_s <= 4
        # whatever was recorded up to the restart is stored (the file stays on Asterisk until then)
        stored = await until_db(lambda: (r := record_of(call_uuid)) is not None and r.recording_id and r, 20)
        assert wav_seconds(await sync_to_async(read_stored)(stored.recording)) >= 1
    asterisk.phone("8001", "--answer-after", "0.3")  # re-register after the restart, in case


async def test_asterisk_killed_mid_call_is_written_as_lost_with_the_right_duration_and_audio(
        running, asterisk, world, published):
    async with running() as run:
        call_uuid = await dial(world)
        await until(lambda: "connected" in statuses(published, world.collector), 15)
        await asyncio.sleep(3)
        # when: Asterisk dies (no hang-up events at all), and is started again on the same run dir
        killed_at = time.time()
        os.kill(asterisk.pid, signal.SIGKILL)
        await asyncio.sleep(1.5)
        asterisk.start()
        record = await until_db(lambda: record_of(call_uuid), 40)
        await until(lambda: run.dialer.client.connected.is_set(), 30)
        # then: lost, ended at the crash (not at the reconnect), the partial WAV stored with a right header
        assert record.hangup_cause == LOST and record.answered_at is not None
        assert record.ended_at.timestamp() <= killed_at + 2.5
        assert 2 <= record.duration_s <= 5
        record = await until_db(lambda: (r := record_of(call_uuid)) is not None and r.recording_id and r, 20)
        data = await sync_to_async(read_stored)(record.recording)
        assert wav_seconds(data) >= 1.5
        assert not await sync_to_async(PendingRecording.objects.exists)()
        assert f"call-{call_uuid}" not in asterisk.stored_recordings()
    for ext in ("8001", "8002", "8003"):
        asterisk.phone_offline(ext)  # the SIPp legs of the lost call hang on; start the phones clean


# ---- run_dialer as a process -----------------------------------------------------------------------------------

class DialerProcess:
    def __init__(self, kit, log: Path) -> None:
        self.kit = kit
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.out = None

    def env(self) -> dict[str, str]:
        db = connection.settings_dict
        env = dict(os.environ)
        if db["ENGINE"].endswith("postgresql"):
            user = db.get("USER") or "postgres"
            password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
            env["DATABASE_URL"] = (f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:"
                                   f"{db.get('PORT') or 5432}/{db['NAME']}")
        else:
            env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
        env.update({
            "DJANGO_SETTINGS_MODULE": "project.settings_test", "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "DIALER_ARI_URL": self.kit.ari_url, "DIALER_ARI_USER": self.kit.env["ASTERISK_ARI_USER"],
            "DIALER_ARI_PASSWORD": self.kit.env["ASTERISK_ARI_PASSWORD"], "DIALER_APP": "collect",
            "DIALER_TRUNK": "trunk", "DIALER_SIMULATOR": "0", "DIALER_LINES": "6",
            "DIALER_DRAIN_TIMEOUT_SECONDS": "20", "DIALER_COLLECTOR_RING_SECONDS": "5",
            "DIALER_CUSTOMER_RING_SECONDS": "5", "DIALER_RECONNECT_MAX_SECONDS": "1",
            "DIALER_FALLBACK_EXTENSIONS": "8002",
        })
        return env

    def start(self) -> None:
        self.out = self.log.open("ab")
        # The clock at 10:00 Shanghai time: the calling window holds whatever the hour the suite runs.
        self.proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "clock_shift.py"), "manage.py",
                                      "run_dialer"], cwd=REPO, env=self.env(),
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.out is not None:
            self.out.close()


@pytest.fixture
def dialer_process(asterisk, tmp_path):
    from django.core.cache import cache

    processes = []

    def start() -> DialerProcess:
        process = DialerProcess(asterisk, tmp_path / "run_dialer.log")
        process.start()
        processes.append(process)
        return process
    yield start
    for process in processes:
        process.stop()
    cache.delete(HEALTH_KEY)


async def connected_dialer(start) -> DialerProcess:
    from django.core.cache import cache

    await sync_to_async(cache.delete)(HEALTH_KEY)
    process = start()
    await until_db(lambda: bool((cache.get(HEALTH_KEY) or {}).get("ari_connected")), 30)
    return process


def live_legs(kit, call_uuid: str) -> list[dict]:
    return [c for c in kit.channels() if c["id"].startswith(call_uuid)]


async def test_run_dialer_sigterm_mid_call_lets_the_call_finish_and_writes_it(asterisk, world, dialer_process):
    process = await connected_dialer(dialer_process)
    # given: a call that the customer ends 3 s after answering (the trunk's default)
    world.case.mobile = "13800138123"
    await sync_to_async(world.case.save)(update_fields=["mobile"])
    call_uuid = await dial(world)
    await until(lambda: len([c for c in live_legs(asterisk, call_uuid) if c["state"] == "Up"]) == 2, 15)
    # when
    process.signal(signal.SIGTERM)
    # then: the call runs to its end, is written with its recording, and only then does the process exit
    assert await asyncio.to_thread(process.wait, 30) == 0
    record = await sync_to_async(record_of)(call_uuid)
    assert record is not None and record.hangup_cause == "通话结束" and record.answered_at is not None
    assert 2 <= record.duration_s <= 5


async def test_run_dialer_killed_mid_call_and_restarted_adopts_the_call(asterisk, world, dialer_process):
    process = await connected_dialer(dialer_process)
    # given: a call that talks on until someone hangs up
    call_uuid = await dial(world)
    await until(lambda: len([c for c in live_legs(asterisk, call_uuid) if c["state"] == "Up"]) == 2, 15)
    await asyncio.sleep(1)
    # when: the dialer dies without a word and is started again
    process.signal(signal.SIGKILL)
    await asyncio.to_thread(process.wait, 10)
    await connected_dialer(dialer_process)
    await asyncio.sleep(2)
    # then: the call is still up (adopted, not hung up as owned by nobody)
    assert len(live_legs(asterisk, call_uuid)) == 2
    # when: the customer's leg hangs up
    asterisk.ari("DELETE", f"channels/{call_uuid}-cust")
    # then: the adopted call is written once with its whole duration and its recording is stored
    record = await until_db(lambda: (r := record_of(call_uuid)) is not None and r.recording_id and r, 30)
    assert record.answered_at is not None and record.duration_s >= 3
    assert record.hangup_cause == "通话结束"
    data = await sync_to_async(read_stored)(record.recording)
    assert wav_seconds(data) >= 3
    assert f"call-{call_uuid}" not in asterisk.stored_recordings()
    assert not [b for b in asterisk.bridges() if not b["channels"]]  # no empty bridge left behind
