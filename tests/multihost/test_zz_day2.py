# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Day-2 playbooks over the lab's four hosts. Runs after test_multihost.py (file order) and ends with the
teardown, so it builds on the deployed stack and leaves none."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import time
import uuid

import jwt
import yaml
from conftest import CREDENTIALS, ENTRY, ok, play, ssh
from livekit import api

MEDIA = ("plusptt-lab-media1", "plusptt-lab-media2")
HOSTS = ("plusptt-lab-db", "plusptt-lab-app") + MEDIA


def backend_livekit_key():
    env = ssh("plusptt-lab-app", "cat /opt/plusptt/backend/.env").stdout
    return dict(line.split("=", 1) for line in env.splitlines() if line.startswith("LIVEKIT_API"))


def supabase_env():
    """The database host's supabase/.env (generated values are plain: no quotes to undo)."""
    lines = ssh("plusptt-lab-db", "cat /opt/plusptt/supabase/.env").stdout.splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def user_jwt(secret):
    now = int(time.time())
    return jwt.encode({"sub": str(uuid.uuid4()), "role": "authenticated", "aud": "authenticated", "iat": now,
                       "exp": now + 600}, secret, algorithm="HS256")


def backend_token(entry, secret):
    return entry.post(ENTRY + "/api/ptt/token/", json={"channel": "rotated"}, timeout=15,
                      headers={"Authorization": "Bearer " + user_jwt(secret)})


def node_keys():
    return {node: yaml.safe_load(ssh(node, "cat /opt/plusptt/livekit/keys.yaml").stdout) for node in MEDIA}


def test_backup_runs_on_the_database_host_only():
    before = ssh("plusptt-lab-db", "ls /var/backups/plusptt 2>/dev/null || true").stdout.split()
    result = ok(play("playbooks/backup.yml"))
    assert "plusptt-lab-app" not in result.stdout and "plusptt-lab-media1" not in result.stdout
    after = ssh("plusptt-lab-db", "ls /var/backups/plusptt").stdout.split()
    assert len(set(after) - set(before)) == 1


def psql(sql, database="plusptt"):
    command = "docker exec supabase-db psql -U postgres -d %s -tAc %s" % (database, shlex.quote(sql))
    return ssh("plusptt-lab-db", command).stdout.strip()


def backend_state():
    return ssh("plusptt-lab-app", "docker inspect -f '{{.State.Health.Status}} {{.State.StartedAt}}' plusptt-backend"
               ).stdout.split()


def test_restore_runs_on_the_database_host_and_restarts_the_backend_on_its_host(entry):
    started_before = backend_state()[1]
    psql("INSERT INTO console_channel (name, created_at) VALUES ('after-backup', now()) ON CONFLICT DO NOTHING")
    assert psql("SELECT count(*) FROM console_channel WHERE name = 'after-backup'") == "1"
    ok(play("playbooks/restore.yml"))
    assert psql("SELECT count(*) FROM console_channel WHERE name = 'after-backup'") == "0"
    health, started = backend_state()
    assert health == "healthy" and started != started_before  # stopped while the database was restored
    assert entry.get(ENTRY + "/api/health/", timeout=15).status_code == 200


def test_a_rotation_limited_away_from_a_host_it_must_reach_is_refused_before_anything_changes():
    def state():
        return ssh("plusptt-lab-db", "sha256sum /opt/plusptt/supabase/.env").stdout

    before = state()
    result = play("playbooks/rotate-keys.yml", "-e", "rotate=postgres", "--limit", "plusptt-lab-app")
    assert result.returncode != 0
    assert "--limit leaves out plusptt-lab-db, which the rotation of postgres must reach" in " ".join(
        result.stdout.split())
    assert state() == before


def validations(entry, token):
    """The status each node gives the token: nginx's round robin sends one request to each."""
    return [entry.get(ENTRY + "/livekit/rtc/validate", params={"access_token": token}, timeout=10).status_code
            for node in MEDIA]


def test_rotated_livekit_keys_reach_every_node_and_the_backend_and_old_tokens_last_the_grace_period(
        entry, jwt_secret):
    before = node_keys()[MEDIA[0]]
    if len(before) > 1:  # credentials kept from an earlier lab: finish that rotation first
        ok(play("playbooks/rotate-keys.yml", "-e", "rotate=livekit", "-e", "secrets_livekit_grace_seconds=0"))
        before = node_keys()[MEDIA[0]]
    assert len(before) == 1
    (old_key, old_secret), = before.items()
    old_token = api.AccessToken(old_key, old_secret).with_identity("before-rotation").with_grants(
        api.VideoGrants(room_join=True, room="rotated")).to_jwt()
    assert validations(entry, old_token) == [200, 200]
    ok(play("playbooks/rotate-keys.yml", "-e", "rotate=livekit"))
    keys = node_keys()
    assert keys[MEDIA[0]] == keys[MEDIA[1]] and len(keys[MEDIA[0]]) == 2 and old_key in keys[MEDIA[0]]
    assert validations(entry, old_token) == [200, 200], "the old key must stay valid during the grace period"
    backend = backend_livekit_key()
    assert backend["LIVEKIT_API_KEY"] not in before
    assert keys[MEDIA[0]][backend["LIVEKIT_API_KEY"]] == backend["LIVEKIT_API_SECRET"]
    now = int(time.time())
    user = jwt.encode({"sub": str(uuid.uuid4()), "role": "authenticated", "aud": "authenticated", "iat": now,
                       "exp": now + 600}, jwt_secret, algorithm="HS256")
    response = entry.post(ENTRY + "/api/ptt/token/", json={"channel": "rotated"}, timeout=15,
                          headers={"Authorization": "Bearer " + user})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    issuer = jwt.decode(token, options={"verify_signature": False})["iss"]
    assert issuer == backend["LIVEKIT_API_KEY"] != old_key
    api.TokenVerifier(issuer, keys[MEDIA[1]][issuer]).verify(token)
    # each node validates the token with its new key file
    assert validations(entry, token) == [200, 200]
    # within the grace period a second run drops nothing
    ok(play("playbooks/rotate-keys.yml", "-e", "rotate=livekit"))
    assert node_keys() == keys and validations(entry, old_token) == [200, 200]
    # past it, the old key is dropped on every node: its tokens are refused, the new ones still pass
    ok(play("playbooks/rotate-keys.yml", "-e", "rotate=livekit", "-e", "secrets_livekit_grace_seconds=0"))
    assert {node: list(node_keys()[node]) for node in MEDIA} == {node: [issuer] for node in MEDIA}
    assert validations(entry, old_token) == [401, 401]
    assert validations(entry, token) == [200, 200]


def test_jwt_rotation_switches_every_consumer_on_every_host(entry):
    before = supabase_env()
    old_secret, old_anon = before["JWT_SECRET"], before["ANON_KEY"]
    assert backend_token(entry, old_secret).status_code == 200
    ok(play("playbooks/rotate-keys.yml", "-e", "rotate=jwt"))
    env = supabase_env()
    assert env["JWT_SECRET"] != old_secret
    # the backend on the app host verifies users' tokens with the new secret only
    assert backend_token(entry, old_secret).status_code == 401
    assert backend_token(entry, env["JWT_SECRET"]).status_code == 200
    # the gateway's RBAC filter knows only the current keys, so the old one stops at the gateway
    assert entry.get(ENTRY + "/auth/v1/health", headers={"apikey": old_anon}, timeout=10).status_code == 403
    assert entry.get(ENTRY + "/auth/v1/health", headers={"apikey": env["ANON_KEY"]}, timeout=10).status_code == 200
    assert env["ANON_KEY"] in entry.get(ENTRY + "/config.js", timeout=10).text  # the frontend on the app host
    assert psql("SELECT current_setting('app.settings.jwt_secret')", database="postgres") == env["JWT_SECRET"]


def db_login(user, password):
    command = "docker exec -e PGPASSWORD=%s supabase-db psql -h supabase-db -U %s -d postgres -tAc 'SELECT 1'" % (
        shlex.quote(password), user)
    return ssh("plusptt-lab-db", command, check=False).stdout.strip() == "1"


def test_an_interrupted_password_rotation_keeps_the_new_password_and_is_refused_until_resolved():
    """The kept password cannot be replaced (immutable file) after the database changed: the new one waits in
    postgres_password.new, the database takes it, and the next run is refused before anything changes."""
    kept = os.path.join(CREDENTIALS, "postgres_password")
    old = supabase_env()["POSTGRES_PASSWORD"]
    subprocess.run(["chattr", "+i", kept], check=True)
    try:
        assert play("playbooks/rotate-keys.yml", "-e", "rotate=postgres").returncode != 0
    finally:
        subprocess.run(["chattr", "-i", kept], check=True)
    pending = kept + ".new"
    assert stat.S_IMODE(os.stat(pending).st_mode) == 0o600
    with open(pending, encoding="utf-8") as handle:
        new = handle.read().strip()
    assert new != old and db_login("supabase_admin", new) and not db_login("supabase_admin", old)
    try:
        refused = play("playbooks/rotate-keys.yml", "-e", "rotate=postgres")
        assert refused.returncode != 0
        flat = " ".join((refused.stdout + refused.stderr).split())
        assert "A password rotation stopped before it kept its new passwords: " in flat and pending in flat
        assert db_login("supabase_admin", new)
    finally:
        for name in os.listdir(CREDENTIALS):
            if name.endswith(".new"):  # as the message says: the database takes the new ones
                os.replace(os.path.join(CREDENTIALS, name), os.path.join(CREDENTIALS, name[:-len(".new")]))


def test_postgres_password_rotation_changes_the_live_database_for_every_host(entry):
    # Goes on from the interrupted rotation: the services still use the password before it.
    before = supabase_env()
    old = before["POSTGRES_PASSWORD"]
    ok(play("playbooks/rotate-keys.yml", "-e", "rotate=postgres,dashboard"))
    env = supabase_env()
    new = env["POSTGRES_PASSWORD"]
    assert new != old and not [name for name in os.listdir(CREDENTIALS) if name.endswith(".new")]
    for user in ("authenticator", "supabase_auth_admin", "supabase_admin"):
        assert db_login(user, new) and not db_login(user, old), user
    # the backend on the app host reaches the database on the db host with its kept password
    assert entry.get(ENTRY + "/api/health/", timeout=10).json()["database"] == "reachable"
    assert entry.get(ENTRY + "/auth/v1/health", headers={"apikey": env["ANON_KEY"]}, timeout=10).status_code == 200
    # the entry host's nginx asks for the new dashboard password only
    assert env["DASHBOARD_PASSWORD"] != before["DASHBOARD_PASSWORD"]
    dashboard = (env["DASHBOARD_USERNAME"], env["DASHBOARD_PASSWORD"])
    assert entry.get(ENTRY + "/project/default", auth=dashboard, timeout=10).status_code == 200
    old_dashboard = (env["DASHBOARD_USERNAME"], before["DASHBOARD_PASSWORD"])
    assert entry.get(ENTRY + "/project/default", auth=old_dashboard, timeout=10).status_code == 401
    ok(play("playbooks/health.yml"))


def test_upgrade_goes_host_by_host():
    result = ok(play("playbooks/upgrade.yml"))
    batches = [line for line in result.stdout.splitlines() if line.startswith("PLAY [Upgrade the PlusPTT services]")]
    assert len(batches) == len(HOSTS)
    ok(play("playbooks/health.yml"))


def test_teardown_removes_every_hosts_stack_and_keeps_the_data():
    ok(play("playbooks/teardown.yml"))
    for host in HOSTS:
        names = ssh(host, "docker ps -a --filter label=plusptt.project --format '{{.Names}}'").stdout.split()
        assert names == [], (host, names)
    volumes = ssh("plusptt-lab-db", "docker volume ls --format '{{.Name}}'").stdout.split()
    assert "supabase_db-data" in volumes or any(name.endswith("db-data") for name in volumes), volumes
