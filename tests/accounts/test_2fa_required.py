"""TOTP is required for 系统管理员 and 管理人员 (enrolment forced at the next sign-in), and wrong tokens are
throttled per user and address, so someone holding only the password cannot keep the real user out."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories as f
from tests.accounts.test_2fa import _enrol, _login, _token

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["sysadmin", "manager"])
def test_a_manager_or_admin_without_a_second_factor_must_enrol_before_anything_else(request, role):
    # given
    user = request.getfixturevalue(role)
    client = Client()
    # when
    response = _login(client, user)
    # then: only the enrolment page, no other page, no websocket
    from accounts.sessions import session_refusal

    assert response["Location"] == reverse("accounts:two-factor")
    blocked = client.get(reverse("cases:case-list"))
    assert blocked.status_code == 302 and blocked["Location"] == reverse("accounts:two-factor")
    assert session_refusal(session_key=client.session.session_key, user_id=user.pk) == "second factor not enrolled"
    assert client.get(reverse("accounts:two-factor")).status_code == 200
    # when: they enrol
    from django_otp.plugins.otp_totp.models import TOTPDevice

    pending = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(reverse("accounts:two-factor"), {"action": "confirm", "token": _token(pending)})
    # then
    assert client.get(reverse("cases:case-list")).status_code == 200
    assert session_refusal(session_key=client.session.session_key, user_id=user.pk) is None


def test_a_password_holder_typing_wrong_tokens_does_not_keep_the_real_user_out(manager):
    # given: someone with the manager's password, on another machine, guessing tokens
    device = _enrol(manager)
    intruder = Client(REMOTE_ADDR="198.51.100.66")
    _login(intruder, manager)
    for _ in range(6):
        intruder.post(reverse("accounts:login-otp"), {"token": "000000"})
    refused = intruder.post(reverse("accounts:login-otp"), {"token": _token(device)})
    # when: the real manager signs in from the office
    office = Client(REMOTE_ADDR="203.0.113.10")
    _login(office, manager)
    response = office.post(reverse("accounts:login-otp"), {"token": _token(device)})
    # then: the guesser is throttled, the manager is in
    assert "次数过多" in refused.content.decode()
    assert response.status_code == 302
    assert office.get(reverse("cases:case-list")).status_code == 200


def test_collectors_and_clerks_are_not_forced_to_enrol(clerk):
    # when
    response = _login(Client(), f.CollectorFactory(username="c9"))
    clerk_response = _login(Client(), clerk)
    # then
    assert response["Location"] == reverse("frontend:home") == clerk_response["Location"]
