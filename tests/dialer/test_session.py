"""CallSession: pure state machine tests (no simulator, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer.session import (
    END_CAUSE_LABELS,
    CallSession,
    Direction,
    EndCause,
    Phase,
    collector_cause,
    customer_cause,
    parse_ari_time,
)

COLL = "out-coll"
CUST = "out-cust"
_tick = iter(range(10_000))


def ts() -> str:
    n = next(_tick)
    return f"2026-11-28T15:{(n // 60) % 60:02d}:{n % 60:02d}.000+0800"


def chan(channel_id: str, state: str = "Up") -> dict:
    return {
        "id": channel_id,
        "name": f"PJSIP/x-{channel_id}",
        "state": state,
        "caller": {"name": "", "number": ""},
        "connected": {"name": "", "number": ""},
    }


def ev(event_type: str, channel_id: str, state: str = "Up", **extra) -> dict:
    return {"type": event_type, "timestamp": ts(), "channel": chan(channel_id, state), **extra}


def dial(channel_id: str, status: str, state: str = "Ringing") -> dict:
    return {
        "type": "Dial",
        "timestamp": ts(),
        "dialstatus": status,
        "dialstring": "x",
        "forward": "",
        "peer": chan(channel_id, state),
    }


def destroyed(channel_id: str, cause: int) -> dict:
    return ev("ChannelDestroyed", channel_id, cause=cause, cause_txt="x")


def outbound() -> CallSession:
    return CallSession.outbound(call_uuid="u1", collector_channel_id=COLL, collector_ext="8001", number="13800138000")


def collector_answered() -> CallSession:
    session = outbound()
    for event in (
        dial(COLL, ""),
        ev("ChannelStateChange", COLL, "Ringing"),
        dial(COLL, "RINGING"),
        ev("ChannelStateChange", COLL, "Up"),
        dial(COLL, "ANSWER", "Up"),
        ev("StasisStart", COLL, args=[]),
    ):
        session.apply(event)
    assert session.phase == Phase.COLLECTOR_ANSWERED
    return session


def connected() -> CallSession:
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    session.apply(dial(CUST, "ANSWER", "Up"))
    assert session.phase == Phase.CONNECTED
    return session


def inbound() -> CallSession:
    return CallSession.inbound(call_uuid="in1", customer_channel_id="in-caller", number="13900139000", exten="80001234")


# ---- outbound: the happy path ---------------------------------------------------------------------------


def test_outbound_session_starts_with_collector_ringing():
    # given / when
    session = outbound()
    # then
    assert (session.direction, session.phase, session.channel_ids()) == (
        Direction.OUTBOUND,
        Phase.COLLECTOR_RINGING,
        (COLL,),
    )


def test_outbound_session_walks_every_phase_in_the_fact_1_and_fact_3_order():
    # given
    session = outbound()
    phases = []
    # when
    for event in (
        dial(COLL, ""),
        ev("ChannelStateChange", COLL, "Ringing"),
        dial(COLL, "RINGING"),
        ev("ChannelStateChange", COLL, "Up"),
        dial(COLL, "ANSWER", "Up"),
        ev("StasisStart", COLL, args=[]),
    ):
        if (t := session.apply(event)) is not None:
            phases.append(t.phase)
    phases.append(session.customer_dialling(customer_channel_id=CUST).phase)
    for event in (
        ev("StasisStart", CUST, "Down", args=[]),
        dial(CUST, ""),
        ev("ChannelStateChange", CUST, "Ringing"),
        dial(CUST, "RINGING"),
        ev("ChannelStateChange", CUST, "Up"),
        dial(CUST, "ANSWER", "Up"),
    ):
        if (t := session.apply(event)) is not None:
            phases.append(t.phase)
    # then
    assert phases == [Phase.COLLECTOR_ANSWERED, Phase.CUSTOMER_DIALLING, Phase.CUSTOMER_RINGING, Phase.CONNECTED]
    assert session.answered


def test_outbound_collector_up_without_stasis_start_is_not_yet_answered():
    # given: the originated leg is Up but not yet in Stasis (bridging it now would fail with 422)
    session = outbound()
    # when
    transition = session.apply(ev("ChannelStateChange", COLL, "Up"))
    # then
    assert transition is None
    assert session.phase == Phase.COLLECTOR_RINGING


def test_outbound_collector_answered_records_the_stasis_start_time():
    # given
    session = outbound()
    event = ev("StasisStart", COLL, args=["collector"])
    # when
    session.apply(event)
    # then
    assert session.collector_answered_at == parse_ari_time(event["timestamp"])


def test_outbound_customer_dialling_only_after_collector_answered():
    # given
    session = outbound()
    # when
    transition = session.customer_dialling(customer_channel_id=CUST)
    # then
    assert transition is None
    assert session.customer_channel_id is None


def test_outbound_completed_when_customer_hangs_up_after_talking():
    # given
    session = connected()
    session.connected_at = datetime(2026, 11, 28, 7, 0, 0, tzinfo=UTC)
    # when
    transition = session.apply(
        {
            "type": "ChannelHangupRequest",
            "timestamp": "2026-11-28T15:01:05.000+0800",
            "cause": 16,
            "channel": chan(CUST),
        }
    )
    # then
    assert transition.phase == Phase.ENDED
    assert transition.cause == EndCause.COMPLETED
    assert transition.hangup == (COLL,)
    assert session.hangup_by == "customer"
    assert session.talk_seconds == 65


def test_outbound_completed_when_collector_hangs_up_after_talking():
    # given
    session = connected()
    # when
    transition = session.apply(destroyed(COLL, 16))
    # then
    assert (transition.cause, transition.hangup, session.hangup_by, session.cause_code) == (
        EndCause.COMPLETED,
        (CUST,),
        "collector",
        16,
    )


def test_outbound_completed_on_stasis_end_when_destroyed_never_arrives():
    # given
    session = connected()
    # when
    transition = session.apply(ev("StasisEnd", CUST))
    # then
    assert transition.cause == EndCause.COMPLETED


# ---- outbound: failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cause"),
    [
        ("BUSY", EndCause.BUSY),
        ("NOANSWER", EndCause.NO_ANSWER),
        ("CHANUNAVAIL", EndCause.UNREACHABLE),
        ("CONGESTION", EndCause.LINES_BUSY),
    ],
)
def test_outbound_customer_dial_failure_ends_the_call_and_hangs_up_the_collector(status, cause):
    # given
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    # when
    transition = session.apply(dial(CUST, status))
    # then
    assert (transition.phase, transition.cause, transition.hangup) == (Phase.ENDED, cause, (COLL,))
    assert not session.answered


@pytest.mark.parametrize(
    ("status", "cause"),
    [
        ("BUSY", EndCause.COLLECTOR_BUSY),
        ("NOANSWER", EndCause.COLLECTOR_NO_ANSWER),
        ("CHANUNAVAIL", EndCause.COLLECTOR_UNAVAILABLE),
    ],
)
def test_outbound_collector_not_answering_ends_the_call(status, cause):
    # given
    session = outbound()
    # when
    transition = session.apply(dial(COLL, status))
    # then
    assert (transition.cause, transition.hangup) == (cause, ())


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (17, EndCause.BUSY),
        (21, EndCause.BUSY),
        (19, EndCause.NO_ANSWER),
        (18, EndCause.NO_ANSWER),
        (20, EndCause.UNREACHABLE),
        (1, EndCause.UNREACHABLE),
        (34, EndCause.LINES_BUSY),
        (127, EndCause.FAILED),
    ],
)
def test_outbound_customer_destroyed_before_answer_maps_its_q850_cause(code, cause):
    # given
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    # when
    transition = session.apply(destroyed(CUST, code))
    # then
    assert transition.cause == cause
    assert session.cause_code == code


def test_outbound_collector_hanging_up_while_customer_rings_cancels_and_hangs_up_customer():
    # given
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    session.apply(dial(CUST, "RINGING"))
    # when
    transition = session.apply({"type": "ChannelHangupRequest", "timestamp": ts(), "cause": 16, "channel": chan(COLL)})
    # then
    assert (transition.cause, transition.hangup) == (EndCause.CANCELLED, (CUST,))


def test_outbound_our_own_soft_hangup_request_waits_for_the_destroyed_cause():
    # given: the dialer hangs the ringing collector leg up (ARI DELETE gives a soft request, cause 32)
    session = outbound()
    # when
    soft = session.apply(
        {"type": "ChannelHangupRequest", "timestamp": ts(), "cause": 32, "soft": True, "channel": chan(COLL, "Ringing")}
    )
    final = session.apply(destroyed(COLL, 16))
    # then
    assert soft is None
    assert final.cause == EndCause.CANCELLED


def test_outbound_fail_hangs_up_every_live_leg():
    # given
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    # when
    transition = session.fail(EndCause.LINES_BUSY)
    # then
    assert transition.hangup == (COLL, CUST)
    assert session.fail(EndCause.FAILED) is None


# ---- duplicated and out-of-order events -----------------------------------------------------------------


def test_duplicated_events_change_nothing():
    # given
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    ringing = dial(CUST, "RINGING")
    # when
    first = session.apply(ringing)
    second = session.apply(dict(ringing))
    # then
    assert first.phase == Phase.CUSTOMER_RINGING
    assert second is None


def test_late_ringing_after_answer_is_ignored():
    # given
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    session.apply(dial(CUST, "ANSWER", "Up"))
    # when
    transition = session.apply(dial(CUST, "RINGING"))
    state_change = session.apply(ev("ChannelStateChange", CUST, "Ringing"))
    # then
    assert (transition, state_change) == (None, None)
    assert session.phase == Phase.CONNECTED


def test_answer_before_ringing_jumps_straight_to_connected():
    # given
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    # when
    transition = session.apply(ev("ChannelStateChange", CUST, "Up"))
    # then
    assert (transition.previous, transition.phase) == (Phase.CUSTOMER_DIALLING, Phase.CONNECTED)


def test_events_after_the_end_are_ignored():
    # given
    session = connected()
    session.apply(destroyed(CUST, 16))
    # when
    results = [session.apply(e) for e in (ev("StasisEnd", COLL), destroyed(COLL, 16), dial(CUST, "ANSWER"))]
    # then
    assert results == [None, None, None]
    assert session.cause == EndCause.COMPLETED


def test_dial_failure_then_destroyed_ends_once_with_the_dial_status():
    # given
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    # when
    first = session.apply(dial(CUST, "BUSY"))
    second = session.apply(destroyed(CUST, 17))
    # then
    assert first.cause == EndCause.BUSY
    assert second is None


def test_events_about_other_channels_are_ignored():
    # given
    session = outbound()
    # when
    results = [
        session.apply(e)
        for e in (
            ev("StasisStart", "someone-else", args=[]),
            dial("x", "ANSWER"),
            destroyed("x", 16),
            {"type": "RecordingStarted", "timestamp": ts()},
        )
    ]
    # then
    assert results == [None, None, None, None]
    assert session.phase == Phase.COLLECTOR_RINGING


def test_dial_cancel_is_not_an_ending():
    # given
    session = outbound()
    # when
    transition = session.apply(dial(COLL, "CANCEL"))
    # then
    assert transition is None


# ---- resync after a reconnect ---------------------------------------------------------------------------


def test_resync_with_both_legs_alive_keeps_the_call():
    # given
    session = connected()
    # when
    transition = session.resync({COLL: chan(COLL), CUST: chan(CUST)})
    # then
    assert transition is None
    assert session.phase == Phase.CONNECTED


def test_resync_catches_up_on_an_answer_missed_in_the_gap():
    # given
    session = collector_answered()
    session.customer_dialling(customer_channel_id=CUST)
    # when
    transition = session.resync({COLL: chan(COLL), CUST: chan(CUST, "Up")})
    # then
    assert transition.phase == Phase.CONNECTED


def test_resync_with_a_leg_gone_ends_the_call_as_lost_and_hangs_up_the_rest():
    # given
    session = connected()
    # when
    transition = session.resync({COLL: chan(COLL), CUST: None})
    # then
    assert (transition.cause, transition.hangup) == (EndCause.LOST, (COLL,))


def test_lost_after_asterisk_restart_ends_the_call():
    # given
    session = connected()
    # when
    transition = session.lost()
    # then
    assert transition.cause == EndCause.LOST
    assert session.ended


# ---- inbound --------------------------------------------------------------------------------------------


def test_inbound_routed_then_collector_answers_connects():
    # given
    session = inbound()
    # when
    routed = session.route_to_collector(collector_channel_id="in-coll", collector_ext="8002")
    ringing = session.apply(dial("in-coll", "RINGING"))
    answered = session.apply(dial("in-coll", "ANSWER", "Up"))
    # then
    assert routed.phase == Phase.ROUTED
    assert ringing is None
    assert (answered.phase, answered.leg) == (Phase.CONNECTED, "collector")


def test_inbound_caller_leg_state_changes_do_not_connect():
    # given: we answer the caller ourselves once the collector picks up
    session = inbound()
    session.route_to_collector(collector_channel_id="in-coll", collector_ext="8002")
    # when
    transition = session.apply(ev("ChannelStateChange", "in-caller", "Up"))
    # then
    assert transition is None


def test_inbound_collector_missing_the_call_returns_it_to_ringing_for_the_next_collector():
    # given
    session = inbound()
    session.route_to_collector(collector_channel_id="in-coll", collector_ext="8002")
    # when
    missed = session.apply(dial("in-coll", "NOANSWER"))
    late = session.apply(destroyed("in-coll", 19))
    rerouted = session.route_to_collector(collector_channel_id="in-coll-2", collector_ext="8003")
    # then
    assert (missed.phase, missed.cause) == (Phase.INBOUND_RINGING, EndCause.COLLECTOR_NO_ANSWER)
    assert late is None
    assert rerouted.phase == Phase.ROUTED
    assert session.missed_collectors == ["8002"]


def test_inbound_collector_leg_destroyed_before_answer_returns_to_ringing():
    # given
    session = inbound()
    session.route_to_collector(collector_channel_id="in-coll", collector_ext="8002")
    # when
    transition = session.apply(destroyed("in-coll", 17))
    # then
    assert (transition.phase, transition.cause) == (Phase.INBOUND_RINGING, EndCause.COLLECTOR_BUSY)


def test_inbound_caller_hanging_up_before_answer_is_abandoned():
    # given
    session = inbound()
    session.route_to_collector(collector_channel_id="in-coll", collector_ext="8002")
    # when
    transition = session.apply(
        {"type": "ChannelHangupRequest", "timestamp": ts(), "cause": 16, "channel": chan("in-caller", "Ring")}
    )
    # then
    assert (transition.cause, transition.hangup) == (EndCause.ABANDONED, ("in-coll",))


def test_inbound_completed_after_talking():
    # given
    session = inbound()
    session.route_to_collector(collector_channel_id="in-coll", collector_ext="8002")
    session.apply(dial("in-coll", "ANSWER", "Up"))
    # when
    transition = session.apply(destroyed("in-caller", 16))
    # then
    assert (transition.cause, transition.hangup, session.hangup_by) == (EndCause.COMPLETED, ("in-coll",), "customer")


def test_inbound_route_refused_while_already_routed():
    # given
    session = inbound()
    session.route_to_collector(collector_channel_id="in-coll", collector_ext="8002")
    # when
    transition = session.route_to_collector(collector_channel_id="other", collector_ext="8003")
    # then
    assert transition is None
    assert session.collector_channel_id == "in-coll"


def test_inbound_stasis_start_in_ring_state_does_nothing():
    # given
    session = inbound()
    # when
    transition = session.apply(ev("StasisStart", "in-caller", "Ring", args=["inbound", "80001234"]))
    # then
    assert transition is None
    assert session.phase == Phase.INBOUND_RINGING


# ---- helpers --------------------------------------------------------------------------------------------


def test_parse_ari_time_reads_asterisk_timestamps():
    # given / when
    moment = parse_ari_time("2026-11-28T15:11:43.779+0800")
    # then
    assert moment == datetime(2026, 11, 28, 7, 11, 43, 779000, tzinfo=UTC)


def test_every_end_cause_has_a_chinese_label():
    # given / when / then
    assert set(END_CAUSE_LABELS) == set(EndCause)


@pytest.mark.parametrize(
    ("code", "cause"),
    [
        (16, EndCause.CANCELLED),
        (17, EndCause.COLLECTOR_BUSY),
        (19, EndCause.COLLECTOR_NO_ANSWER),
        (20, EndCause.COLLECTOR_UNAVAILABLE),
        (None, EndCause.COLLECTOR_UNAVAILABLE),
    ],
)
def test_collector_cause_mapping(code, cause):
    # given / when / then
    assert collector_cause(code) == cause


def test_customer_cause_unknown_code_is_failed():
    # given / when / then
    assert customer_cause(None) == EndCause.FAILED


def test_a_call_hung_up_by_the_collector_while_the_customer_rings_is_cancelled_whichever_leg_ends_first():
    """Real Asterisk: our hang-up of the ringing customer leg may end it (cause 16) before the collector's leg."""
    s = CallSession.outbound(call_uuid="u", collector_channel_id="u-coll", collector_ext="8001", number="1")
    s.apply({"type": "StasisStart", "channel": {"id": "u-coll", "state": "Up"}})
    s.customer_dialling(customer_channel_id="u-cust")
    s.apply({"type": "Dial", "dialstatus": "RINGING", "peer": {"id": "u-cust"}})
    # when
    s.cancel()
    s.apply({"type": "ChannelHangupRequest", "soft": True, "cause": 32, "channel": {"id": "u-cust"}})
    transition = s.apply({"type": "ChannelDestroyed", "cause": 16, "channel": {"id": "u-cust"}})
    # then
    assert transition is not None and transition.cause == EndCause.CANCELLED
