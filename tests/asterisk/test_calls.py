"""Calls through a real Asterisk: the product's Dialer (aioari) and views, SIPp playing the phones and the carrier.

Carrier numbers (sipp-trunk): …486 busy, …404 not found, …503 unavailable, …408 rings until cancelled, …000 talks
until Asterisk hangs up; any other number answers after 0.5 s and hangs up 3 s later (the session's trunk).
"""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from cases.actions.dialer import dial_request
from cases.enums import CallDirection, CallResult, CaseStatus
from cases.models import CallRecord, CallRefusal, PendingRecording
from cases.selectors.dialer import unmatched_recordings
from realtime import groups
from tests import factories as f
from tests.asterisk.conftest import until, until_db

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asterisk]


@pytest.fixture
def world(db):
    bank = f.BankFactory()
    collector = f.CollectorFactory(sip_endpoint="8001")
    other = f.CollectorFactory(sip_endpoint="8002")
    case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, status=CaseStatus.IN_PROGRESS,
                         mobile="13800138000")
    # The debtor's second number (a third party would wait for the third-party rule, issue 17).
    contact = f.CaseContactFactory(case=case, phone="13700137001", relation="本人", name="第二号码")
    return type("World", (), {"bank": bank, "collector": collector, "other": other, "case": case,
                              "contact": contact})


def statuses(published, user) -> list[str]:
    return [m["status"] for m in published.messages_to(groups.user(user.pk)) if m["type"] == "call.status_changed"]


def last_message(published, user) -> dict:
    return [m for m in published.messages_to(groups.user(user.pk)) if m["type"] == "call.status_changed"][-1]


def record_of(call_uuid: str) -> CallRecord | None:
    return CallRecord.objects.select_related("recording").filter(call_uuid=call_uuid).first()


def with_recording(call_uuid: str):
    record = record_of(call_uuid)
    return record if record is not None and record.recording_id else None


def read_stored(stored) -> bytes:
    with stored.file.open("rb") as fh:
        return fh.read()


async def dial(world, **kwargs) -> str:
    return await sync_to_async(dial_request)(case=world.case, by=world.collector, **kwargs)


async def set_number(world, number: str) -> None:
    world.case.mobile = number
    await sync_to_async(world.case.save)(update_fields=["mobile"])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def post_as(user, url: str, data: dict):
    return await sync_to_async(lambda: client_for(user).post(url, data))()


# ---- outbound ------------------------------------------------------------------------------------------------

async def test_answered_call_is_bridged_recorded_stored_hashed_downloadable_and_deleted_on_asterisk(
        running, asterisk, world, published):
    async with running():
        # when: the collector clicks the contact's number; the contact answers and hangs up after 3 s
        call_uuid = await dial(world, contact=world.contact)
        record = await until_db(lambda: with_recording(call_uuid), 30)
    # then
    assert (record.case_id, record.collector_id, record.contact_id) == (world.case.pk, world.collector.pk,
                                                                        world.contact.pk)
    assert (record.direction, record.hangup_cause) == (CallDirection.OUTBOUND, "通话结束")
    assert record.answered_at is not None and 2 <= record.duration_s <= 5
    data = await sync_to_async(read_stored)(record.recording)
    assert data[:4] == b"RIFF" and len(data) > 8000  # seconds of 8 kHz audio, not an empty file
    assert record.recording.sha256 == hashlib.sha256(data).hexdigest()
    assert not await sync_to_async(PendingRecording.objects.exists)()
    assert f"call-{call_uuid}" not in asterisk.stored_recordings()
    assert statuses(published, world.collector)[:2] == ["requested", "ringing"]
    assert statuses(published, world.collector)[-2:] == ["connected", "ended"]
    # the collector downloads it from the case page
    url = reverse("cases:case-file", args=[world.case.pk, record.recording_id]) + "?download=1"

    def download():
        response = client_for(world.collector).get(url)
        return response.status_code, b"".join(response.streaming_content)
    assert await sync_to_async(download)() == (200, data)


@pytest.mark.parametrize(("number", "label", "result"), [
    ("13900139486", "对方忙", CallResult.BUSY),
    ("13900139408", "无人接听", CallResult.NO_ANSWER),
    ("13900139404", "无法接通", ""),
])
async def test_customer_not_reached(running, asterisk, world, published, number, label, result):
    await set_number(world, number)
    async with running():
        # when
        call_uuid = await dial(world)
        record = await until_db(lambda: record_of(call_uuid), 20)
    # then
    assert (record.hangup_cause, record.result, record.answered_at) == (label, result, None)
    assert record.recording_id is None
    assert last_message(published, world.collector)["message"] == label
    assert await until(lambda: not [c for c in asterisk.channels() if c["id"].startswith(call_uuid)], 5)


async def test_carrier_unavailable_is_not_a_failed_call(running, asterisk, world):
    await set_number(world, "13900139503")
    async with running():
        call_uuid = await dial(world)
        record = await until_db(lambda: record_of(call_uuid), 20)
    assert record.hangup_cause != "呼叫失败" and record.answered_at is None


async def test_collector_not_answering(running, asterisk, world, published):
    asterisk.phone("8001", "--no-answer")
    async with running(collector_ring_s=3):
        call_uuid = await dial(world)
        record = await until_db(lambda: record_of(call_uuid), 20)
    assert (record.hangup_cause, record.answered_at) == ("业务员未接听", None)
    assert last_message(published, world.collector)["message"] == "业务员未接听"


async def test_collector_phone_offline_is_refused_before_any_originate(running, asterisk, world):
    asterisk.phone_offline("8001")
    async with running():
        call_uuid = await dial(world)
        refusal = await until_db(lambda: CallRefusal.objects.first(), 10)
    assert refusal.rule == "phone_offline"
    assert not [c for c in asterisk.channels() if c["id"].startswith(call_uuid)]


@pytest.mark.parametrize("when", ["collector_ringing", "customer_ringing", "connected"])
async def test_hang_up_from_the_panel(running, asterisk, world, published, when):
    # given: the phone rings 2 s before answering; the customer rings until cancelled (…408) or talks on (…000)
    asterisk.phone("8001", "--answer-after", "2" if when == "collector_ringing" else "0.3")
    await set_number(world, "13900139408" if when == "customer_ringing" else "13800138000")
    async with running(collector_ring_s=10, customer_ring_s=20) as run:
        call_uuid = await dial(world)
        wanted = {"collector_ringing": "ringing", "customer_ringing": "dialling", "connected": "connected"}[when]
        await until(lambda: wanted in statuses(published, world.collector), 15)
        if when == "customer_ringing":
            await asyncio.sleep(1)
        # when: 挂断 on the call panel
        response = await post_as(world.collector, reverse("cases:call-hangup"), {"call_uuid": call_uuid})
        assert response.status_code == 200
        started = time.monotonic()
        record = await until_db(lambda: record_of(call_uuid), 15)
        assert time.monotonic() - started < 5
        assert not run.handlers.live_calls()
    # then
    if when == "connected":
        assert record.answered_at is not None and record.hangup_cause == "通话结束"
    else:
        assert record.answered_at is None and record.hangup_cause == "接通前已挂断"
    assert await until(lambda: not [c for c in asterisk.channels() if c["id"].startswith(call_uuid)], 5)
    assert not [b for b in asterisk.bridges() if b["id"] == f"br-{call_uuid}"]


async def test_every_line_busy_refuses_the_next_call(running, asterisk, world):
    # given: six collectors whose phones ring on, each holding one of the six lines
    exts = ["8004", "8005", "8006", "8007", "8008", "8009"]
    for ext in exts:
        asterisk.phone(ext, "--no-answer")
    try:
        collectors = await sync_to_async(lambda: [f.CollectorFactory(sip_endpoint=e) for e in exts])()
        async with running(collector_ring_s=60) as run:
            for i, (ext, who) in enumerate(zip(exts, collectors, strict=True)):
                await run.handlers.originate(call_uuid=f"line{i}", collector_id=who.pk, extension=ext, case_id=None,
                                             contact_id=None, number=f"1390000000{i}")
            # when
            refused = await run.handlers.originate(call_uuid="line7", collector_id=world.collector.pk,
                                                   extension="8001", case_id=world.case.pk, contact_id=None,
                                                   number="13800138000")
            # then
            assert refused is None and run.handlers.lines_in_use() == 6
            refusal = await sync_to_async(CallRefusal.objects.get)()
            assert refusal.rule == "lines_busy" and "外线全忙" in refusal.message
            ringing = [c for c in asterisk.channels() if c["id"].startswith("line")]
            assert len(ringing) == 6 and not [c for c in asterisk.channels() if c["id"].startswith("line7")]
            await run.handlers.end_all()
    finally:
        for ext in exts:
            asterisk.phone_offline(ext)


# ---- inbound -------------------------------------------------------------------------------------------------

async def test_inbound_debtor_reaches_their_collector_with_the_case(running, asterisk, world, published):
    async with running() as run:
        # when: the debtor calls in and talks 2 s
        asterisk.call("13800138000", "95555", "--hangup-after", "2")
        await until(lambda: "connected" in statuses(published, world.collector), 15)
        call_uuid = last_message(published, world.collector)["call_uuid"]
        record = await until_db(lambda: with_recording(call_uuid), 20)
        assert not run.handlers.live_calls()
    # then
    assert (record.direction, record.case_id, record.collector_id) == (CallDirection.INBOUND, world.case.pk,
                                                                      world.collector.pk)
    assert record.answered_at is not None and record.recording.sha256
    ringing = [m for m in published.messages_to(groups.user(world.collector.pk)) if m.get("status") == "ringing"][0]
    assert ringing["case_url"] == f"/cases/{world.case.pk}/"


async def test_inbound_unknown_caller_reaches_the_fallback_and_its_recording_is_unmatched(running, asterisk, world,
                                                                                          published):
    async with running():
        asterisk.call("13612345678", "95555", "--hangup-after", "2")
        await until(lambda: "connected" in statuses(published, world.other), 15)
        call_uuid = last_message(published, world.other)["call_uuid"]
        record = await until_db(lambda: with_recording(call_uuid), 20)
    assert (record.case_id, record.collector_id) == (None, world.other.pk)
    assert await sync_to_async(lambda: list(unmatched_recordings()))() == [record]


# ---- listen-in -----------------------------------------------------------------------------------------------

async def test_manager_listens_in_on_a_live_call(running, asterisk, world, published):
    manager = await sync_to_async(f.ManagerFactory)(sip_endpoint="8003")
    async with running():
        call_uuid = await dial(world)
        await until(lambda: "connected" in statuses(published, world.collector), 15)
        # when: 监听 on the lines board
        response = await post_as(manager, reverse("cases:listen-in"), {"call_uuid": call_uuid})
        assert response.status_code == 302

        def listening():
            return [b for b in asterisk.bridges() if b["id"].startswith("lb-") and len(b["channels"]) == 2]
        bridges = await until(listening, 15)
        # then: a spy-only snoop on the collector's leg and the manager's phone share a bridge of their own
        snoop = [c for c in asterisk.channels() if c["id"] in bridges[0]["channels"] and c["name"].startswith("Snoop/")]
        phone = [c for c in asterisk.channels() if c["id"] in bridges[0]["channels"] and "PJSIP/8003" in c["name"]]
        assert snoop and phone
        await post_as(world.collector, reverse("cases:call-hangup"), {"call_uuid": call_uuid})
        await until_db(lambda: record_of(call_uuid), 15)
        # the listener goes when the call goes
        assert await until(lambda: not [b for b in asterisk.bridges() if b["id"].startswith("lb-")], 10)


# The other forms (86…, a bare landline) are covered against the database in tests/dialer/test_inbound_numbers.py.
@pytest.mark.parametrize("caller", ["+8613800138000", "013800138000", "+862412345678"])
async def test_inbound_caller_is_matched_in_every_number_form(running, asterisk, world, published, caller):
    # given: the case has a landline contact written with its hyphen
    await sync_to_async(f.CaseContactFactory)(case=world.case, phone="024-12345678", relation="单位", name="某公司")
    async with running():
        # when
        asterisk.call(caller, "95555", "--hangup-after", "1")
        await until(lambda: "connected" in statuses(published, world.collector), 15)
        call_uuid = last_message(published, world.collector)["call_uuid"]
        record = await until_db(lambda: record_of(call_uuid), 20)
    # then: the debtor's own collector took it, on the case, with who called
    assert (record.case_id, record.collector_id) == (world.case.pk, world.collector.pk)
    party = await sync_to_async(lambda: record.party_label)()
    assert party == ("单位" if "2412345678" in caller else "本人")
    assert record.source_label == "系统来电"


async def test_inbound_hang_up_from_the_panel(running, asterisk, world, published):
    """D5: the inbound call's id is Asterisk's channel id; the panel's 挂断 reaches the dialer."""
    async with running():
        asterisk.call("13800138000", "95555", "--hangup-after", "0")
        await until(lambda: "connected" in statuses(published, world.collector), 15)
        call_uuid = last_message(published, world.collector)["call_uuid"]
        assert "." in call_uuid
        response = await post_as(world.collector, reverse("cases:call-hangup"), {"call_uuid": call_uuid})
        assert response.status_code == 200
        record = await until_db(lambda: record_of(call_uuid), 10)
    assert record.answered_at is not None and record.hangup_cause == "通话结束"


async def test_inbound_missed_by_its_collector_goes_to_the_fallback_and_the_panel_stops_ringing(
        running, asterisk, world, published):
    """D6 on real Asterisk: 8001 rings out, 8002 (fallback) answers; 8001's panel hears 未接来电."""
    asterisk.phone("8001", "--no-answer")
    async with running(collector_ring_s=3):
        asterisk.call("13800138000", "95555", "--hangup-after", "1")
        await until(lambda: "connected" in statuses(published, world.other), 20)
        await until(lambda: statuses(published, world.collector)[-1:] == ["ended"], 10)
    assert statuses(published, world.collector) == ["ringing", "ended"]
    assert "未接" in last_message(published, world.collector)["message"]


async def test_inbound_nobody_free_is_a_missed_call_on_the_list(running, asterisk, world, published):
    # given: no fallback group (the embedded default) and the case's collector not answering
    asterisk.phone("8001", "--no-answer")
    async with running(collector_ring_s=2, fallback_extensions=()):
        # when: an unknown caller and the debtor call
        asterisk.call("13612345678", "95555", "--hangup-after", "1")
        asterisk.call("13800138000", "95555", "--hangup-after", "1")

        def both():
            found = list(CallRecord.objects.filter(direction=CallDirection.INBOUND))
            return found if len(found) == 2 else None
        calls = await until_db(both, 20)
    # then: both are on the 未接来电 list, the debtor's with its case and a 回拨 for its collector
    assert {c.answered_at for c in calls} == {None}

    def page(user):
        return client_for(user).get(reverse("cases:missed-calls")).content.decode()
    html = await sync_to_async(page)(world.collector)
    assert world.case.case_no in html and "回拨</a>" in html and "136****5678" in html
