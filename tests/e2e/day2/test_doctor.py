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
import subprocess
import time

import jwt
import pytest
import yaml
from conftest import CREDENTIALS, ROOT, docker, ok, play_fast, psql

NGINX_CONF = os.path.join(ROOT, "nginx", "conf.d", "plusptt.conf")
SUPABASE_ENV = os.path.join(ROOT, "supabase", ".env")
LIVEKIT_KEYS = os.path.join(ROOT, "livekit", "keys.yaml")
ORIGIN = "https://localhost:8443"  # plusptt_public_url: the allowed origin when plusptt_cors_origins is empty


def doctor(*args, env=None):
    return play_fast("playbooks/doctor.yml", *args, env=env)


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


LIVEKIT_COMPOSE = os.path.join(ROOT, "livekit", "compose.yml")
LIVEKIT_CONFIG = os.path.join(ROOT, "livekit", "config.yaml")
SUPABASE_COMPOSE = os.path.join(ROOT, "supabase", "compose.yml")
MEDIA_RANGE = "127.0.0.1:50000-50010:50000-50010/udp"  # the e2e inventory's media range, published on loopback
SKEW = 120


def compose_up(compose_file, service):
    result = subprocess.run(["docker", "compose", "-f", compose_file, "up", "-d", "--no-deps", service],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def replaced(old, new):
    def change(text):
        assert old in text, old
        return text.replace(old, new)
    return change


def without_line(part):
    def change(text):
        lines = text.splitlines(keepends=True)
        kept = [line for line in lines if part not in line]
        assert len(kept) == len(lines) - 1, part
        return "".join(kept)
    return change


def hold_connections(count):
    """count idle sessions of the database, each sleeping until pg_terminate_backend ends it."""
    docker("exec", "-d", "supabase-db", "sh", "-c",
           "for i in $(seq %d); do psql -U postgres -tAc 'SELECT pg_sleep(900) /* doctor-test */' & done; wait" % count)
    deadline = time.monotonic() + 60
    while int(psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%doctor-test */'")) < count:
        assert time.monotonic() < deadline, "the database did not take %d more connections" % count
        time.sleep(1)


@pytest.fixture(scope="module")
def host_faults(edge_faults, tmp_path_factory, supabase_env):
    """Auth recreated with another SITE_URL; LiveKit recreated without its media range and with neither node_ip
    nor use_external_ip; nginx no longer passing the websocket upgrade; the database at 92% of max_connections;
    a host clock two minutes ahead; a disk threshold above what the volume has free: one doctor run, then each
    healed.

    A shared kernel's clock cannot be moved for one host, so the host's `date` is a script earlier in PATH (the
    doctor asks the host's clock with `date +%s`; the e2e host is this machine) that answers two minutes ahead."""
    fake_bin = tmp_path_factory.mktemp("skewed-clock")
    (fake_bin / "date").write_text('#!/bin/sh\necho $(( $(/usr/bin/date +%%s) + %d ))\n' % SKEW)
    (fake_bin / "date").chmod(0o755)
    free_gib = int(docker("exec", "supabase-db", "df", "-Pk", "/var/lib/postgresql/data").split()[-3]) // 1048576
    in_use, maximum = (int(n) for n in psql(
        "postgres", "SELECT count(*) || ' ' || current_setting('max_connections') FROM pg_stat_activity").split())
    site_url = "SITE_URL=%s" % supabase_env["SITE_URL"]
    assert supabase_env["SITE_URL"].startswith(ORIGIN)

    def no_websocket_upgrade(text):
        livekit = text.index("location /livekit/ {")
        header = text.index("proxy_set_header Upgrade $http_upgrade;", livekit)
        return text[:header] + text[header + len("proxy_set_header Upgrade $http_upgrade;"):]

    def no_node_address(text):
        assert "use_external_ip: true" in text and "node_ip" not in text
        return text.replace("use_external_ip: true", "use_external_ip: false")

    with file_changed(SUPABASE_ENV, replaced(site_url, "SITE_URL=https://old-name.example.org")), \
            file_changed(LIVEKIT_COMPOSE, without_line(MEDIA_RANGE)), \
            file_changed(LIVEKIT_CONFIG, no_node_address), \
            file_changed(NGINX_CONF, no_websocket_upgrade):
        try:
            compose_up(SUPABASE_COMPOSE, "auth")
            compose_up(LIVEKIT_COMPOSE, "livekit")
            docker("exec", "plusptt-nginx", "nginx", "-s", "reload")
            hold_connections(int(maximum * 0.92) - in_use)
            wait_healthy("supabase-auth")
            wait_healthy("livekit")
            report = failed_part(doctor("-e", "supabase_doctor_min_free_gib=%d" % (free_gib + 10),
                                        env={"PATH": "%s:%s" % (fake_bin, os.environ["PATH"])}))
        finally:
            psql("postgres", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE query LIKE '%doctor-test */' AND pid <> pg_backend_pid()")
    compose_up(SUPABASE_COMPOSE, "auth")
    compose_up(LIVEKIT_COMPOSE, "livekit")
    docker("exec", "plusptt-nginx", "nginx", "-s", "reload")
    wait_healthy("supabase-auth")
    wait_healthy("livekit")
    return report, free_gib


def test_an_auth_site_url_off_the_public_url_is_named(host_faults):
    report = host_faults[0]
    assert "Auth: SITE_URL and API_EXTERNAL_URL are the public URL (localhost)" in report, report
    assert "auth runs with SITE_URL https://old-name.example.org and API_EXTERNAL_URL" in report
    assert "remove supabase_site_url and supabase_api_external_url" in report


def test_an_unpublished_media_range_is_named(host_faults):
    report = host_faults[0]
    assert "Live communication: media ports published on the host (localhost)" in report
    assert "does not publish 50000/udp, 50010/udp" in report
    assert "7881/tcp" not in report.split("media ports published", 1)[1].split("Fix:", 1)[0]


def test_a_node_without_an_address_for_clients_is_named(host_faults):
    report = host_faults[0]
    assert "Live communication: the address clients get is known (localhost)" in report
    assert "config.yaml sets neither rtc.node_ip nor rtc.use_external_ip" in report
    assert "set livekit_node_ip" in report


def test_a_websocket_nginx_does_not_upgrade_is_named_alone(host_faults):
    report = host_faults[0]
    assert "Live communication: LiveKit websocket through nginx (localhost)" in report
    assert "not 101 Switching Protocols" in report
    # The node itself still takes the backend's token and every preflight is answered: only nginx is named.
    assert "the node accepts a token" not in report and "CORS:" not in report


def test_connections_near_max_connections_are_named(host_faults):
    report = host_faults[0]
    assert "Database: connections in use below max_connections (localhost)" in report
    assert "connections are in use" in report and "pg_stat_activity" in report


def test_a_host_clock_ahead_of_the_controller_is_named(host_faults):
    report = host_faults[0]
    assert "Auth: host clock within 5 s of the controller (localhost)" in report
    skew = int(report.split("the clock is ", 1)[1].split(" s ", 1)[0])
    assert SKEW - 5 <= skew <= SKEW + 5, report
    assert "ahead of the controller" in report and "timedatectl" in report


def test_a_volume_below_the_free_disk_threshold_is_named(host_faults):
    report, free_gib = host_faults
    assert "Database: free disk on the database volume (localhost)" in report
    assert "below supabase_doctor_min_free_gib (%d)" % (free_gib + 10) in report
    # Checks of the same host and area that still hold stay out of the failure list.
    assert "Supabase roles log in" not in report and "the anon key" not in report


GATEWAY_CONF = os.path.join(ROOT, "supabase", "volumes", "api", "envoy.yaml")
BACKEND_COMPOSE = os.path.join(ROOT, "backend", "compose.yml")
BACKEND_ENV = os.path.join(ROOT, "backend", ".env")
FOREIGN = "https://doctor-probe.plusptt.invalid"  # the origin doctor.yml's foreign preflight comes from
OLD_APP = "https://old-app.example.org"


@pytest.fixture(scope="module")
def place_faults(host_faults, supabase_env):
    """The gateway's configuration and Django allowing another origin than the inventory's, the backend
    (recreated) signing with a LiveKit secret that is not kept, nginx allowing the foreign origin too, a
    service-role key signed with another secret: one doctor run, then each healed."""
    forged = jwt.encode({"role": "service_role", "iss": "supabase", "iat": int(time.time()),
                         "exp": int(time.time()) + 10 * 365 * 86400}, "x" * 40, algorithm="HS256")

    def foreign_origin_allowed(text):
        line = '    "%s" "%s";\n' % (ORIGIN, ORIGIN)
        assert line in text
        return text.replace(line, line + '    "%s" "%s";\n' % (FOREIGN, FOREIGN))

    with file_changed(GATEWAY_CONF, replaced('- exact: "%s"' % ORIGIN, '- exact: "%s"' % OLD_APP)), \
            file_changed(BACKEND_COMPOSE, replaced("CORS_ALLOWED_ORIGINS: %s\n" % ORIGIN,
                                                   "CORS_ALLOWED_ORIGINS: %s\n" % OLD_APP)), \
            file_changed(NGINX_CONF, foreign_origin_allowed), \
            file_changed(SUPABASE_ENV, replaced(supabase_env["SERVICE_ROLE_KEY"], forged)), \
            file_changed(BACKEND_ENV, replaced("LIVEKIT_API_SECRET=", "LIVEKIT_API_SECRET=not-kept-")):
        compose_up(BACKEND_COMPOSE, "backend")
        docker("exec", "plusptt-nginx", "nginx", "-s", "reload")
        wait_healthy("plusptt-backend", 120)
        report = failed_part(doctor())
    compose_up(BACKEND_COMPOSE, "backend")
    docker("exec", "plusptt-nginx", "nginx", "-s", "reload")
    wait_healthy("plusptt-backend", 120)
    return report


def test_origins_the_gateway_and_django_allow_apart_from_the_inventory_are_named(place_faults):
    for place, file in (("the Supabase gateway (envoy)", GATEWAY_CONF), ("Django's CORS_ALLOWED_ORIGINS", None)):
        assert "CORS: origins allowed by %s" % place in place_faults, place_faults
        if file:
            assert file in place_faults
    assert "missing: %s" % ORIGIN in place_faults and OLD_APP in place_faults


def test_a_foreign_origin_nginx_allows_is_named(place_faults):
    assert "CORS: preflight from a foreign origin %s to /livekit/ (localhost)" % FOREIGN in place_faults
    assert "any site may call it with its users" in place_faults
    assert "extra: %s" % FOREIGN in place_faults
    assert "CORS: origins allowed by nginx (/livekit/) (localhost)" in place_faults


def test_a_backend_signing_with_a_secret_not_kept_is_named(place_faults):
    assert "Live communication: the backend signs with a kept LiveKit key" in place_faults
    assert "but not with its kept secret" in place_faults
    assert "not-kept-" not in place_faults


def test_a_service_role_key_of_another_secret_is_named(place_faults):
    assert "Auth: the service-role key verifies and stays valid 90 days" in place_faults
    assert "it is not signed with the JWT secret the stack runs with" in place_faults
    assert "the anon key verifies" not in place_faults


def test_every_check_passes_again_after_the_faults_are_healed(edge_faults, host_faults, place_faults):
    result = ok(doctor())
    assert " FAIL " not in flat(result.stdout)
