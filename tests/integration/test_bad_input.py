# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input fails playbooks/site.yml in its first play, names the variable, and changes nothing on the host."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INVENTORY = os.path.join(REPO, "tests", "e2e", "inventory", "hosts.yml")

# One case per rule family: each check task of the first play (every value variant of the rules is in the
# table of tests/unit/plugins/filter/test_settings_problems.py). (case, extra vars, the variable named)
CASES = [
    ("shared settings: relative root", {"plusptt_root": "opt/plusptt"}, "plusptt_root"),
    ("shared settings: certificate without key", {"plusptt_ssl_cert": "/etc/ssl/certs/ca-certificates.crt"},
     "plusptt_ssl_key"),
    ("docker: registry mirror with a path", {"docker_registry_mirrors": ["https://mirror.example.org/v2/"]},
     "docker_registry_mirrors"),
    ("firewall: the host's own rules file", {"firewall_rules_file": "/etc/nftables.conf"}, "firewall_rules_file"),
    # A file in a folder of its own that PlusPTT did not write (no header): found on the host, still refused first.
    ("firewall: a file PlusPTT did not write",
     {"firewall_enabled": True, "firewall_rules_file": "/etc/ssl/openssl.cnf"}, "firewall_rules_file"),
    ("secrets: short JWT secret", {"secrets_jwt_secret": "too-short-for-hs256"}, "secrets_jwt_secret"),
    ("supabase: unknown API gateway", {"supabase_gateway": "traefik"}, "supabase_gateway"),
    ("livekit: TURN over TLS inside the UDP range", {"livekit_turn_tls_port": 50005}, "livekit_turn_tls_port"),
    ("backend: zero replicas", {"backend_replicas": 0}, "backend_replicas"),
    ("backend: app source without Dockerfile", {"backend_source_dir": "/nonexistent/app"}, "backend_source_dir"),
    ("frontend: published web app with replicas", {"frontend_replicas": 2, "frontend_publish": True},
     "frontend_replicas"),
    ("nginx: old TLS protocol", {"nginx_ssl_protocols": "TLSv1 TLSv1.2"}, "nginx_ssl_protocols"),
    ("nginx: missing certificate file", {"plusptt_ssl_self_signed": False, "plusptt_ssl_cert": "/nonexistent/c.pem",
                                         "plusptt_ssl_key": "/etc/hostname"}, "plusptt_ssl_cert"),
    ("nginx: ACME without an email", {"plusptt_ssl_acme": True, "plusptt_domain": "ptt.example.org",
                                      "nginx_acme_http_port_override": "forwarded"}, "nginx_acme_email"),
]


def role_variables():
    """Every variable the roles define: a failure must name the one at fault and none of the others."""
    names = set()
    for path in glob.glob(os.path.join(REPO, "roles", "*", "defaults", "main.yml")):
        with open(path, encoding="utf-8") as handle:
            names.update(yaml.safe_load(handle) or {})
    return names


VARIABLES = role_variables()


def named(text):
    return {name for name in VARIABLES if re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % name, text)}


def failure_message(output):
    """The msg of the first failed task (or loop item) of the run."""
    first = re.search(r"^(fatal|failed): \[", output, re.M)
    failure = output[first.start():] if first else output
    match = re.search(r"^\s*msg: (.*?)(?=^\S|^\s*[a-z_]+: |\Z)", failure, re.M | re.S)
    return match.group(1) if match else failure


# Stages that run beside this one on the same engine (scripts/test.sh): the multihost lab (its hosts, their
# volumes, its network, its host image and the tags of registry pushes) and the modules stage (its
# plusptt-modtest-* containers) are not this host's deployment.
BESIDE_OBJECT = re.compile(r"plusptt-lab|plusptt-modtest-|^127\.0\.0\.1:\d+/")


def docker_listing(*args):
    listing = subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout
    # docker lists objects of the same second in any order
    return sorted(line for line in listing.splitlines() if not BESIDE_OBJECT.search(line))


def host_state():
    """What a run could change on this host: files under /opt/plusptt and its Docker objects."""
    state = []
    if os.path.isdir("/opt/plusptt"):
        for root, dirs, files in os.walk("/opt/plusptt"):
            for name in sorted(dirs + files):
                path = os.path.join(root, name)
                info = os.lstat(path)
                state.append((path, info.st_mode, info.st_size, info.st_mtime_ns))
    for args in (["ps", "-a", "--format", "{{.ID}} {{.State}} {{.Image}} {{.Names}}"],
                 ["network", "ls", "--format", "{{.ID}} {{.Name}}"], ["volume", "ls", "--format", "{{.Name}}"],
                 ["images", "--filter", "dangling=false", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]):
        state.append(docker_listing(*args))
    return state


def run_playbook(playbook, extra_vars, inventory=INVENTORY):
    """Run a playbook of the collection with extra vars; return the exit code and the whole output."""
    binary = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    result = subprocess.run(
        [binary, "-i", inventory, os.path.join(REPO, "playbooks", playbook), "-e", json.dumps(extra_vars)],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=600,
        env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0"),
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("extra_vars, variable", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_fails_before_any_change(extra_vars, variable):
    before = host_state()
    returncode, output = run_playbook("site.yml", extra_vars)
    assert returncode != 0, output[-3000:]
    assert "PLAY [Docker engine and network]" not in output, "the run went past the checks"
    message = failure_message(output)
    assert named(message) == {variable}, output[-3000:]
    assert host_state() == before


# Layouts of several servers (every host a local alias: the checks run before any host is contacted).
FOUR_SERVERS = {
    "plusptt_supabase": {"db": "10.0.0.11"}, "plusptt_backend": {"app": "10.0.0.12"},
    "plusptt_frontend": {"app": "10.0.0.12"}, "plusptt_nginx": {"app": "10.0.0.12"},
    "plusptt_livekit": {"media1": "10.0.0.21", "media2": "10.0.0.22"}, "plusptt_livekit_redis": {"media1": "10.0.0.21"},
}
LAYOUTS = [
    ("group without a host", dict(FOUR_SERVERS, plusptt_livekit={}), {}, "plusptt_livekit has no host"),
    ("LiveKit node without an address", dict(FOUR_SERVERS, plusptt_livekit={"media1": "10.0.0.21", "media2": ""}),
     {}, "plusptt_private_address"),
    ("two Redis hosts", dict(FOUR_SERVERS, plusptt_livekit_redis={"media1": "10.0.0.21", "media2": "10.0.0.22"}),
     {}, "plusptt_livekit_redis has 2 hosts"),
    ("two services of one server on one port", dict(FOUR_SERVERS, plusptt_frontend={"db": "10.0.0.11"}),
     {"frontend_port": 5432}, "publishes port 5432 for both"),
]


def write_layout(folder, groups):
    children = {}
    for group, hosts in groups.items():
        children[group] = {"hosts": {host: ({"plusptt_private_address": address} if address
                                            else {"ansible_host": host + ".example.org"})
                                     for host, address in hosts.items()}}
    inventory = {"plusptt": {"children": children, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}
    with open(os.path.join(folder, "hosts.yml"), "w", encoding="utf-8") as handle:
        json.dump(inventory, handle)
    os.symlink(os.path.join(os.path.dirname(INVENTORY), "group_vars"), os.path.join(folder, "group_vars"))
    return os.path.join(folder, "hosts.yml")


@pytest.mark.parametrize("groups, extra_vars, message", [case[1:] for case in LAYOUTS], ids=[c[0] for c in LAYOUTS])
def test_bad_layout_fails_before_any_change(tmp_path, groups, extra_vars, message):
    before = host_state()
    returncode, output = run_playbook("site.yml", extra_vars, inventory=write_layout(str(tmp_path), groups))
    assert returncode != 0, output[-3000:]
    assert "PLAY [Docker engine and network]" not in output, "the run went past the checks"
    assert "fatal:" in output, output[-3000:]
    assert message in output[output.index("fatal:"):], output[-3000:]
    assert host_state() == before


# Bad input of playbooks/images.yml: refused in its first task, naming the variable.
IMAGE_CASES = [
    ("load from a bundle folder that does not exist", {"images_action": "load", "images_bundle_dir": "/nonexistent/b"},
     "images_bundle_dir"),
    ("load from a folder without a bundle", {"images_action": "load", "images_bundle_dir": "/etc"},
     "images_bundle_dir"),
    ("unknown bundle action", {"images_action": "copy"}, "images_action"),
    ("relative bundle folder", {"images_action": "save", "images_bundle_dir": "bundle"}, "images_bundle_dir"),
]


@pytest.mark.parametrize("extra_vars, variable", [c[1:] for c in IMAGE_CASES], ids=[c[0] for c in IMAGE_CASES])
def test_bad_bundle_input_fails_before_any_change(extra_vars, variable):
    before = host_state()
    returncode, output = run_playbook("images.yml", extra_vars)
    assert returncode != 0, output[-3000:]
    assert "fatal:" in output and variable in output[output.index("fatal:"):], output[-3000:]
    assert "TASK [List the images this host needs]" not in output, "the run went past the checks"
    assert host_state() == before
