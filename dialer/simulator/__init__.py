"""An ARI-compatible Asterisk stand-in (Starlette) for development, demos and tests.

Imports nothing of the product: `python -m dialer.simulator --port 8088 --lines 10 --phones 8001,8002`.
"""

from __future__ import annotations
