# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One stack over four lab hosts (tests/lab): services placed by inventory groups, wired across hosts,
LiveKit on two media nodes sharing one Redis, each host behind the firewall role. Everything is checked
from outside: through the entry host's nginx, or from the lab hosts over SSH."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import time
import uuid

import jwt
import pytest
from conftest import ENTRY, address, ok, play, ssh
from livekit import api
from turn_probe import binding_over_tls

MEDIA = ("plusptt-lab-media1", "plusptt-lab-media2")


def user_jwt(secret, sub=None):
    now = int(time.time())
    return jwt.encode({"sub": sub or str(uuid.uuid4()), "role": "authenticated", "aud": "authenticated",
                       "iat": now, "exp": now + 600}, secret, algorithm="HS256")


def websocket_upgrade(ca_file, path):
    context = ssl.create_default_context(cafile=ca_file)
    request = ("GET %s HTTP/1.1\r\nHost: localhost:9443\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % (path, base64.b64encode(os.urandom(16)).decode()))
    with socket.create_connection(("127.0.0.1", 9443), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(request.encode())
            return tls.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def reachable(source, target, port):
    """Whether a TCP connection from lab host source to target's private address and port completes."""
    return ssh(source, "nc -z -w 3 %s %s" % (address(target), port), check=False).returncode == 0


def answering_ports(source, target, ports):
    """The ports of target that complete a TCP connection from source, probed at once over one SSH session."""
    probes = " ".join("(nc -z -w 3 %s %d && echo %d) &" % (address(target), port, port) for port in sorted(ports))
    output = ssh(source, "%s wait" % probes, check=False).stdout
    return {int(line) for line in output.split() if line.isdigit()}


def node_token(node_keys, node="plusptt-lab-media1"):
    key, secret = next(iter(node_keys[node].items()))
    return api.AccessToken(key, secret).with_identity("lab").with_grants(
        api.VideoGrants(room_join=True, room="lab")).to_jwt()


def os_release(host):
    lines = ssh(host, "cat /etc/os-release").stdout.splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_the_stack_runs_on_debian_12_and_debian_13_hosts():
    """The platforms galaxy.yml and the roles' meta claim: media1 is Debian 13 (trixie), the others Debian 12;
    every test of this suite runs on the stack the converge deployed over both."""
    releases = {host: (os_release(host)["ID"], os_release(host)["VERSION_ID"].strip('"'))
                for host in ("plusptt-lab-db", "plusptt-lab-app") + MEDIA}
    assert releases == {"plusptt-lab-db": ("debian", "12"), "plusptt-lab-app": ("debian", "12"),
                        "plusptt-lab-media1": ("debian", "13"), "plusptt-lab-media2": ("debian", "12")}
    for node in MEDIA:
        running = ssh(node, "docker ps --filter name=livekit --format '{{.Names}} {{.Status}}'").stdout
        assert "livekit" in running and "Up" in running, (node, running)


def test_a_daemon_json_dockerd_refuses_stops_the_run_and_the_old_file_stays():
    """docker_daemon_options passes the first play's rules (a daemon.json key name) but names no setting dockerd
    knows. The engine of media1 (Debian 13, Docker 26) checks the rendered file with dockerd --validate before it
    replaces the one the engine runs with; the engine is not restarted."""
    host = "plusptt-lab-media1"
    assert "--validate" in ssh(host, "dockerd --help").stdout
    before = ssh(host, "sha256sum /etc/docker/daemon.json").stdout
    started = ssh(host, "pidof dockerd").stdout
    result = play("playbooks/site.yml", "--limit", host, "--tags", "docker_configure",
                  "-e", json.dumps({"docker_daemon_options": {"no-such-option": True}}))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    configure = output.split("TASK [plusptt.deploy.docker : Configure the Docker daemon]", 1)[-1].split("TASK [", 1)[0]
    assert "fatal: [%s]" % host in configure and "failed to validate" in configure, output[-3000:]
    assert "don't match any configuration option: no-such-option" in configure
    assert ssh(host, "sha256sum /etc/docker/daemon.json").stdout == before
    assert ssh(host, "pidof dockerd").stdout == started


def test_entry_host_serves_the_web_app_and_the_api(entry):
    page = entry.get(ENTRY + "/", timeout=15)
    assert page.status_code == 200 and '<div id="root">' in page.text
    health = entry.get(ENTRY + "/api/health/", timeout=15)
    assert health.status_code == 200 and health.json()["database"] == "reachable"


def test_user_jwt_buys_a_livekit_token_that_both_media_nodes_verify(entry, jwt_secret, node_keys):
    sub = str(uuid.uuid4())
    response = entry.post(ENTRY + "/api/ptt/token/", json={"channel": "lab-" + sub[:8]}, timeout=15,
                          headers={"Authorization": "Bearer " + user_jwt(jwt_secret, sub)})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    issuer = jwt.decode(token, options={"verify_signature": False})["iss"]
    for node in MEDIA:
        claims = api.TokenVerifier(issuer, node_keys[node][issuer]).verify(token)
        assert claims.identity == sub
    assert node_keys["plusptt-lab-media1"] == node_keys["plusptt-lab-media2"]


def stop_livekit(node):
    ssh(node, "docker stop livekit")


def start_livekit(node):
    ssh(node, "docker start livekit && for i in $(seq 60); do "
              "[ \"$(docker inspect -f '{{.State.Health.Status}}' livekit)\" = healthy ] && exit 0; "
              "sleep 1; done; exit 1")


@pytest.mark.parametrize("stopped", MEDIA)
def test_livekit_answers_through_the_other_node_when_one_stops(entry, node_keys, stopped):
    token = node_token(node_keys)
    stop_livekit(stopped)
    try:
        # nginx's round robin would pick the stopped node on every other request
        statuses = [entry.get(ENTRY + "/livekit/", timeout=15).status_code for attempt in range(4)]
        upgrades = [websocket_upgrade(entry.ca_path, "/livekit/rtc?access_token=" + token)[:12]
                    for attempt in range(4)]
        assert statuses == [200] * 4 and upgrades == ["HTTP/1.1 101"] * 4
    finally:
        start_livekit(stopped)
        time.sleep(11)  # nginx sends requests to a node that failed again after fail_timeout (10 s)


def test_livekit_nodes_share_one_redis_on_the_private_network():
    for node in MEDIA:
        logs = ssh(node, "docker logs livekit 2>&1").stdout
        assert "connected to redis at %s:6379" % address("plusptt-lab-media1") in logs, logs[-2000:]


@pytest.mark.parametrize(("source", "target", "port", "expected"), [
    ("plusptt-lab-app", "plusptt-lab-db", 5432, True),
    ("plusptt-lab-media1", "plusptt-lab-db", 5432, False),
    ("plusptt-lab-app", "plusptt-lab-db", 8000, True),
    ("plusptt-lab-media2", "plusptt-lab-db", 8000, False),
    ("plusptt-lab-media2", "plusptt-lab-media1", 6379, True),
    ("plusptt-lab-app", "plusptt-lab-media1", 6379, False),
    ("plusptt-lab-app", "plusptt-lab-media2", 7880, True),
    ("plusptt-lab-db", "plusptt-lab-media2", 7880, False),
])
def test_internal_ports_answer_only_the_hosts_that_use_them(source, target, port, expected):
    assert reachable(source, target, port) is expected


@pytest.mark.parametrize(("target", "open_ports"), [
    ("plusptt-lab-db", {22}),
    ("plusptt-lab-app", {22, 80, 443}),
    ("plusptt-lab-media1", {22, 5349, 7881}),
    ("plusptt-lab-media2", {2222, 5349, 7881}),
])
def test_a_host_outside_the_inventory_reaches_only_public_ports(target, open_ports):
    probed = {22, 80, 443, 2222, 3000, 3010, 5349, 5432, 6379, 7880, 7881, 8000, 8010, 8080}
    answered = answering_ports("plusptt-lab-outsider", target, probed)
    assert answered == open_ports


def test_a_run_as_a_sudo_user_on_a_moved_ssh_port_keeps_that_port_and_closes_22():
    """media2 is deployed as a user with sudo over sshd's port 2222 (tests/lab/inventory/hosts.yml); sshd still
    listens on 22 too, so only the firewall can close it. sudo clears SSH_CONNECTION: the rules must still keep
    the port the run came in on, or new sessions are shut out."""
    listening = ssh("plusptt-lab-media2", "ss -Htln").stdout.split()
    assert "0.0.0.0:22" in listening and "0.0.0.0:2222" in listening, listening
    new_session = ssh("plusptt-lab-media2", "sudo -n id -u", user="deploy")
    assert new_session.stdout.strip() == "0"
    assert answering_ports("plusptt-lab-outsider", "plusptt-lab-media2", {22, 2222}) == {2222}


@pytest.mark.parametrize("node", ["plusptt-lab-media1", "plusptt-lab-media2"])
def test_turn_over_tls_on_each_media_node_serves_the_entry_certificate(entry, node):
    served = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", 9443)))
    certificate, client_address = binding_over_tls(address(node), 5349, entry.verify, "localhost")
    assert certificate == served
    assert client_address == "172.30.77.1"  # this machine on the lab network: the node sees clients directly


@pytest.mark.parametrize("host", ["plusptt-lab-db", "plusptt-lab-app", "plusptt-lab-media1"])
def test_the_firewall_keeps_its_own_table_beside_dockers(host):
    ruleset = ssh(host, "nft list ruleset").stdout
    assert "table inet plusptt" in ruleset
    assert "chain DOCKER" in ruleset  # Docker's own rules are intact


def test_health_names_a_killed_container_and_its_host():
    ssh("plusptt-lab-media2", "docker kill livekit")
    try:
        result = play("playbooks/health.yml")
        assert result.returncode != 0
        failed = [line for line in result.stdout.splitlines() if line.startswith("fatal: [")]
        assert len(failed) == 1 and "plusptt-lab-media2" in failed[0], result.stdout[-3000:]
        assert "Unhealthy: livekit" in result.stdout
    finally:
        start_livekit("plusptt-lab-media2")
    ok(play("playbooks/health.yml"))
