"""Websocket consumers. They may import cases policies, selectors and actions (never the reverse)."""
