from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry
from project import settings as project_settings
from tests.factories import PASSWORD, ClerkFactory


@pytest.mark.django_db
def test_login_page_speaks_chinese():
    # when
    response = Client().get(reverse("accounts:login"))
    # then
    assert response.status_code == 200
    text = response.content.decode()
    assert "用户名" in text and "密码" in text and "登录" in text
    assert 'lang="zh-CN"' in text


@pytest.mark.django_db
def test_login_success_is_audited_and_redirects_home():
    # given
    user = ClerkFactory(username="lina", full_name="李娜")
    # when
    response = Client().post(reverse("accounts:login"), {"username": "lina", "password": PASSWORD})
    # then
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert entry.actor == user and entry.actor_name == "李娜"
    assert entry.ip_address == "127.0.0.1"


@pytest.mark.django_db
def test_login_failure_shows_chinese_error_and_is_audited():
    # given
    ClerkFactory(username="lina")
    # when
    response = Client().post(reverse("accounts:login"), {"username": "lina", "password": "wrong-password"})
    # then
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN_FAILED)
    assert entry.actor is None and entry.actor_name == "lina"


@pytest.mark.django_db
def test_login_locks_out_after_five_failures_even_with_right_password():
    # given
    ClerkFactory(username="lina")
    client = Client()
    for _ in range(5):
        client.post(reverse("accounts:login"), {"username": "lina", "password": "wrong-password"})
    # when
    response = client.post(reverse("accounts:login"), {"username": "lina", "password": PASSWORD})
    # then
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_is_a_post_and_is_audited():
    # given
    user = ClerkFactory()
    client = Client()
    client.force_login(user)
    # when
    response = client.post(reverse("accounts:logout"))
    # then
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.LOGOUT, actor=user).exists()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_anonymous_user_is_sent_to_login():
    # when
    response = Client().get(reverse("cases:case-list"))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_production_settings_hash_passwords_with_argon2():
    # given
    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        user = ClerkFactory.build(username="argon")
        # when
        user.set_password("Some-Long-Passw0rd")
        # then
        assert identify_hasher(user.password).algorithm == "argon2"
        assert user.check_password("Some-Long-Passw0rd")


@pytest.mark.django_db
def test_inactive_user_cannot_log_in():
    # given
    ClerkFactory(username="gone", is_active=False)
    # when
    response = Client().post(reverse("accounts:login"), {"username": "gone", "password": PASSWORD})
    # then
    assert response.status_code == 200
    assert "_auth_user_id" not in response.wsgi_request.session
