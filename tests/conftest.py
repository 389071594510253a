from __future__ import annotations

import pytest
from django.test import Client

from tests import factories as f


@pytest.fixture
def bank(db):
    return f.BankFactory(code="ZSYH", name="招商银行")


@pytest.fixture
def other_bank(db):
    return f.BankFactory(code="JSYH", name="建设银行")


@pytest.fixture
def clerk(db, bank):
    user = f.ClerkFactory(username="clerk", full_name="李内勤")
    f.ClerkBankScopeFactory(clerk=user, bank=bank)
    return user


@pytest.fixture
def other_clerk(db, other_bank):
    user = f.ClerkFactory(username="clerk_other", full_name="赵内勤")
    f.ClerkBankScopeFactory(clerk=user, bank=other_bank)
    return user


@pytest.fixture
def collector(db):
    return f.CollectorFactory(username="collector", full_name="王催收")


@pytest.fixture
def other_collector(db):
    return f.CollectorFactory(username="collector_other", full_name="周催收")


@pytest.fixture
def field_collector(db):
    return f.FieldCollectorFactory(username="collector_field", full_name="吴外访")


@pytest.fixture
def manager(db):
    return f.ManagerFactory(username="manager", full_name="孙经理")


def admin_made_on_account_page(*, by, username: str, full_name: str):
    """A 系统管理员 made the way the product makes one (issue 13, 15): 账号管理 → 新建账号 with the role ticked
    (POSTed as the existing admin `by`), then the temporary password changed on first login. No superuser, no
    `is_staff`: whatever such an admin can do, they do through the product's own pages."""
    from django.urls import reverse

    from accounts.models import User

    page = Client()
    page.force_login(by)
    shown = page.post(reverse("ops:user-create"), {"username": username, "full_name": full_name,
                                                   "roles": ["is_sysadmin"]})
    assert shown.status_code == 200, shown.content.decode()[:500]
    admin = User.objects.get(username=username)
    first_login = Client()
    first_login.force_login(admin)
    new_password = f.PASSWORD  # the same password as every factory-made user, so login tests treat it alike
    first_login.post(reverse("accounts:password-change"), {
        "old_password": shown.context["password"], "new_password1": new_password, "new_password2": new_password})
    admin.refresh_from_db()
    assert admin.is_sysadmin and not admin.must_change_password
    assert not admin.is_staff and not admin.is_superuser
    return admin


@pytest.fixture
def first_admin(db):
    """The installation's first 系统管理员 (`manage.py seed_demo` or the deployment's first account)."""
    return f.SysadminFactory(username="first_admin", full_name="首任管理员")


@pytest.fixture
def sysadmin(db, first_admin):
    return admin_made_on_account_page(by=first_admin, username="sysadmin", full_name="钱管理员")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def clerk_client(clerk):
    return _client_for(clerk)


@pytest.fixture
def collector_client(collector):
    return _client_for(collector)


@pytest.fixture
def manager_client(manager):
    return _client_for(manager)


@pytest.fixture
def sysadmin_client(sysadmin):
    return _client_for(sysadmin)


@pytest.fixture
def make_case(db, bank):
    """Factory fixture: make_case(**overrides) → Case of `bank` unless told otherwise."""

    def _make(**overrides):
        if "batch" not in overrides:
            overrides["batch"] = f.BatchFactory(bank=overrides.pop("bank", bank))
        return f.CaseFactory(**overrides)

    return _make


@pytest.fixture(autouse=True, scope="session")
def _no_persistent_db_connections_in_threads():
    """Connections opened by database_sync_to_async threads (consumers) close after each use.

    With CONN_MAX_AGE > 0 (DATABASE_URL sets 60) those threads keep connections open, and PostgreSQL then
    refuses to drop the test database at the end of the run.
    """
    from django.conf import settings
    from django.db import connections

    for alias in connections:
        connections.settings[alias]["CONN_MAX_AGE"] = 0
        # No connection pool inside the test process either: a pooled connection a consumer's thread still held
        # kept the test database from being dropped. The daphne processes of the live tests keep their pools
        # (tests/ops/test_db_connections_multiprocess.py measures them).
        if connections.settings[alias].get("OPTIONS", {}).get("pool"):
            connections[alias].close_pool()
            connections.settings[alias]["OPTIONS"].pop("pool")
    # Tests drive the reminders scheduler themselves; it never starts inside the test process.
    settings.SCHEDULER_EMBEDDED = False
    yield


class Published:
    """Records what the single publish callback was asked to send (swapped in for the channel layer)."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, dict]] = []

    def __call__(self, deliveries) -> None:
        self.deliveries.extend((group, dict(message)) for group, message in deliveries)

    def sent_to(self, group: str) -> list:
        """Typed events sent to `group`, in order."""
        from realtime.events import event_from_message

        return [event_from_message(m) for g, m in self.deliveries if g == group]

    def messages_to(self, group: str) -> list[dict]:
        return [m for g, m in self.deliveries if g == group]

    def types(self) -> list[str]:
        return [m["type"] for _, m in self.deliveries]


@pytest.fixture
def published(monkeypatch):
    """Swap realtime.publish's single send callback for a recorder (use with django_capture_on_commit_callbacks
    (execute=True), or in transaction=True tests)."""
    from realtime import publish

    recorder = Published()
    monkeypatch.setattr(publish, "send_groups", recorder)
    return recorder


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On SQLite, keep the test database in a file (not in memory) so the daphne processes of the browser and
    multi-process tests (tests/browser/conftest.py) can open it too."""
    import os
    import tempfile

    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        test = db.setdefault("TEST", {})
        if not test.get("NAME"):
            test["NAME"] = os.path.join(tempfile.gettempdir(), f"cm-test-{os.getpid()}.sqlite3")
