"""TOTP second factor (django-otp): who needs it at sign-in, enrolment, and the QR code of the secret.

A user with a confirmed TOTP device must give a token after the password (the second login step); once a
system admin or manager has enrolled they cannot switch it off themselves, only another system admin can
reset it (ops). Must not import `cases` or `realtime`.
"""

from __future__ import annotations

import base64

import segno
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

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
