"""DialerConfig: built from django.conf.settings, validated once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from dialer.config import DialerConfig


def test_dialer_config_reads_the_dialer_settings(settings):
    # given
    settings.DIALER_ARI_URL = "http://10.0.0.5:8088/"
    settings.DIALER_ARI_USER = "dialer"
    settings.DIALER_ARI_PASSWORD = "secret"
    settings.DIALER_APP = "collect"
    settings.DIALER_TRUNK = "carrier"
    settings.DIALER_LINES = 8
    # when
    config = DialerConfig.from_settings()
    # then
    assert (config.ari_url, config.ari_user, config.app, config.trunk, config.lines) == (
        "http://10.0.0.5:8088/",
        "dialer",
        "collect",
        "carrier",
        8,
    )
    assert config.customer_endpoint("13800138000") == "PJSIP/13800138000@carrier"
    assert config.collector_endpoint("8001") == "PJSIP/8001"


def test_dialer_config_defaults(settings):
    # given: only the secret comes from the environment in production
    settings.DIALER_ARI_PASSWORD = "secret"
    # when
    config = DialerConfig.from_settings()
    # then
    assert (config.app, config.trunk) == ("collect", "trunk")
    assert config.lines in (6, 8, 10)
    assert config.drain_timeout_s > 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DIALER_LINES", 7),
        ("DIALER_ARI_URL", "ftp://pbx/"),
        ("DIALER_ARI_PASSWORD", ""),
        ("DIALER_APP", "a,b"),
        ("DIALER_TRUNK", "PJSIP/trunk"),
        ("DIALER_DRAIN_TIMEOUT_SECONDS", 0),
    ],
)
def test_dialer_config_refuses_bad_settings(settings, name, value):
    # given
    settings.DIALER_ARI_PASSWORD = "secret"
    setattr(settings, name, value)
    # when / then
    with pytest.raises(ImproperlyConfigured):
        DialerConfig.from_settings()


def test_dialer_config_is_frozen(settings):
    # given
    settings.DIALER_ARI_PASSWORD = "secret"
    config = DialerConfig.from_settings()
    # when / then
    with pytest.raises(AttributeError):
        config.lines = 6
