# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input fails playbooks/site.yml in its first play, names the variable, and changes nothing on the host."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INVENTORY = os.path.join(REPO, "tests", "e2e", "inventory", "hosts.yml")

# (case, extra vars, the variable the error must name)
CASES = [
    ("empty domain", {"plusptt_domain": ""}, "plusptt_domain"),
    ("malformed domain", {"plusptt_domain": "bad domain!"}, "plusptt_domain"),
    ("domain with a leading hyphen", {"plusptt_domain": "-ptt.example.org"}, "plusptt_domain"),
    ("relative root", {"plusptt_root": "opt/plusptt"}, "plusptt_root"),
    ("CORS origin without scheme", {"plusptt_cors_origins": ["ptt.example.org"]}, "plusptt_cors_origins"),
    ("CORS origin with a path", {"plusptt_cors_origins": ["https://ptt.example.org/app"]}, "plusptt_cors_origins"),
    ("HTTP and HTTPS on one port", {"plusptt_http_port": 8443}, "plusptt_https_port"),
    ("site URL on http with SSL on", {"supabase_site_url": "http://localhost:8443"}, "supabase_site_url"),
    ("API URL without scheme", {"supabase_api_external_url": "localhost"}, "supabase_api_external_url"),
    ("unknown API gateway", {"supabase_gateway": "traefik"}, "supabase_gateway"),
    ("storage size limit with a unit", {"supabase_storage_file_size_limit": "50MB"},
     "supabase_storage_file_size_limit"),
    ("unknown pull policy", {"plusptt_image_pull": "sometimes"}, "plusptt_image_pull"),
    ("registry mirror without scheme", {"docker_registry_mirrors": ["mirror.example.org:5000"]},
     "docker_registry_mirrors"),
    ("registry mirror with a path", {"docker_registry_mirrors": ["https://mirror.example.org/v2/"]},
     "docker_registry_mirrors"),
    ("registry CA file that does not exist",
     {"docker_registry_ca_certs": {"mirror.example.org:5000": "/nonexistent/ca.crt"}}, "docker_registry_ca_certs"),
    ("registry CA keyed by a URL", {"docker_registry_ca_certs": {"https://mirror.example.org": "/etc/hostname"}},
     "docker_registry_ca_certs"),
    ("ACME for localhost", {"plusptt_ssl_acme": True, "plusptt_acme_email": "ops@example.org",
                            "plusptt_acme_http_port_override": "forwarded"}, "plusptt_domain"),
    ("ACME without an email", {"plusptt_ssl_acme": True, "plusptt_domain": "ptt.example.org",
                               "plusptt_acme_http_port_override": "forwarded"}, "plusptt_acme_email"),
    ("ACME with HTTP off port 80 and no reason", {"plusptt_ssl_acme": True, "plusptt_domain": "ptt.example.org",
                                                  "plusptt_acme_email": "ops@example.org"},
     "plusptt_acme_http_port_override"),
    ("ACME beside a given certificate", {"plusptt_ssl_acme": True, "plusptt_ssl_cert": "/etc/hostname",
                                         "plusptt_ssl_key": "/etc/hostname"}, "plusptt_ssl_cert"),
    ("image registry with a scheme", {"plusptt_image_registry": "https://registry.example.org"},
     "plusptt_image_registry"),
    ("image registry with a path", {"plusptt_image_registry": "registry.example.org/team"}, "plusptt_image_registry"),
    ("registry login without a password",
     {"docker_registry_auth": [{"registry": "registry.example.org:5000", "username": "deploy"}]},
     "docker_registry_auth"),
    ("publish address not an IP", {"plusptt_publish_address": "everywhere"}, "plusptt_publish_address"),
    ("reversed UDP range", {"livekit_port_range_start": 50100, "livekit_port_range_end": 50000},
     "livekit_port_range_start"),
    ("UDP range holding TURN", {"livekit_port_range_start": 3000, "livekit_port_range_end": 4000},
     "livekit_turn_udp_port"),
    ("UDP range holding the RTC TCP port", {"livekit_port_range_start": 7000, "livekit_port_range_end": 7999},
     "livekit_rtc_tcp_port"),
    ("UDP range too large", {"livekit_port_range_start": 20000, "livekit_port_range_end": 40000},
     "livekit_port_range_end"),
    ("privileged UDP range", {"livekit_port_range_start": 100, "livekit_port_range_end": 200},
     "livekit_port_range_start"),
    ("LiveKit TCP port on the HTTPS port", {"livekit_rtc_tcp_port": 8443}, "livekit_rtc_tcp_port"),
    ("TURN over TLS inside the UDP range", {"livekit_turn_tls_port": 50005}, "livekit_turn_tls_port"),
    ("TURN over TLS on the HTTPS port", {"livekit_turn_tls_port": 8443}, "livekit_turn_tls_port"),
    ("frontend on the HTTP port", {"frontend_port": 8080}, "frontend_port"),
    ("negative room size", {"livekit_room_max_participants": -1}, "livekit_room_max_participants"),
    ("negative empty timeout", {"livekit_room_empty_timeout": -5}, "livekit_room_empty_timeout"),
    ("malformed node IP", {"livekit_node_ip": "not-an-ip"}, "livekit_node_ip"),
    ("unknown log level", {"livekit_log_level": "verbose"}, "livekit_log_level"),
    ("short JWT secret", {"secrets_jwt_secret": "too-short-for-hs256"}, "secrets_jwt_secret"),
    ("short passwords", {"secrets_password_length": 16}, "secrets_password_length"),
    ("bad dashboard user", {"secrets_dashboard_username": "ops team"}, "secrets_dashboard_username"),
    ("missing certificate file", {"plusptt_ssl_self_signed": False, "plusptt_ssl_cert": "/nonexistent/cert.pem",
                                  "plusptt_ssl_key": "/nonexistent/key.pem"}, "plusptt_ssl_cert"),
    ("certificate without key", {"plusptt_ssl_cert": "/etc/ssl/certs/ca-certificates.crt"}, "plusptt_ssl_key"),
    ("SSL without certificate", {"plusptt_ssl_self_signed": False}, "plusptt_ssl_self_signed"),
    ("malformed memory limit", {"supabase_resources": {"db": {"cpus": "2", "memory": "2 gigs"}}},
     "supabase_resources.db"),
    ("malformed CPU limit", {"backend_resources": {"cpus": "lots", "memory": "1G"}}, "backend_resources"),
    ("image without tag", {"supabase_auth_image": "supabase/gotrue"}, "supabase_auth_image"),
    ("image on latest", {"livekit_image": "livekit/livekit-server:latest"}, "livekit_image"),
    ("nginx image without tag", {"nginx_image": "nginx"}, "nginx_image"),
    ("non-numeric worker count", {"backend_gunicorn_workers": "many"}, "backend_gunicorn_workers"),
    ("zero workers", {"backend_gunicorn_workers": 0}, "backend_gunicorn_workers"),
    ("port out of range", {"backend_port": 70000}, "backend_port"),
    ("zero replicas", {"backend_replicas": 0}, "backend_replicas"),
    ("published web app with replicas", {"frontend_replicas": 2, "frontend_publish": True}, "frontend_replicas"),
    ("app source without Dockerfile", {"backend_source_dir": "/nonexistent/app"}, "backend_source_dir"),
    ("old TLS protocol", {"nginx_ssl_protocols": "TLSv1 TLSv1.2"}, "nginx_ssl_protocols"),
    ("malformed body size", {"nginx_client_max_body_size": "big"}, "nginx_client_max_body_size"),
    ("unknown package source", {"docker_package_source": "snap"}, "docker_package_source"),
    ("mirror without scheme", {"docker_registry_mirrors": ["mirror.example.org"]}, "docker_registry_mirrors"),
    ("too short JWT expiry", {"supabase_jwt_expiry": 10}, "supabase_jwt_expiry"),
    ("unknown capability", {"livekit_cap_add": {"livekit": [], "redis": ["SUPERPOWER"]}}, "livekit_cap_add.redis"),
    ("capability with its prefix", {"nginx_cap_add": ["CAP_NET_BIND_SERVICE"]}, "nginx_cap_add"),
    ("capabilities as one string", {"backend_cap_add": "CHOWN"}, "backend_cap_add"),
    ("negative lock timeout", {"plusptt_lock_timeout": -1}, "plusptt_lock_timeout"),
    ("pip index without scheme", {"plusptt_pip_index_url": "pypi.example.org/simple/"}, "plusptt_pip_index_url"),
    ("pip index on ftp", {"plusptt_pip_index_url": "ftp://user:s3cret@pypi.example.org/simple/"},
     "plusptt_pip_index_url"),
    ("npm registry without host", {"plusptt_npm_registry": "https:///npm/"}, "plusptt_npm_registry"),
    ("npm registry with a space", {"plusptt_npm_registry": "https://npm.example.org/my registry/"},
     "plusptt_npm_registry"),
]


# The lab of the multihost stage runs beside this one on the same engine (scripts/test.sh): its hosts, their
# volumes, its network, its host image and the tags of registry pushes are not this host's deployment.
LAB_OBJECT = re.compile(r"plusptt-lab|^127\.0\.0\.1:\d+/")


def docker_listing(*args):
    listing = subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout
    # docker lists objects of the same second in any order
    return sorted(line for line in listing.splitlines() if not LAB_OBJECT.search(line))


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
    failure = output[output.index("fatal:"):] if "fatal:" in output else output
    assert variable in failure, failure[-3000:]
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
