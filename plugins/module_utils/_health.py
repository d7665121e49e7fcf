# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Concurrent service health checks: HTTP, TCP and Docker container health.

Private to this collection; the interface may change without notice.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
BODY_READ_LIMIT = 1024 * 1024
MAX_WORKERS = 32


class CheckConfigError(Exception):
    """A check definition that cannot be run."""


def validate_check(check):
    """Fill defaults and reject incomplete definitions; return the normalised check."""
    check = dict(check)
    if check.get("port") and check.get("host"):
        target = "%s:%s" % (check["host"], check["port"])
    else:
        target = check.get("container") or check.get("url")
    name = check.get("name") or target
    if not name:
        raise CheckConfigError("every check needs a name, or a container, url or host and port to name it by")
    check["name"] = name
    kind = check.get("type") or ("container" if check.get("container") else "tcp" if check.get("port") else "http")
    check["type"] = kind
    if kind == "http" and not check.get("url"):
        raise CheckConfigError("check %s: type http needs url" % name)
    if kind == "tcp" and (not check.get("host") or not check.get("port")):
        raise CheckConfigError("check %s: type tcp needs host and port" % name)
    if kind == "container" and not check.get("container"):
        raise CheckConfigError("check %s: type container needs container" % name)
    if kind not in ("http", "tcp", "container"):
        raise CheckConfigError("check %s: type must be http, tcp or container" % name)
    check["status_codes"] = check.get("status_codes") or [200]
    check["timeout"] = float(check.get("timeout") or 5)
    check["headers"] = check.get("headers") or {}
    if check.get("validate_certs") is None:
        check["validate_certs"] = True
    return check


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A health endpoint that redirects is reported with the redirect's own status.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def check_http(check):
    request = urllib.request.Request(check["url"], headers=check["headers"], method=check.get("method") or "GET")
    handlers = [_NoRedirect()]
    if check["url"].startswith("https://"):
        context = ssl.create_default_context()
        if not check["validate_certs"]:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    try:
        response = opener.open(request, timeout=check["timeout"])
        status, body = response.status, response.read(BODY_READ_LIMIT)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(BODY_READ_LIMIT) if exc.fp else b""
    result = {"status": status}
    text = body.decode("utf-8", "replace")
    if status not in check["status_codes"]:
        result["error"] = "HTTP %s, expected %s" % (status, ", ".join(str(c) for c in check["status_codes"]))
        result["body"] = text[:200]
    elif check.get("body_contains") and check["body_contains"] not in text:
        result["error"] = "HTTP %s but the body lacks %r" % (status, check["body_contains"])
        result["body"] = text[:200]
    return result


def check_tcp(check):
    with socket.create_connection((check["host"], int(check["port"])), timeout=check["timeout"]):
        pass
    return {}


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._socket_path)


def docker_get(docker_host, path, timeout):
    """GET a Docker Engine API path; return (status, decoded JSON or text)."""
    parsed = urllib.parse.urlparse(docker_host)
    if parsed.scheme == "unix":
        connection = _UnixHTTPConnection(parsed.path, timeout)
    elif parsed.scheme in ("tcp", "http"):
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port or 2375, timeout=timeout)
    else:
        raise CheckConfigError("docker_host %s: only unix:// and tcp:// are supported" % docker_host)
    try:
        connection.request("GET", path, headers={"Host": "docker"})
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, body


def check_container(check, docker_host):
    name = check["container"]
    status, info = docker_get(docker_host, "/containers/%s/json" % urllib.parse.quote(name), check["timeout"])
    if status == 404:
        return {"error": "container %s does not exist" % name, "state": "missing"}
    if status != 200 or not isinstance(info, dict):
        return {"error": "Docker API answered %s for container %s" % (status, name)}
    state = info.get("State") or {}
    result = {"state": state.get("Status")}
    health = state.get("Health")
    if health:
        result["health"] = health.get("Status")
        log = health.get("Log") or []
        if log:
            result["last_health_log"] = (log[-1].get("Output") or "").strip()[-300:]
    if state.get("Status") != "running":
        result["error"] = "container %s is %s (exit code %s)" % (name, state.get("Status"), state.get("ExitCode"))
    elif health and health.get("Status") != "healthy":
        result["error"] = "container %s is running but %s" % (name, health.get("Status"))
        if result.get("last_health_log"):
            result["error"] += "; last health check: %s" % result["last_health_log"]
    return result


def describe_exception(exc, check):
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, Exception) else exc
    if check.get("url"):
        target = check["url"]
    elif check.get("port"):
        target = "%s:%s" % (check.get("host"), check["port"])
    else:
        target = check.get("container")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out after %ss (%s)" % (check["timeout"], target)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (%s)" % target
    if isinstance(exc, ssl.SSLError):
        return "TLS error: %s (%s)" % (exc, target)
    if isinstance(exc, socket.gaierror):
        return "cannot resolve host (%s): %s" % (target, exc)
    return "%s: %s (%s)" % (type(exc).__name__, exc, target)


def run_once(check, docker_host):
    started = time.monotonic()
    try:
        if check["type"] == "http":
            outcome = check_http(check)
        elif check["type"] == "tcp":
            outcome = check_tcp(check)
        else:
            outcome = check_container(check, docker_host)
    except Exception as exc:  # every failure of a probe is a result, not a crash
        outcome = {"error": describe_exception(exc, check)}
    outcome["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    return outcome


def run_check(check, retries, delay, docker_host, sleep=time.sleep):
    """Run one check until healthy or out of attempts; return its result mapping."""
    attempts = 0
    while True:
        attempts += 1
        outcome = run_once(check, docker_host)
        if "error" not in outcome or attempts > retries:
            break
        sleep(delay)
    result = {"name": check["name"], "type": check["type"], "healthy": "error" not in outcome, "attempts": attempts}
    result.update(outcome)
    return result


def labelled_containers(label, docker_host, timeout=5.0):
    """Names of every container, running or not, that carries the label (a key, or key=value), sorted."""
    query = urllib.parse.urlencode({"all": "1", "filters": json.dumps({"label": [label]})})
    try:
        status, listing = docker_get(docker_host, "/containers/json?" + query, timeout)
    except OSError as exc:
        message = ("cannot list the containers labelled %s: the Docker engine at %s does not answer (%s); start it"
                   " (systemctl start docker) or set docker_host" % (label, docker_host, exc))
        raise CheckConfigError(message) from exc
    if status != 200 or not isinstance(listing, list):
        raise CheckConfigError("listing the containers labelled %s failed: HTTP %s %s" % (label, status, listing))
    return sorted(name.lstrip("/") for container in listing for name in container.get("Names", [])[:1])


def run_checks(checks, retries=0, delay=1.0, docker_host=DEFAULT_DOCKER_HOST):
    """Run every check concurrently; results come back in the order of ``checks``."""
    normalised = [validate_check(check) for check in checks]
    names = [check["name"] for check in normalised]
    duplicates = sorted(set(name for name in names if names.count(name) > 1))
    if duplicates:
        raise CheckConfigError("check names must be unique: %s" % ", ".join(duplicates))
    if not normalised:
        return []
    workers = min(MAX_WORKERS, len(normalised))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_check, check, retries, delay, docker_host) for check in normalised]
        return [future.result() for future in futures]


def failure_message(results):
    bad = [result for result in results if not result["healthy"]]
    return "Unhealthy: " + "; ".join("%s (%s)" % (result["name"], result["error"]) for result in bad)


# Options of plusptt.deploy.service_health, for the module and for its controller-side action plugin.
ARGUMENT_SPEC = dict(
    containers_labelled=dict(type="str"),
    checks=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            name=dict(type="str"),
            type=dict(type="str", choices=["http", "tcp", "container"]),
            url=dict(type="str"),
            method=dict(type="str", default="GET"),
            host=dict(type="str"),
            port=dict(type="int"),
            container=dict(type="str"),
            status_codes=dict(type="list", elements="int", default=[200]),
            body_contains=dict(type="str"),
            headers=dict(type="dict"),
            timeout=dict(type="float", default=5),
            validate_certs=dict(type="bool", default=True),
        ),
    ),
    retries=dict(type="int", default=0),
    delay=dict(type="float", default=2),
    fail_on_unhealthy=dict(type="bool", default=True),
    docker_host=dict(type="str", default=DEFAULT_DOCKER_HOST),
)


def ensure(params, check_mode=False, diff=False):
    """The work of plusptt.deploy.service_health on validated options (it changes nothing, in check mode too).
    Raises ModuleError."""
    try:
        checks = params["checks"]
        if params["containers_labelled"]:
            checks = [{"container": name} for name in
                      labelled_containers(params["containers_labelled"], params["docker_host"])] + checks
        results = run_checks(checks, retries=params["retries"], delay=params["delay"],
                             docker_host=params["docker_host"])
    except CheckConfigError as exc:
        raise ModuleError(str(exc)) from exc
    unhealthy = [result["name"] for result in results if not result["healthy"]]
    if unhealthy and params["fail_on_unhealthy"]:
        raise ModuleError(failure_message(results), results=results, unhealthy=unhealthy)
    return dict(changed=False, results=results, unhealthy=unhealthy)
