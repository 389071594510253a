"""Settings for the test suite: the database and channel layer still come from the environment."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "0")
# Under pytest-xdist (`./dev test` runs two workers) each worker has its own test database (pytest-django adds
# the worker id), and here its own channel-layer and cache prefixes and media folder, so one worker's groups,
# locks and files never reach the other's. Subprocesses (daphne, run_dialer) inherit the suffixed values;
# CM_TEST_WORKER marks them as already suffixed.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and os.environ.get("CM_TEST_WORKER") != _worker:
    os.environ["CM_TEST_WORKER"] = _worker
    for _var, _default in (("CHANNEL_PREFIX", "asgi"), ("CACHE_PREFIX", "cm"),
                           ("TEST_MEDIA_ROOT", "/tmp/cm-test-media")):
        os.environ[_var] = f"{os.environ.get(_var, _default)}-{_worker}"

from project.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; Argon2 is tested apart
MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT", "/tmp/cm-test-media"))  # noqa: F405
DEMO_SEED = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Static files are not collected for tests; WhiteNoise would warn (and warnings are errors here).
MIDDLEWARE = [m for m in MIDDLEWARE if "whitenoise" not in m]  # noqa: F405
# Issue 7: the test client speaks plain HTTP even when DATABASE_URL makes the settings production-shaped.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
# Issue 5: the dialer never starts inside tests unless a live-server test asks for it.
DIALER_EMBEDDED = os.environ.get("DIALER_EMBEDDED") == "1"
# Issue 7: the CSP header stays report-only under test (browser tests included) until every page's inline
# script carries its nonce; production enforces it (project/settings.py).
if CONTENT_SECURITY_POLICY is not None:  # noqa: F405
    CONTENT_SECURITY_POLICY_REPORT_ONLY, CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY, None  # noqa: F405
# Scheduler ticks in tests run the reminders only; ops jobs (backups) are tested on their own.
SCHEDULER_EXTRA_JOBS: list[str] = []
