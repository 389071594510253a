"""Production shape: `manage.py check --deploy` is clean with production settings; the compose file validates;
protected downloads can be handed to nginx."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.http import Http404

from ops.accel import file_response

ROOT = Path(__file__).resolve().parents[2]


def _production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DEBUG": "0",
        "SECRET_KEY": "prod-like-" + "k3Y" * 20,
        "DATABASE_URL": env.get("DATABASE_URL") or "sqlite:////tmp/cm-deploy-check.sqlite3",
        "REDIS_URL": env.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
        "ALLOWED_HOSTS": "cm.example.cn",
        "CSRF_TRUSTED_ORIGINS": "https://cm.example.cn",
        "VPN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "HEALTH_TOKEN": "monitoring-token-" + "x" * 30,
    })
    return env


def test_check_deploy_is_clean_with_production_settings():
    # when
    proc = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=_production_env(), capture_output=True, text=True, timeout=120)
    # then
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout


def test_check_deploy_fails_without_a_vpn_key():
    # given
    env = _production_env()
    env.pop("VPN_ENCRYPTION_KEYS")
    # when
    proc = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    # then
    assert proc.returncode != 0
    assert "ops.E001" in proc.stderr + proc.stdout


def test_production_settings_are_hardened():
    # when
    code = ("from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_SAVE_EVERY_REQUEST, "
            "s.CONTENT_SECURITY_POLICY is not None)")
    proc = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
                          env=_production_env(), capture_output=True, text=True, timeout=60)
    # then
    assert proc.stdout.split() == ["True"] * 6, proc.stderr


@pytest.mark.skipif(not Path("/usr/bin/docker-compose").exists(), reason="docker-compose not installed")
def test_compose_file_validates():
    # when
    proc = subprocess.run(["bash", ".ci/compose-check"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    # then
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "compose-check passed" in proc.stdout


def test_file_response_uses_x_accel_redirect_when_configured(settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    settings.PROTECTED_DOWNLOADS_ACCEL = True
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "通话 1.wav").write_bytes(b"RIFF")
    # when
    response = file_response("rec/通话 1.wav", "通话录音.wav")
    # then
    assert response["X-Accel-Redirect"] == "/_protected/rec/%E9%80%9A%E8%AF%9D%201.wav"
    assert response.content == b""
    assert "attachment" in response["Content-Disposition"]


def test_file_response_streams_itself_without_accel(settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    settings.PROTECTED_DOWNLOADS_ACCEL = False
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7 test")
    # when
    response = file_response(tmp_path / "a.pdf", "a.pdf")
    body = b"".join(response.streaming_content)
    for close in response._resource_closers:
        close()
    # then
    assert body == b"%PDF-1.7 test"


def test_file_response_refuses_paths_outside_media(settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    # when / then
    with pytest.raises(Http404):
        file_response("../../etc/passwd", "passwd")
