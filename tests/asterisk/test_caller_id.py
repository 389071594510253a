"""The caller-ID pool through a real Asterisk (issue 17): the number the product chose and recorded on each call is
the one the carrier (the SIPp trunk UAS) sees in the INVITE's From, and the calls rotate over the pool."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import sync_to_async

from callerids.models import CallerNumber
from tests.asterisk import test_calls
from tests.asterisk.conftest import until_db

# The calls' world and helpers (tests/asterisk/test_calls.py).
world, dial, record_of, set_number = test_calls.world, test_calls.dial, test_calls.record_of, test_calls.set_number

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asterisk]

INVITE = re.compile(r"^INVITE sip:(?P<to>[^@;>\s]+)@.*?^From:[^\n]*<sip:(?P<from>[^@;>]+)@", re.M | re.S)


def invites(asterisk) -> dict[str, list[str]]:
    """Dialled number → the From users of every INVITE the trunk UAS received for it."""
    log = asterisk.run / "sipp" / "trunk.messages.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    seen: dict[str, list[str]] = {}
    for block in text.split("-----------------------------------------------"):
        if "message received" not in block:
            continue
        match = INVITE.search(block)
        if match:
            seen.setdefault(match["to"], []).append(match["from"])
    return seen


async def test_the_carrier_sees_the_caller_id_the_product_recorded_and_calls_rotate(running, asterisk, world):
    # given: two shared pool numbers
    for number in ("02161000001", "02161000002"):
        await sync_to_async(CallerNumber.objects.create)(number=number)
    # (…486 busy at once; others answer after 0.5 s and hang up after 3 s)
    numbers = ["13900150486", "13900151001", "13900152486", "13900153486"]
    records = []
    async with running():
        for number in numbers:
            # when
            await set_number(world, number)
            call_uuid = await dial(world)
            records.append(await until_db(lambda u=call_uuid: record_of(u), 30))
    # then: each record names a pool number, and that is what the carrier was sent for that call
    seen = invites(asterisk)
    for number, record in zip(numbers, records, strict=True):
        assert record.caller_id in {"02161000001", "02161000002"}, record
        assert seen.get(number) == [record.caller_id], (number, seen)
    assert {r.caller_id for r in records} == {"02161000001", "02161000002"}
    assert records[1].answered_at is not None
