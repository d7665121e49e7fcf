# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hardening of the deployed stack: HTTP security headers, container capabilities, owners of secret files."""

from __future__ import annotations

import json
import os
import pathlib

import pytest
import yaml
from conftest import CREDENTIALS, HTTPS, ROOT, docker

ROLES = pathlib.Path(__file__).resolve().parents[2] / "roles"

# Bit numbers of the capabilities (linux/capability.h) the roles may add back.
CAPABILITY_BITS = {
    "CHOWN": 0, "DAC_OVERRIDE": 1, "DAC_READ_SEARCH": 2, "FOWNER": 3, "FSETID": 4, "KILL": 5, "SETGID": 6,
    "SETUID": 7, "SETPCAP": 8, "NET_BIND_SERVICE": 10, "NET_RAW": 13, "SYS_CHROOT": 18, "SYS_RESOURCE": 24,
    "MKNOD": 27, "AUDIT_WRITE": 29, "SETFCAP": 31,
}


def role_default(role, name):
    return yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text(encoding="utf-8"))[name]


def expected_capabilities():
    supabase = role_default("supabase", "supabase_cap_add")
    livekit = role_default("livekit", "livekit_cap_add")
    return {
        "supabase-db": supabase["db"], "supabase-auth": supabase["auth"], "supabase-rest": supabase["rest"],
        "realtime-dev.supabase-realtime": supabase["realtime"], "supabase-meta": supabase["meta"],
        "supabase-studio": supabase["studio"], "supabase-kong": supabase["envoy"],
        "supabase-storage": supabase["storage"], "supabase-imgproxy": supabase["imgproxy"],
        "livekit": livekit["livekit"], "livekit-redis": livekit["redis"],
        "plusptt-backend": role_default("backend", "backend_cap_add"),
        "supabase-nginx": role_default("frontend", "frontend_cap_add"),
        "plusptt-nginx": role_default("nginx", "nginx_cap_add"),
    }


def process_capabilities(pid):
    status = pathlib.Path("/proc/%d/status" % pid).read_text(encoding="utf-8")
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    return {name: int(fields[name].strip(), 16) for name in ("CapBnd", "CapEff")}


@pytest.mark.parametrize("container,added", sorted(expected_capabilities().items()))
def test_containers_drop_every_capability_they_do_not_need(container, added):
    state = json.loads(docker("inspect", container))[0]
    assert state["HostConfig"]["CapDrop"] == ["ALL"]
    assert sorted(state["HostConfig"]["CapAdd"] or []) == sorted("CAP_" + name for name in added)
    assert "no-new-privileges:true" in state["HostConfig"]["SecurityOpt"]
    # What the kernel enforces on the container's first process, read from the host.
    capabilities = process_capabilities(state["State"]["Pid"])
    assert capabilities["CapBnd"] == sum(1 << CAPABILITY_BITS[name] for name in added)
    assert not capabilities["CapBnd"] & (1 << CAPABILITY_BITS["NET_RAW"])


@pytest.mark.parametrize("path,status", [
    ("/", 200), ("/api/health/", 200), ("/livekit/", 200), ("/project/", 401), ("/auth/v1/health", 403),
    ("/nginx-health", 200),
])
def test_every_route_sends_the_security_headers(https, path, status):
    response = https.get(HTTPS + path, timeout=10)
    assert response.status_code == status
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] in ("SAMEORIGIN", "DENY")
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Server"] == "nginx"  # no version


def test_error_pages_do_not_name_the_version(https):
    response = https.get(HTTPS + "/project/", timeout=10)
    assert response.status_code == 401 and "nginx/" not in response.text


def test_secret_files_belong_to_root_or_to_the_service_that_reads_them():
    for path in ("supabase/.env", "livekit/keys.yaml", "livekit/config.yaml", "backend/.env", "nginx/ssl/key.pem"):
        info = os.stat(os.path.join(ROOT, path))
        assert (info.st_uid, info.st_gid) == (0, 0), path
    # Envoy (uid 101 in the official image) reads its configuration itself.
    envoy = os.stat(os.path.join(ROOT, "supabase", "volumes", "api", "envoy.yaml"))
    assert envoy.st_uid == role_default("supabase", "supabase_envoy_uid") and envoy.st_mode & 0o777 == 0o600
    for name in os.listdir(CREDENTIALS):
        mode = os.stat(os.path.join(CREDENTIALS, name)).st_mode & 0o777
        assert mode == 0o600, "%s is %o" % (name, mode)
