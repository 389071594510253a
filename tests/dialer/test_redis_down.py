"""Issue 13 item 25: while Redis (the cache holding the dialer's heartbeat and lines) cannot be reached, the lines
board still renders with a clear notice, and dialling and listening in are refused with the reason (no 500)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.enums import CaseStatus
from cases.models import CallRefusal
from tests import factories as f


@pytest.fixture
def case(bank, collector, clerk):
    collector.sip_endpoint = "8001"
    collector.save()
    return f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, owner_clerk=clerk,
                         status=CaseStatus.IN_PROGRESS, mobile="13812345678")


@pytest.fixture
def redis_unreachable(settings):
    """The cache that carries the dialer's heartbeat and lines points at a Redis nobody listens on (port 1)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    return settings


def test_lines_board_renders_with_a_notice_while_redis_is_down(manager_client, case, redis_unreachable):
    # given: a refusal today, counted from the database
    CallRefusal.objects.create(collector=case.collector, case=case, number="13812345678", rule="window",
                               message="不在允许拨打时段")
    # when: Redis cannot be reached
    response = manager_client.get(reverse("cases:lines-board"))
    # then: the page renders, says why the live lines are missing, and still counts today's calls
    html = response.content.decode()
    assert response.status_code == 200
    assert "实时服务（Redis）暂时无法连接" in html
    assert case.collector.display_name in html
    # and its live fragment too
    fragment = manager_client.get(reverse("cases:lines-board"), {"fragment": "1"})
    assert fragment.status_code == 200 and "实时服务（Redis）暂时无法连接" in fragment.content.decode()


def test_dial_and_listen_in_say_why_while_redis_is_down(collector_client, manager_client, manager, case,
                                                        redis_unreachable):
    # when: a collector dials and a manager listens in
    dial = collector_client.post(reverse("cases:call-dial", args=[case.pk]), {"contact": ""})
    manager.sip_endpoint = "8009"
    manager.save()
    listen = manager_client.post(reverse("cases:listen-in"), {"call_uuid": "abc"}, follow=True)
    # then: refused with a reason, not a 500
    assert dial.status_code == 409 and "实时服务（Redis）暂时无法连接" in dial.json()["error"]
    assert listen.status_code == 200 and "实时服务（Redis）暂时无法连接" in listen.content.decode()



def test_recording_retry_job_does_not_stop_the_scheduler_tick_while_redis_is_down(redis_unreachable, case):
    # given: a recording still waiting on Asterisk
    from django.utils import timezone

    from cases.actions.dialer import recordings_retry_request
    from cases.models import CallRecord, PendingRecording

    call = CallRecord.objects.create(case=case, collector=case.collector, number="13812345678",
                                     started_at=timezone.now())
    PendingRecording.objects.create(call=call, name="call-abc")
    # when: the job cannot reach the dialer (its heartbeat and commands go through Redis)
    waiting = recordings_retry_request(older_than_s=0)
    # then: it counts what waits and returns, so the tick goes on to the report roll-ups and the backups
    assert waiting == 1


def test_dialer_health_reads_as_not_connected_while_redis_is_down(redis_unreachable):
    # given
    from cases.actions.dialer import LiveStateUnavailableError, dialer_health, dialer_health_checked

    # when / then: pages that only show the dialer's state get None; refusals that must say why get the reason
    assert dialer_health() is None
    with pytest.raises(LiveStateUnavailableError, match="实时服务（Redis）暂时无法连接"):
        dialer_health_checked()
