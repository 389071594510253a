from __future__ import annotations

import pytest

from cases.selectors.cases import case_visible_to
from tests import factories as f


@pytest.fixture
def world(db, bank, other_bank, clerk, collector, other_collector):
    mine = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector)
    theirs = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=other_collector)
    elsewhere = f.CaseFactory(batch=f.BatchFactory(bank=other_bank), collector=collector)
    return mine, theirs, elsewhere


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("collector", {"mine", "elsewhere"}),
        ("other_collector", {"theirs"}),
        ("clerk", {"mine", "theirs"}),
        ("manager", {"mine", "theirs", "elsewhere"}),
        ("sysadmin", {"mine", "theirs", "elsewhere"}),
    ],
)
def test_case_visible_to_scopes_each_role(request, world, manager, sysadmin, who, expected):
    # given
    names = dict(zip(("mine", "theirs", "elsewhere"), world, strict=True))
    user = request.getfixturevalue(who)
    # when
    visible = set(case_visible_to(user).values_list("pk", flat=True))
    # then
    assert visible == {names[n].pk for n in expected}


def test_case_visible_to_gives_a_clerk_collector_the_union(world, bank, collector):
    # given: a collector who is also clerk of the first bank
    collector.is_clerk = True
    collector.save()
    f.ClerkBankScopeFactory(clerk=collector, bank=bank)
    # when
    visible = set(case_visible_to(collector).values_list("pk", flat=True))
    # then
    assert visible == {c.pk for c in world}


def test_case_visible_to_hides_everything_from_inactive_users(world, manager):
    # given
    manager.is_active = False
    manager.save()
    # then
    assert not case_visible_to(manager).exists()


def test_case_visible_to_returns_each_case_once_for_clerks_with_many_scopes(world, clerk, other_bank):
    # given
    f.ClerkBankScopeFactory(clerk=clerk, bank=other_bank)
    # when
    ids = list(case_visible_to(clerk).values_list("pk", flat=True))
    # then
    assert len(ids) == len(set(ids)) == 3
