"""The second login step while Redis (which holds the wrong-token throttle) cannot be reached: managers and
system admins still sign in, and wrong tokens are still throttled (in the web process's own memory)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_unreachable(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    return settings


def _signed_in_past_the_password(user) -> tuple[Client, TOTPDevice]:
    device = TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=True)
    client = Client()
    client.post(reverse("accounts:login"), {"username": user.username, "password": f.PASSWORD})
    return client, device


def test_manager_signs_in_with_the_token_while_redis_is_down(manager, redis_unreachable):
    # given
    client, device = _signed_in_past_the_password(manager)
    token = f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
    # when
    page = client.get(reverse("accounts:login-otp"))
    response = client.post(reverse("accounts:login-otp"), {"token": token})
    # then
    assert page.status_code == 200
    assert response.status_code == 302
    assert client.get(reverse("cases:case-list")).status_code == 200


def test_wrong_tokens_are_still_throttled_while_redis_is_down(manager, redis_unreachable):
    # given
    client, _ = _signed_in_past_the_password(manager)
    # when
    wrong = client.post(reverse("accounts:login-otp"), {"token": "000000"})
    again = client.post(reverse("accounts:login-otp"), {"token": "000000"})
    # then
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    assert "次数过多" in again.content.decode()
