"""DialerConfig: the dialer's settings, read once from django.conf.settings (which reads the environment).

The rest of the dialer takes a DialerConfig and never touches settings or os.environ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ALLOWED_LINES = (6, 8, 10)


@dataclass(frozen=True, kw_only=True)
class DialerConfig:
    ari_url: str
    ari_user: str
    ari_password: str
    app: str
    trunk: str
    lines: int
    drain_timeout_s: int
    collector_ring_s: int
    customer_ring_s: int
    reconnect_max_s: int
    simulator: bool
    # Inbound callers matching no case (or whose collector is busy) ring these extensions, first free first.
    fallback_extensions: tuple[str, ...] = ()
    # Progressive dialling (连续外呼) never takes the last N free lines: they stay for click-to-call and inbound.
    progressive_reserve_lines: int = 1
    progressive_tick_s: float = 0.5

    def __post_init__(self) -> None:
        parts = urlsplit(self.ari_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ImproperlyConfigured(f"DIALER_ARI_URL must be an http(s) URL, got {self.ari_url!r}")
        if not self.ari_user or not self.ari_password:
            raise ImproperlyConfigured("DIALER_ARI_USER and DIALER_ARI_PASSWORD must be set")
        if not self.app or "," in self.app:
            raise ImproperlyConfigured("DIALER_APP must be one Stasis application name")
        if not self.trunk or "@" in self.trunk or "/" in self.trunk:
            raise ImproperlyConfigured("DIALER_TRUNK must be the PJSIP endpoint name of the trunk")
        if self.lines not in ALLOWED_LINES:
            raise ImproperlyConfigured(f"DIALER_LINES must be one of {ALLOWED_LINES}, got {self.lines}")
        if not 0 <= self.progressive_reserve_lines < self.lines:
            raise ImproperlyConfigured("DIALER_PROGRESSIVE_RESERVE_LINES must be at least 0 and below DIALER_LINES")
        for name in ("drain_timeout_s", "collector_ring_s", "customer_ring_s", "reconnect_max_s"):
            if getattr(self, name) <= 0:
                raise ImproperlyConfigured(f"dialer setting {name} must be positive")

    @classmethod
    def from_settings(cls, source: Any = None) -> DialerConfig:
        conf = source if source is not None else settings
        return cls(
            ari_url=conf.DIALER_ARI_URL,
            ari_user=conf.DIALER_ARI_USER,
            ari_password=conf.DIALER_ARI_PASSWORD,
            app=conf.DIALER_APP,
            trunk=conf.DIALER_TRUNK,
            lines=conf.DIALER_LINES,
            drain_timeout_s=conf.DIALER_DRAIN_TIMEOUT_SECONDS,
            collector_ring_s=conf.DIALER_COLLECTOR_RING_SECONDS,
            customer_ring_s=conf.DIALER_CUSTOMER_RING_SECONDS,
            reconnect_max_s=conf.DIALER_RECONNECT_MAX_SECONDS,
            simulator=conf.DIALER_SIMULATOR,
            fallback_extensions=tuple(
                e.strip() for e in str(getattr(conf, "DIALER_FALLBACK_EXTENSIONS", "")).split(",") if e.strip()),
            progressive_reserve_lines=int(getattr(conf, "DIALER_PROGRESSIVE_RESERVE_LINES", 1)),
        )

    def collector_endpoint(self, extension: str) -> str:
        """PJSIP/<ext>: the collector's phone."""
        return f"PJSIP/{extension}"

    def customer_endpoint(self, number: str) -> str:
        """PJSIP/<number>@<trunk>: a number dialled out over the trunk."""
        return f"PJSIP/{number}@{self.trunk}"
