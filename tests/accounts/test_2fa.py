"""TOTP second factor: enrolment, the second login step for enrolled users, throttling, admin reset."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditAction, AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def _token(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def _enrol(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=True)


def _login(client: Client, user) -> object:
    return client.post(reverse("accounts:login"), {"username": user.username, "password": f.PASSWORD})


def test_enrolment_shows_a_qr_code_and_confirms_with_a_token(manager_client, manager):
    # given
    page = manager_client.get(reverse("accounts:two-factor")).content.decode()
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    # when
    response = manager_client.post(reverse("accounts:two-factor"), {"action": "confirm", "token": _token(device)})
    # then
    assert 'src="data:image/svg+xml' in page
    assert re.search(r"[A-Z2-7]{32}", page)
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action=AuditAction.USER_CHANGE, summary__contains="启用两步验证").exists()


def test_enrolment_refuses_a_wrong_token(manager_client, manager):
    # given
    manager_client.get(reverse("accounts:two-factor"))
    # when
    response = manager_client.post(reverse("accounts:two-factor"), {"action": "confirm", "token": "000000"})
    # then
    assert "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()


@pytest.mark.parametrize("role", ["sysadmin", "manager"])
def test_login_requires_the_token_once_enrolled(request, role):
    # given
    user = request.getfixturevalue(role)
    device = _enrol(user)
    client = Client()
    # when
    first = _login(client, user)
    before = client.get(reverse("cases:case-list"))
    second = client.post(reverse("accounts:login-otp"), {"token": _token(device)})
    after = client.get(reverse("cases:case-list"))
    # then
    assert first["Location"] == reverse("accounts:login-otp")
    assert before.status_code == 302 and before["Location"].startswith(reverse("accounts:login"))
    assert second.status_code == 302
    assert after.status_code == 200


def test_second_login_step_page_renders_for_the_user_signing_in(manager):
    # given: an enrolled manager past the password step
    _enrol(manager)
    client = Client()
    _login(client, manager)
    # when
    response = client.get(reverse("accounts:login-otp"))
    # then: the page asks this user for the token
    html = response.content.decode()
    assert response.status_code == 200
    assert "两步验证" in html and manager.display_name in html and 'name="token"' in html


def test_wrong_token_is_refused_audited_and_throttled(manager):
    # given
    _enrol(manager)
    client = Client()
    _login(client, manager)
    # when
    wrong = client.post(reverse("accounts:login-otp"), {"token": "000000"})
    again = client.post(reverse("accounts:login-otp"), {"token": "000000"})
    # then
    assert "验证码不正确" in wrong.content.decode()
    assert "次数过多" in again.content.decode()
    assert client.get(reverse("cases:case-list")).status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, summary__contains="两步验证码错误").exists()


def test_otp_step_without_a_password_step_goes_back_to_login():
    # when
    response = Client().get(reverse("accounts:login-otp"))
    # then
    assert response["Location"] == reverse("accounts:login")


def test_users_without_a_device_sign_in_with_the_password_alone(collector):
    # when: roles that need no second factor
    response = _login(Client(), collector)
    # then
    assert response["Location"] == reverse("frontend:home")


def test_managers_cannot_switch_it_off_themselves(manager_client, manager):
    # given
    device = _enrol(manager)
    # when
    response = manager_client.post(reverse("accounts:two-factor"), {"action": "disable", "token": _token(device)},
                                   follow=True)
    # then
    assert "必须保留两步验证" in response.content.decode()
    assert TOTPDevice.objects.filter(user=manager, confirmed=True).exists()


def test_sysadmin_resets_someones_2fa_audited(sysadmin_client, manager):
    # given
    _enrol(manager)
    # when
    sysadmin_client.post(reverse("ops:user-2fa-reset", args=[manager.pk]))
    # then
    assert not TOTPDevice.objects.filter(user=manager).exists()
    entry = AuditEntry.objects.get(action=AuditAction.PERMISSION_CHANGE, object_id=str(manager.pk))
    assert entry.detail["changes"]["totp_devices"] == {"before": 1, "after": 0}
    # the manager signs in with the password and enrols a new phone before anything else (issue 13, item 23)
    assert _login(Client(), manager)["Location"] == reverse("accounts:two-factor")
