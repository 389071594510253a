"""`./dev run`: fails at once when the web port is taken; the embedded default keeps DEBUG off and users get
the product's own error pages, never Django's technical ones."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def test_dev_run_refuses_a_taken_port_at_once_with_a_clear_message(tmp_path):
    # given: something already listening on the port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "VAR_DIR": str(tmp_path)}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        # when
        started = time.monotonic()
        try:
            result = subprocess.run(
                ["bash", "dev", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
            )
        except subprocess.TimeoutExpired:
            pytest.fail("./dev run kept running although its port was taken")
    # then
    assert result.returncode != 0
    assert time.monotonic() - started < 30
    assert f"127.0.0.1:{port} 端口已被占用" in result.stderr
    assert "PORT=8001 ./dev run" in result.stderr


def test_dev_run_does_not_switch_debug_on():
    script = (ROOT / "dev").read_text()
    run = script.split("  run)", 1)[1].split(";;", 1)[0]
    assert "DEBUG=" not in run.replace("DEBUG=1 ./dev run", "")
    assert "manage.py runserver" not in run and "bin/daphne" in run  # daphne exits when it cannot listen


@pytest.mark.django_db
def test_a_collector_opening_anothers_case_sees_the_products_own_404(other_collector, make_case, collector):
    # given
    case = make_case(collector=collector)
    client = Client()
    client.force_login(other_collector)
    # when
    response = client.get(reverse("cases:case-detail", args=[case.pk]))
    unknown = client.get("/no/such/page/")
    # then
    for page in (response, unknown):
        html = page.content.decode()
        assert page.status_code == 404
        assert "页面不存在或无权查看" in html and "催收管控平台" in html
        assert "URLconf" not in html and "Resolver404" not in html


def test_server_errors_bad_requests_and_csrf_failures_have_chinese_pages():
    from django.views.csrf import csrf_failure
    from django.views.defaults import bad_request, server_error

    request = RequestFactory().get("/")
    pages = [server_error(request), bad_request(request, Exception("x")), csrf_failure(request, reason="x")]
    texts = [p.content.decode() for p in pages]
    assert "抱歉，系统出错了" in texts[0]
    assert "请求有误" in texts[1]
    assert "页面已过期，请刷新后重试" in texts[2] and "DEBUG" not in texts[2]
