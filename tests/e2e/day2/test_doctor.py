# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""doctor.yml on the running stack: every check passes on the healthy stack, in check mode; each fault injected
below is named with its cause and fix, then healed by hand, and every check passes again after.

Faults that touch different checks share one doctor run (a fixture injects them together, runs doctor.yml once
and heals them), so each test below asserts one fault's finding without a run of its own."""

from __future__ import annotations

import contextlib
import os
import time

import jwt
import pytest
import yaml
from conftest import CREDENTIALS, ROOT, docker, ok, play, psql

NGINX_CONF = os.path.join(ROOT, "nginx", "conf.d", "plusptt.conf")
SUPABASE_ENV = os.path.join(ROOT, "supabase", ".env")
LIVEKIT_KEYS = os.path.join(ROOT, "livekit", "keys.yaml")
ORIGIN = "https://localhost:8443"  # plusptt_public_url: the allowed origin when plusptt_cors_origins is empty


def doctor(*args):
    return play("playbooks/doctor.yml", *args)


def kept(name):
    with open(os.path.join(CREDENTIALS, name), encoding="utf-8") as handle:
        return handle.read().strip()


def failed_part(result):
    """The failure message of the report: 'N of M checks failed.' then each check, cause and fix."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "checks failed." in output, output[-3000:]
    return flat(output[output.index("checks failed.") - 10:])


@contextlib.contextmanager
def file_changed(path, change):
    """The file as change(text) returns it, then its own bytes again (same inode, so mode and owner stay)."""
    with open(path, encoding="utf-8") as handle:
        original = handle.read()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(change(original))
    try:
        yield original
    finally:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(original)


def wait_healthy(container, seconds=60):
    deadline = time.monotonic() + seconds
    while docker("inspect", "--format", "{{.State.Health.Status}}", container).strip() != "healthy":
        assert time.monotonic() < deadline, "%s did not become healthy again" % container
        time.sleep(1)


def flat(text):
    return " ".join(text.split())


@pytest.fixture(scope="module")
def healthy_check_run():
    return ok(doctor("--check"))


def test_every_check_passes_on_the_healthy_stack_in_check_mode(healthy_check_run):
    output = flat(healthy_check_run.stdout)
    assert " FAIL " not in output, output[-4000:]
    for check in ("preflight from a foreign origin https://doctor-probe.plusptt.invalid to /auth/v1/",
                  "origins allowed by Django's CORS_ALLOWED_ORIGINS", "backend connects to its database",
                  "Supabase roles log in with the kept password", "the anon key verifies",
                  "the node accepts a token", "LiveKit websocket through nginx", "host clock within 5 s"):
        assert "ok " in output and check in output, check
    recap = output.split("PLAY RECAP", 1)[1]
    assert " changed=0 " in recap, recap


@pytest.fixture(scope="module")
def data_faults(healthy_check_run, supabase_env):
    """The backend's and authenticator's passwords changed, another JWT secret in the database, an expired
    anon key handed to clients: one doctor run, then each healed."""
    expired = jwt.encode({"role": "anon", "iss": "supabase", "iat": 1700000000, "exp": 1700003600},
                         supabase_env["JWT_SECRET"], algorithm="HS256")
    psql("postgres", "ALTER ROLE plusptt_backend PASSWORD 'not-the-kept-one'")
    psql("postgres", "ALTER ROLE authenticator PASSWORD 'not-the-kept-one'")
    psql("postgres", "ALTER DATABASE postgres SET \"app.settings.jwt_secret\" TO 'another-secret-entirely'")
    try:
        with file_changed(SUPABASE_ENV, lambda text: text.replace(supabase_env["ANON_KEY"], expired)):
            return failed_part(doctor())
    finally:
        psql("postgres", "ALTER ROLE plusptt_backend PASSWORD '%s'" % kept("backend_db_password"))
        psql("postgres", "ALTER ROLE authenticator PASSWORD '%s'" % kept("postgres_password"))
        psql("postgres", "ALTER DATABASE postgres SET \"app.settings.jwt_secret\" TO '%s'" % supabase_env["JWT_SECRET"])


def test_a_backend_refused_by_the_database_is_named(data_faults):
    assert "Database: backend connects to its database (localhost)" in data_faults, data_faults
    assert "password authentication failed" in data_faults
    assert "backend_db_password" in data_faults


def test_a_supabase_role_that_refuses_the_kept_password_is_named(data_faults):
    assert "Database: Supabase roles log in with the kept password" in data_faults
    assert "postgres_password for authenticator:" in data_faults
    assert "supabase_auth_admin:" not in data_faults  # the roles that still log in are not named
    assert "rotate=postgres" in data_faults


def test_a_jwt_secret_the_database_does_not_share_is_named(data_faults, supabase_env):
    assert "Auth: the database's JWT secret is auth's" in data_faults
    assert "differs from the JWT_SECRET auth runs with" in data_faults
    assert "another-secret-entirely" not in data_faults and supabase_env["JWT_SECRET"] not in data_faults


def test_an_expired_anon_key_is_named(data_faults):
    assert "Auth: the anon key verifies and stays valid 90 days" in data_faults
    assert "it expired on 2023-11-14" in data_faults
    assert "rotate=jwt" in data_faults
    assert "service-role key" not in data_faults


def read_backend_key():
    for entry in docker("inspect", "--format", "{{range .Config.Env}}{{println .}}{{end}}", "plusptt-backend").split():
        if entry.startswith("LIVEKIT_API_KEY="):
            return entry.split("=", 1)[1]
    raise AssertionError("the backend runs without LIVEKIT_API_KEY")


@pytest.fixture(scope="module")
def edge_faults(data_faults):
    """An origin dropped from nginx's configuration, the backend's key dropped from the LiveKit node (restarted
    on the changed key file), Redis stopped: one doctor run, then each healed."""
    backend_key = read_backend_key()
    with open(LIVEKIT_KEYS, encoding="utf-8") as handle:  # as it is now: earlier tests rotate the keys
        assert backend_key in yaml.safe_load(handle)

    def drop_origin(text):
        assert '"%s" "%s";' % (ORIGIN, ORIGIN) in text
        return text.replace('"%s" "%s";' % (ORIGIN, ORIGIN), "")

    with file_changed(NGINX_CONF, drop_origin), \
            file_changed(LIVEKIT_KEYS, lambda _text: yaml.safe_dump({"APIdoctorOther": "x" * 40})):
        docker("exec", "plusptt-nginx", "nginx", "-s", "reload")
        docker("restart", "livekit")
        wait_healthy("livekit")
        docker("stop", "livekit-redis")
        try:
            report = failed_part(doctor())
        finally:
            docker("start", "livekit-redis")
            wait_healthy("livekit-redis")
    docker("exec", "plusptt-nginx", "nginx", "-s", "reload")
    docker("restart", "livekit")
    wait_healthy("livekit")
    return backend_key, report


def test_an_origin_missing_from_nginx_is_named_with_the_place(edge_faults):
    report = edge_faults[1]
    assert "CORS: origins allowed by nginx (/livekit/) (localhost)" in report, report
    assert ("nginx (/livekit/) allows no origin where plusptt_cors_origins says %s; missing: %s" % (ORIGIN, ORIGIN)
            in report)
    assert "CORS: preflight from %s to /livekit/" % ORIGIN in report
    assert "writes %s again from plusptt_cors_origins" % NGINX_CONF in report
    # Django and the gateway still agree with the inventory: only the place that differs is named.
    assert "origins allowed by Django" not in report and "origins allowed by the Supabase gateway" not in report


def test_a_livekit_key_dropped_from_the_node_is_named(edge_faults):
    backend_key, report = edge_faults
    assert "Live communication: the backend's LiveKit key is in the node's key file (localhost)" in report
    assert "keys.yaml lacks %s" % backend_key in report
    assert "Live communication: the node accepts a token of the backend's key" in report


def test_a_redis_the_node_cannot_reach_is_named(edge_faults):
    report = edge_faults[1]
    assert "Live communication: Redis reachable from the node" in report
    assert "livekit-redis:6379 does not answer this node" in report


def test_every_check_passes_again_after_the_faults_are_healed(edge_faults):
    result = ok(doctor())
    assert " FAIL " not in flat(result.stdout)
