# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the multi-host tests: the lab of tests/lab, reached over SSH like any server."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests
import yaml

# Probes both suites share (tests/turn_probe.py).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

LAB = os.path.join(os.path.dirname(__file__), "..", "lab")
KEY = os.path.join(LAB, ".ssh", "id_ed25519")
ENTRY = "https://localhost:9443"
CREDENTIALS = os.environ.get("PLUSPTT_SECRETS_DIR", os.path.join(LAB, "inventory", "credentials"))
OUTSIDER = {"ansible_host": "127.0.0.1", "ansible_port": 22099, "plusptt_private_address": "172.30.77.99"}


def lab_hosts():
    """host -> its inventory variables (ansible_port, plusptt_private_address), from the lab inventory."""
    with open(os.path.join(LAB, "inventory", "hosts.yml"), encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    hosts = {}
    for group in inventory["plusptt"]["children"].values():
        for name, host_vars in (group.get("hosts") or {}).items():
            hosts.setdefault(name, {}).update(host_vars or {})
    hosts["plusptt-lab-outsider"] = OUTSIDER
    return hosts


HOSTS = lab_hosts()


def ssh_argv(host, command, user="root"):
    """The ssh command line that runs a shell command on a lab host, at the address and port Ansible uses."""
    return ["ssh", "-i", KEY, "-p", str(HOSTS[host]["ansible_port"]), "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=10", "%s@%s" % (user, HOSTS[host]["ansible_host"]), command]


def ssh(host, command, check=True, timeout=60, user="root"):
    """Run a shell command on a lab host over SSH; return the completed process."""
    result = subprocess.run(ssh_argv(host, command, user), capture_output=True, text=True, timeout=timeout,
                            check=False)
    if check and result.returncode != 0:
        raise AssertionError("%s: %s failed (%d): %s" % (host, command, result.returncode, result.stderr))
    return result


def address(host):
    return HOSTS[host]["plusptt_private_address"]


@pytest.fixture(scope="session")
def entry(tmp_path_factory):
    """A session to the entry host's nginx that trusts the CA the deployment made."""
    ca = tmp_path_factory.mktemp("lab") / "ca.crt"
    ca.write_text(ssh("plusptt-lab-app", "cat /opt/plusptt/nginx/ca/ca.crt").stdout)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    session.ca_path = str(ca)
    return session


@pytest.fixture(scope="session")
def jwt_secret():
    for line in ssh("plusptt-lab-db", "cat /opt/plusptt/supabase/.env").stdout.splitlines():
        if line.startswith("JWT_SECRET="):
            return line.split("=", 1)[1]
    raise AssertionError("JWT_SECRET missing from the database host's supabase/.env")


@pytest.fixture(scope="session")
def node_keys():
    """LiveKit node -> the keys of its key file."""
    return {host: yaml.safe_load(ssh(host, "cat /opt/plusptt/livekit/keys.yaml").stdout)
            for host in ("plusptt-lab-media1", "plusptt-lab-media2")}


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def play(playbook, *args, timeout=1200):
    """Run a playbook of the collection over the lab inventory; return the completed process."""
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-i", os.path.join(LAB, "inventory", "hosts.yml"), os.path.join(ROOT, playbook), *args]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=timeout, check=False)


def ok(result):
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result


DEPLOYED = ("plusptt-lab-db", "plusptt-lab-app", "plusptt-lab-media1", "plusptt-lab-media2")
CONVERGED = "As the last completed run left it: only the health report runs"


def recap(result):
    """{host: (ok, changed)} of a run's PLAY RECAP."""
    lines = result.stdout.split("PLAY RECAP", 1)[1]
    return {host: (int(done), int(changed))
            for host, done, changed in re.findall(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)", lines, re.MULTILINE)}


def converged_hosts(result):
    """The hosts a site.yml run found as the last completed run left them (the fast path: probes only)."""
    text = " ".join(result.stdout.split())
    return {host for host in DEPLOYED if re.search(r"ok: \[%s\] => msg: '?%s" % (re.escape(host), CONVERGED), text)}
