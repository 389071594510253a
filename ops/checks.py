"""Deploy checks of system administration (run by `manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def vpn_key_configured(app_configs: object, **kwargs: object) -> list[Error]:
    if settings.VPN_ENCRYPTION_KEYS:
        from ops.crypto import CryptoError, vpn_fernet

        try:
            vpn_fernet()
        except CryptoError as exc:
            return [Error(f"VPN_ENCRYPTION_KEYS is invalid: {exc}", id="ops.E002")]
        return []
    return [Error("VPN_ENCRYPTION_KEYS (or VPN_ENCRYPTION_KEY) is not set: VPN passwords cannot be stored.",
                  hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                       "print(Fernet.generate_key().decode())'", id="ops.E001")]


@register(Tags.security, deploy=True)
def health_token_configured(app_configs: object, **kwargs: object) -> list[Warning]:
    if not settings.HEALTH_TOKEN:
        return [Warning("HEALTH_TOKEN is not set: /ops/health.json answers only signed-in system admins.",
                        id="ops.W001")]
    return []
