"""Settings of the daphne processes the browser and multi-process tests start (tests/browser/conftest.py).

The test settings (fast hasher, test database and channel layer from the environment) plus static files
served by WhiteNoise straight from the source folders, since tests never run collectstatic.
"""

from __future__ import annotations

from project.settings_test import *  # noqa: F403

MIDDLEWARE = [*MIDDLEWARE[:1], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
