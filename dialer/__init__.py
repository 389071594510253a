"""The dialer: an ARI Stasis application that places, takes, bridges and records calls.

Owns no tables; it reaches the case domain only through `dialer/domain.py`.
"""

from __future__ import annotations
