# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.plusptt.deploy.plugins.modules import service_health


class _OK(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")


@pytest.fixture(scope="module")
def url():
    server = HTTPServer(("127.0.0.1", 0), _OK)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()


def test_all_healthy(run_module, url):
    result = run_module(service_health, {"checks": [{"name": "web", "url": url, "body_contains": "OK"}]})
    assert result["changed"] is False and result["unhealthy"] == [] and result["results"][0]["healthy"]


def test_failure_names_unhealthy(run_module, url, closed_port):
    checks = [{"name": "web", "url": url}, {"name": "redis", "host": "127.0.0.1", "port": closed_port}]
    result = run_module(service_health, {"checks": checks}, check_mode=True)
    assert result["failed"] and result["unhealthy"] == ["redis"]
    assert result["msg"] == "Unhealthy: redis (connection refused (127.0.0.1:%d))" % closed_port


def test_report_only(run_module, closed_port):
    checks = [{"name": "redis", "type": "tcp", "host": "127.0.0.1", "port": closed_port}]
    result = run_module(service_health, {"checks": checks, "fail_on_unhealthy": False})
    assert not result.get("failed") and result["unhealthy"] == ["redis"]


def test_bad_definition(run_module):
    result = run_module(service_health, {"checks": [{"name": "x", "type": "tcp"}]})
    assert result["failed"] and "needs host and port" in result["msg"]
