"""The top bar: every page a person may open is in it exactly once; a collector's few pages sit side by side, a
manager's and an administrator's many fold into named menus so the bar fits an office screen."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from frontend.context_processors import FLAT_UP_TO, NavGroup, NavItem, navigation

pytestmark = pytest.mark.django_db


def _bar(user):
    request = RequestFactory().get("/")
    request.user = user
    return navigation(request)


def _pages(entries) -> list[str]:
    return [i.label for e in entries for i in (e.items if isinstance(e, NavGroup) else (e,))]


def test_a_collectors_pages_sit_side_by_side(collector):
    bar = _bar(collector)
    assert all(isinstance(e, NavItem) for e in bar["nav_entries"])
    assert [e.label for e in bar["nav_entries"]][:2] == ["今日工作", "委案列表"]
    assert len(bar["nav_entries"]) <= FLAT_UP_TO


@pytest.mark.parametrize("who", ["manager", "sysadmin", "clerk"])
def test_many_pages_fold_into_menus_and_none_is_lost_or_doubled(who, request):
    user = request.getfixturevalue(who)
    bar = _bar(user)
    items, entries = bar["nav_items"], bar["nav_entries"]
    assert len(items) > FLAT_UP_TO
    assert _pages(entries) != [] and sorted(_pages(entries)) == sorted(i.label for i in items)
    assert len(set(_pages(entries))) == len(_pages(entries))
    assert any(isinstance(e, NavGroup) for e in entries)
    # a menu holds at least two pages; a group with one page for this person is a plain link
    assert all(len(e.items) >= 2 for e in entries if isinstance(e, NavGroup))
    assert len(entries) <= 12


def test_the_administrators_system_pages_are_one_menu(sysadmin):
    groups = {e.label: [i.label for i in e.items] for e in _bar(sysadmin)["nav_entries"] if isinstance(e, NavGroup)}
    assert groups["系统管理"] == ["账号管理", "审计日志", "VPN 账号", "备份", "系统健康", "基础资料"]


def test_a_managers_menu_marks_the_group_of_the_open_page(manager_client):
    html = manager_client.get("/cases/lines/").content.decode()
    assert 'class="navgroup active"' in html
    assert '<a href="/cases/lines/" class="active" aria-current="page">线路</a>' in html
