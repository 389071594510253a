from __future__ import annotations

# The live daphne servers of tests/browser/conftest.py, for the multi-process tests here.
from tests.browser.conftest import _shared_daphne, live_url, start_daphne  # noqa: F401
