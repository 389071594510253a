"""TOTP second factor (django-otp): who needs it at sign-in, enrolment, and the QR code of the secret.

A user with a confirmed TOTP device must give a token after the password (the second login step); once a
system admin or manager has enrolled they cannot switch it off themselves, only another system admin can
reset it (ops). Must not import `cases` or `realtime`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time

import segno
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django_otp.plugins.otp_totp.models import TOTPDevice
from redis.exceptions import RedisError

from accounts.models import User

logger = logging.getLogger(__name__)

ISSUER = "催收管控平台"


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def needs_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def must_keep_second_factor(user: User) -> bool:
    """System admins and managers keep 2FA once enabled (only another admin may reset it)."""
    return user.is_sysadmin or user.is_manager


def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled (a new secret each time enrolment starts over)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def otpauth_uri(device: TOTPDevice, user: User) -> str:
    from urllib.parse import quote, urlencode

    label = quote(f"{ISSUER}:{user.username}")
    query = urlencode({"secret": secret_base32(device), "issuer": ISSUER, "digits": device.digits,
                       "period": device.step})
    return f"otpauth://totp/{label}?{query}"


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data: URI (no image files, no third-party service)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


# --- Throttling wrong tokens: per user *and* address ------------------------------------------------------
# django-otp throttles the device itself, so someone who has only the password could keep the real user
# locked out by typing wrong tokens (settings.OTP_TOTP_THROTTLE_FACTOR = 0 switches that off). Here each
# (device, client address) pair waits 1, 2, 4 … seconds (at most 15 minutes) after each wrong token: the guesser
# slows only themselves; the real user, from their own address, signs in.
THROTTLE_MAX_SECONDS = 900


# While Redis (the shared cache) cannot be reached, the throttle lives in this web process's memory: managers and
# system admins can still sign in (to see the health page, for one), and a guesser is still slowed down.
_LOCAL = LocMemCache("otp-throttle-fallback", {"TIMEOUT": THROTTLE_MAX_SECONDS * 2})


def _get(key: str) -> dict[str, float] | None:
    try:
        value = cache.get(key)
    except RedisError:
        logger.warning("2FA throttle: Redis unreachable, using this process's memory")
        value = _LOCAL.get(key)
    return value if isinstance(value, dict) else None


def _set(key: str, value: dict[str, float]) -> None:
    try:
        cache.set(key, value, timeout=THROTTLE_MAX_SECONDS * 2)
    except RedisError:
        _LOCAL.set(key, value)


def _delete(key: str) -> None:
    _LOCAL.delete(key)
    try:
        cache.delete(key)
    except RedisError:
        logger.warning("2FA throttle: Redis unreachable, the shared throttle entry stays until it expires")


def _throttle_key(device: TOTPDevice, ip: str | None) -> str:
    digest = hashlib.sha256(f"{device.pk}:{device.key}".encode()).hexdigest()[:16]
    return f"otp-throttle:{digest}:{ip or '-'}"


def token_wait_seconds(device: TOTPDevice, ip: str | None) -> int:
    """Seconds this address must still wait before its next token for `device` is looked at (0: go ahead)."""
    state = _get(_throttle_key(device, ip))
    if not state:
        return 0
    return max(0, int(state["until"] - time.time() + 0.999))


def token_failed(device: TOTPDevice, ip: str | None) -> None:
    key = _throttle_key(device, ip)
    failures = int((_get(key) or {}).get("failures", 0)) + 1
    delay = min(2 ** (failures - 1), THROTTLE_MAX_SECONDS)
    _set(key, {"failures": failures, "until": time.time() + delay})


def token_succeeded(device: TOTPDevice, ip: str | None) -> None:
    _delete(_throttle_key(device, ip))
