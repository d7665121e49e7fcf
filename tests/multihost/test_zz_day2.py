# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Day-2 playbooks over the lab's four hosts. Runs after test_multihost.py (file order) and ends with the
teardown, so it builds on the deployed stack and leaves none."""

from __future__ import annotations

import shlex
import time
import uuid

import jwt
import yaml
from conftest import ENTRY, ok, play, ssh
from livekit import api

MEDIA = ("plusptt-lab-media1", "plusptt-lab-media2")
HOSTS = ("plusptt-lab-db", "plusptt-lab-app") + MEDIA


def backend_livekit_key():
    env = ssh("plusptt-lab-app", "cat /opt/plusptt/backend/.env").stdout
    return dict(line.split("=", 1) for line in env.splitlines() if line.startswith("LIVEKIT_API"))


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


def test_rotated_livekit_keys_reach_every_node_and_the_backend(entry, jwt_secret):
    before = node_keys()[MEDIA[0]]
    if len(before) > 1:  # credentials kept from an earlier lab: finish that rotation first
        ok(play("playbooks/rotate-keys.yml", "-e", "rotate=livekit", "-e", "secrets_livekit_grace_seconds=0"))
        before = node_keys()[MEDIA[0]]
    assert len(before) == 1
    ok(play("playbooks/rotate-keys.yml", "-e", "rotate=livekit"))
    keys = node_keys()
    assert keys[MEDIA[0]] == keys[MEDIA[1]] and len(keys[MEDIA[0]]) == 2
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
    api.TokenVerifier(issuer, keys[MEDIA[1]][issuer]).verify(token)
    # nginx's round robin: one request per node, each validates the token with its new key file
    statuses = [entry.get(ENTRY + "/livekit/rtc/validate", params={"access_token": token}, timeout=10).status_code
                for node in MEDIA]
    assert statuses == [200, 200]


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
