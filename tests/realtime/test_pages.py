from __future__ import annotations

import pytest
from django.urls import reverse

from cases.actions.stats import daily_stats_bump

pytestmark = pytest.mark.django_db


def test_base_page_carries_realtime_shell(collector_client, collector):
    # given / when
    html = collector_client.get(reverse("cases:reminder-list")).content.decode()
    # then
    assert f'<meta name="rt-user" content="{collector.pk}">' in html
    assert 'name="rt-after" content="0"' in html
    assert 'id="rt-bell"' in html
    assert "js/realtime.js" in html


def test_dashboard_forbidden_for_collector(collector_client):
    # given / when
    response = collector_client.get(reverse("cases:dashboard"))
    # then
    assert response.status_code == 403


def test_dashboard_shows_todays_counters(manager_client, collector):
    # given
    daily_stats_bump(collector_id=collector.pk, calls_made=5, calls_connected=2)
    # when
    response = manager_client.get(reverse("cases:dashboard"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="rt-topics" content="dashboard lines"' in html
    assert f'data-scope="collector" data-id="{collector.pk}"' in html
    assert '<td class="num nz" data-col="calls_made">5</td>' in html
    assert "实时看板" in html
