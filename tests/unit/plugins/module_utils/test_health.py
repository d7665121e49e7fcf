# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import socket
import socketserver
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.plusptt.deploy.plugins.module_utils import _health


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(float(self.path.split("/")[-1]))
        routes = {
            "/ok": (200, b"OK"),
            "/not-ready": (406, b"Not Ready"),
            "/error": (500, b"boom"),
            "/redirect": (302, b""),
            "/auth": (200, b"authorised") if self.headers.get("Authorization") == "Bearer t" else (401, b"no"),
        }
        status, body = routes.get(self.path, (200, b"OK slow"))
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ThreadingHTTPServer(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True


@pytest.fixture(scope="module")
def http_base():
    server = _ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def one(check, **kwargs):
    return _health.run_checks([check], **kwargs)[0]


def test_http_ok(http_base):
    result = one({"name": "web", "url": http_base + "/ok", "body_contains": "OK"})
    assert result["healthy"] and result["status"] == 200 and result["latency_ms"] >= 0


@pytest.mark.parametrize(
    "path, codes, body, error",
    [
        ("/not-ready", None, None, "HTTP 406, expected 200"),
        ("/error", None, None, "HTTP 500"),
        ("/redirect", None, None, "HTTP 302"),
        ("/ok", None, "Ready", "lacks 'Ready'"),
        ("/ok", [204], None, "expected 204"),
    ],
)
def test_http_unhealthy_says_why(http_base, path, codes, body, error):
    result = one({"name": "web", "url": http_base + path, "status_codes": codes, "body_contains": body})
    assert not result["healthy"] and error in result["error"]


def test_http_accepts_listed_codes_and_headers(http_base):
    assert one({"name": "lk", "url": http_base + "/not-ready", "status_codes": [200, 406]})["healthy"]
    assert one({"name": "a", "url": http_base + "/auth", "headers": {"Authorization": "Bearer t"}})["healthy"]
    assert not one({"name": "a", "url": http_base + "/auth"})["healthy"]


def test_http_connection_refused(closed_port):
    result = one({"name": "db", "url": "http://127.0.0.1:%d/" % closed_port})
    assert result["error"].startswith("connection refused")


def test_http_timeout(http_base):
    result = one({"name": "slow", "url": http_base + "/slow/2", "timeout": 0.3})
    assert not result["healthy"] and "timed out" in result["error"]


def test_tcp(http_base, closed_port):
    port = int(http_base.rsplit(":", 1)[1])
    assert one({"name": "open", "host": "127.0.0.1", "port": port})["healthy"]
    result = one({"name": "closed", "host": "127.0.0.1", "port": closed_port})
    assert result["type"] == "tcp" and "connection refused (127.0.0.1:%d)" % closed_port == result["error"]


def test_checks_run_concurrently(http_base):
    checks = [{"name": "s%d" % i, "url": http_base + "/slow/1"} for i in range(6)]
    started = time.monotonic()
    results = _health.run_checks(checks)
    elapsed = time.monotonic() - started
    assert all(r["healthy"] for r in results) and [r["name"] for r in results] == [c["name"] for c in checks]
    assert elapsed < 2.5, "six 1-second checks took %.1fs: they did not run concurrently" % elapsed


def test_retries_until_healthy(closed_port):
    sock = socket.socket()
    sock.bind(("127.0.0.1", closed_port))

    def listen_later():
        time.sleep(0.5)
        sock.listen()

    threading.Thread(target=listen_later, daemon=True).start()
    try:
        result = one({"name": "late", "host": "127.0.0.1", "port": closed_port}, retries=20, delay=0.1)
    finally:
        sock.close()
    assert result["healthy"] and result["attempts"] > 1


def test_retries_exhausted(closed_port):
    result = one({"name": "never", "host": "127.0.0.1", "port": closed_port}, retries=2, delay=0.01)
    assert not result["healthy"] and result["attempts"] == 3


def test_failure_message_names_every_unhealthy_service(http_base, closed_port):
    results = _health.run_checks(
        [
            {"name": "good", "url": http_base + "/ok"},
            {"name": "backend", "url": http_base + "/error"},
            {"name": "db", "host": "127.0.0.1", "port": closed_port},
        ]
    )
    message = _health.failure_message(results)
    assert "good" not in message
    assert "backend (HTTP 500" in message and "db (connection refused" in message


@pytest.mark.parametrize(
    "check, error",
    [
        ({"type": "http"}, "needs a name"),
        ({"name": "a", "type": "http"}, "needs url"),
        ({"name": "a", "type": "tcp", "host": "h"}, "needs host and port"),
        ({"name": "a", "type": "container"}, "needs container"),
    ],
)
def test_invalid_checks(check, error):
    with pytest.raises(_health.CheckConfigError, match=error):
        _health.run_checks([check])


def test_name_defaults_to_the_target(closed_port):
    results = _health.run_checks([{"host": "127.0.0.1", "port": closed_port}, {"container": "c", "type": "tcp",
                                  "host": "h", "port": 1, "timeout": 0.01}], docker_host="unix:///nonexistent")
    assert [r["name"] for r in results] == ["127.0.0.1:%d" % closed_port, "h:1"]


def test_duplicate_names():
    with pytest.raises(_health.CheckConfigError, match="unique: a"):
        _health.run_checks([{"name": "a", "url": "http://x"}, {"name": "a", "url": "http://y"}])


# Container checks read Docker Engine API answers; this socket serves recorded answers of that API.
CONTAINERS = {
    "healthy": {"State": {"Status": "running", "Health": {"Status": "healthy", "Log": [{"Output": "ok"}]}}},
    "sick": {
        "State": {
            "Status": "running",
            "Health": {"Status": "unhealthy", "Log": [{"Output": "old"}, {"Output": "pg_isready: no response\n"}]},
        }
    },
    "plain": {"State": {"Status": "running"}},
    "dead": {"State": {"Status": "exited", "ExitCode": 137}},
}


class _DockerAPIHandler(BaseHTTPRequestHandler):
    listed = []

    def log_message(self, *args):
        pass

    def address_string(self):
        return "docker-test"

    def do_GET(self):
        if self.path.startswith("/containers/json?"):
            # The listing filtered by label, as the Engine API answers it: every container here carries one.
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            self.listed.append((query["all"], json.loads(query["filters"][0])))
            body = json.dumps([{"Names": ["/" + name]} for name in ("sick", "healthy")]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        name = self.path.rsplit("/", 2)[-2]
        info = CONTAINERS.get(name)
        body = json.dumps(info if info else {"message": "No such container: %s" % name}).encode()
        self.send_response(200 if info else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, dummy_address = super().get_request()
        return request, ("docker-test", 0)


@pytest.fixture(scope="module")
def docker_host():
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "docker.sock")
    server = _UnixServer(path, _DockerAPIHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "unix://" + path
    server.shutdown()


@pytest.mark.parametrize(
    "name, healthy, fragment",
    [
        ("healthy", True, None),
        ("plain", True, None),
        ("sick", False, "running but unhealthy; last health check: pg_isready: no response"),
        ("dead", False, "is exited (exit code 137)"),
        ("missing", False, "does not exist"),
    ],
)
def test_container_states(docker_host, name, healthy, fragment):
    result = one({"name": name, "container": name}, docker_host=docker_host)
    assert result["healthy"] is healthy
    if fragment:
        assert fragment in result["error"]


def test_labelled_containers_are_listed_running_or_not_and_sorted(docker_host):
    _DockerAPIHandler.listed.clear()
    assert _health.labelled_containers("plusptt.project", docker_host) == ["healthy", "sick"]
    assert _DockerAPIHandler.listed == [(["1"], {"label": ["plusptt.project"]})]


def test_an_engine_that_does_not_answer_is_named_when_listing(tmp_path):
    socket_path = "unix://" + str(tmp_path / "absent.sock")
    with pytest.raises(_health.CheckConfigError, match="does not answer"):
        _health.labelled_containers("plusptt.project", socket_path)
