"""Health (S4): a page for system admins and /ops/health.json for monitoring (200 ok/warn, 503 error)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from ops.health import ERROR, LABELS, as_json, health_report
from ops.policies import can_administer, sysadmin_required


@never_cache
@sysadmin_required
def health_view(request: HttpRequest) -> HttpResponse:
    overall, checks = health_report()
    return render(request, "ops/health.html", {"overall": overall, "overall_label": LABELS[overall],
                                               "checks": checks, "nav_active": "ops-health"},
                  status=200)


def _token_channel_ok(request: HttpRequest) -> bool:
    """The monitoring token is a secret: it is accepted over HTTPS, or in plain HTTP only from this machine
    itself (the container's own health check), never relayed in clear text through a proxy."""
    if request.is_secure():
        return True
    peer = str(request.META.get("REMOTE_ADDR") or "")
    relayed = "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_X_REAL_IP" in request.META
    return peer in ("127.0.0.1", "::1") and not relayed


def _token_ok(request: HttpRequest) -> bool:
    expected = settings.HEALTH_TOKEN
    if not expected or not _token_channel_ok(request):
        return False
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else request.headers.get("X-Health-Token", "")
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


@never_cache
def health_json_view(request: HttpRequest) -> HttpResponse:
    if not (_token_ok(request) or can_administer(request.user)):  # type: ignore[arg-type]
        return JsonResponse({"error": "需要监控令牌或系统管理员登录"}, status=401)
    overall, checks = health_report()
    return JsonResponse(as_json(overall, checks), status=503 if overall == ERROR else 200,
                        json_dumps_params={"ensure_ascii": False})
