# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input as a table: every value rule of the roles' preflights (plusptt.deploy.settings_problems).

Each case starts from valid settings (the role defaults with the test profile's values), breaks one rule and
asserts that exactly one problem comes back, naming that variable and no other checked variable. The e2e
stage keeps one case per rule family (tests/integration/test_bad_input.py): that the run stops in its first
play and the host is unchanged.
"""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.plusptt.deploy.plugins.filter import settings_problems as rules

REPO = pathlib.Path(__file__).resolve().parents[4]
PREFLIGHTS = sorted(REPO.glob("roles/*/tasks/preflight.yml"))


def checked_variables():
    """The variables the preflights hand to settings_problems: the keys 'name': name of its input mappings."""
    names = set()
    for path in PREFLIGHTS:
        for block in re.findall(r"\{\{ \{(.*?)\}\s*(?:\| combine\(.*?\)\s*)?\| plusptt\.deploy\.settings_problems",
                                path.read_text(), re.S):
            names.update(re.findall(r"'([a-z0-9_]+)': \1\b", block))
    return names


CHECKED = checked_variables()


def baseline():
    values = {}
    for path in sorted(REPO.glob("roles/*/defaults/main.yml")):
        values.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    values.update({  # the e2e profile, and the defaults that are templates
        "plusptt_domain": "localhost", "plusptt_http_port": 8080, "plusptt_https_port": 8443,
        "plusptt_publish_address": "127.0.0.1", "plusptt_cors_origins": ["https://localhost:8443"],
        "plusptt_public_url": "https://localhost:8443", "supabase_site_url": "https://localhost:8443",
        "supabase_api_external_url": "https://localhost:8443/auth/v1", "plusptt_ssl_enabled": True,
        "plusptt_ssl_self_signed": True, "backend_allowed_hosts": ["localhost"], "firewall_enabled": True,
        "plusptt_livekit_network": "bridge", "livekit_port_range_start": 50000, "livekit_port_range_end": 50010,
        "backend_image": "", "frontend_image": "", "backup_databases": ["postgres", "plusptt"],
    })
    return values


def problems(**overrides):
    values = baseline()
    values.update(overrides)
    checked = {name: values[name] for name in CHECKED
               if not (name in ("backend_image", "frontend_image") and not values[name])}
    return rules.settings_problems(checked, values)


def names_in(text):
    return {name for name in CHECKED if re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % name, text)}


SECRET = "s3cret-in-a-url"

# (case, overrides, the one variable the problem names)
CASES = [
    ("empty domain", {"plusptt_domain": ""}, "plusptt_domain"),
    ("malformed domain", {"plusptt_domain": "bad domain!"}, "plusptt_domain"),
    ("domain with a leading hyphen", {"plusptt_domain": "-ptt.example.org"}, "plusptt_domain"),
    ("domain with a trailing newline", {"plusptt_domain": "ptt.example.org\n"}, "plusptt_domain"),
    ("relative root", {"plusptt_root": "opt/plusptt"}, "plusptt_root"),
    ("root with a trailing slash", {"plusptt_root": "/opt/plusptt/"}, "plusptt_root"),
    ("root with a space", {"plusptt_root": "/opt/plus ptt"}, "plusptt_root"),
    ("root is /", {"plusptt_root": "/"}, "plusptt_root"),
    ("root is /etc", {"plusptt_root": "/etc"}, "plusptt_root"),
    ("root is /opt", {"plusptt_root": "/opt"}, "plusptt_root"),
    ("root climbs out", {"plusptt_root": "/opt/../etc"}, "plusptt_root"),
    ("root with a dollar", {"plusptt_root": "/opt/plus$ptt"}, "plusptt_root"),
    ("root with a hash", {"plusptt_root": "/opt/plusptt#1"}, "plusptt_root"),
    ("root with a quote", {"plusptt_root": "/opt/plus'ptt"}, "plusptt_root"),
    ("root with a newline", {"plusptt_root": "/opt/plusptt\n"}, "plusptt_root"),
    ("rules file with a dollar", {"firewall_rules_file": "/etc/plusptt/$rules.nft"}, "firewall_rules_file"),
    ("CORS origin without scheme", {"plusptt_cors_origins": ["ptt.example.org"]}, "plusptt_cors_origins"),
    ("CORS origin with a path", {"plusptt_cors_origins": ["https://ptt.example.org/app"]}, "plusptt_cors_origins"),
    ("CORS origins as one string", {"plusptt_cors_origins": "https://ptt.example.org"}, "plusptt_cors_origins"),
    ("HTTP and HTTPS on one port", {"plusptt_http_port": 8443}, "plusptt_https_port"),
    ("HTTP port 0", {"plusptt_http_port": 0}, "plusptt_http_port"),
    ("HTTPS port 70000", {"plusptt_https_port": 70000}, "plusptt_https_port"),
    ("public URL on http with SSL on", {"plusptt_public_url": "http://localhost:8443"}, "plusptt_public_url"),
    ("site URL on http with SSL on", {"supabase_site_url": "http://localhost:8443"}, "supabase_site_url"),
    ("API URL without scheme", {"supabase_api_external_url": "localhost"}, "supabase_api_external_url"),
    ("site URL with a space", {"supabase_site_url": "https://localhost:8443/a b"}, "supabase_site_url"),
    ("redirect URL not a URL", {"supabase_additional_redirect_urls": ["ptt.example.org"]},
     "supabase_additional_redirect_urls"),
    ("unknown API gateway", {"supabase_gateway": "traefik"}, "supabase_gateway"),
    ("storage size limit with a unit", {"supabase_storage_file_size_limit": "50MB"},
     "supabase_storage_file_size_limit"),
    ("storage size limit zero", {"supabase_storage_file_size_limit": 0}, "supabase_storage_file_size_limit"),
    ("Envoy admin on the API port", {"supabase_envoy_admin_port": 8000}, "supabase_envoy_admin_port"),
    ("Envoy admin port 70000", {"supabase_envoy_admin_port": 70000}, "supabase_envoy_admin_port"),
    ("Envoy uid not a number", {"supabase_envoy_uid": "envoy"}, "supabase_envoy_uid"),
    ("database name with a hyphen", {"supabase_db_name": "app-db"}, "supabase_db_name"),
    ("unknown pull policy", {"plusptt_image_pull": "sometimes"}, "plusptt_image_pull"),
    ("registry mirror without scheme", {"docker_registry_mirrors": ["mirror.example.org:5000"]},
     "docker_registry_mirrors"),
    ("registry mirror with a path", {"docker_registry_mirrors": ["https://mirror.example.org/v2/"]},
     "docker_registry_mirrors"),
    ("mirror without scheme", {"docker_registry_mirrors": ["mirror.example.org"]}, "docker_registry_mirrors"),
    ("registry CA file that does not exist",
     {"docker_registry_ca_certs": {"mirror.example.org:5000": "/nonexistent/ca.crt"}}, "docker_registry_ca_certs"),
    ("registry CA keyed by a URL", {"docker_registry_ca_certs": {"https://mirror.example.org": "/etc/hostname"}},
     "docker_registry_ca_certs"),
    ("registry CA as a list", {"docker_registry_ca_certs": ["/etc/hostname"]}, "docker_registry_ca_certs"),
    ("old Compose", {"docker_compose_min_version": "2.17.3"}, "docker_compose_min_version"),
    ("ACME for localhost", {"plusptt_ssl_acme": True, "nginx_acme_email": "ops@example.org",
                            "nginx_acme_http_port_override": "forwarded"}, "plusptt_domain"),
    ("ACME for an IP address", {"plusptt_ssl_acme": True, "plusptt_domain": "192.0.2.10",
                                "nginx_acme_email": "ops@example.org",
                                "nginx_acme_http_port_override": "forwarded"}, "plusptt_domain"),
    ("ACME without an email", {"plusptt_ssl_acme": True, "plusptt_domain": "ptt.example.org",
                               "nginx_acme_http_port_override": "forwarded"}, "nginx_acme_email"),
    ("ACME with HTTP off port 80 and no reason", {"plusptt_ssl_acme": True, "plusptt_domain": "ptt.example.org",
                                                  "nginx_acme_email": "ops@example.org"},
     "nginx_acme_http_port_override"),
    ("ACME beside a given certificate", {"plusptt_ssl_acme": True, "plusptt_ssl_cert": "/etc/hostname",
                                         "plusptt_ssl_key": "/etc/hostname", "plusptt_domain": "ptt.example.org",
                                         "nginx_acme_email": "ops@example.org",
                                         "nginx_acme_http_port_override": "forwarded"}, "plusptt_ssl_cert"),
    ("ACME without SSL", {"plusptt_ssl_acme": True, "plusptt_ssl_enabled": False, "plusptt_ssl_self_signed": False,
                          "plusptt_public_url": "http://ptt.example.org", "supabase_site_url": "http://ptt.example.org",
                          "supabase_api_external_url": "http://ptt.example.org/auth/v1",
                          "plusptt_domain": "ptt.example.org", "nginx_acme_email": "ops@example.org",
                          "nginx_acme_http_port_override": "forwarded"}, "plusptt_ssl_enabled"),
    ("ACME directory on http", {"plusptt_ssl_acme": True, "plusptt_domain": "ptt.example.org",
                                "nginx_acme_email": "ops@example.org", "nginx_acme_http_port_override": "fw",
                                "nginx_acme_directory": "http://acme.example.org/dir"}, "nginx_acme_directory"),
    ("ACME renewal window of 90 days", {"plusptt_ssl_acme": True, "plusptt_domain": "ptt.example.org",
                                        "nginx_acme_email": "ops@example.org",
                                        "nginx_acme_http_port_override": "fw", "nginx_acme_renew_days": 90},
     "nginx_acme_renew_days"),
    ("ACME CA bundle missing", {"plusptt_ssl_acme": True, "plusptt_domain": "ptt.example.org",
                                "nginx_acme_email": "ops@example.org", "nginx_acme_http_port_override": "fw",
                                "nginx_acme_ca_bundle": "/nonexistent/ca.pem"}, "nginx_acme_ca_bundle"),
    ("image registry with a scheme", {"plusptt_image_registry": "https://registry.example.org"},
     "plusptt_image_registry"),
    ("image registry with a path", {"plusptt_image_registry": "registry.example.org/team"}, "plusptt_image_registry"),
    ("image registry with a newline", {"plusptt_image_registry": "registry.example.org\n"},
     "plusptt_image_registry"),
    ("registry login without a password",
     {"docker_registry_auth": [{"registry": "registry.example.org:5000", "username": "deploy"}]},
     "docker_registry_auth"),
    ("registry login for a URL",
     {"docker_registry_auth": [{"registry": "https://registry.example.org", "username": "d", "password": "p"}]},
     "docker_registry_auth"),
    ("log size without a number", {"plusptt_log_max_size": "big"}, "plusptt_log_max_size"),
    ("log size with a unit docker does not read", {"plusptt_log_max_size": "10q"}, "plusptt_log_max_size"),
    ("log size of zero", {"plusptt_log_max_size": "0m"}, "plusptt_log_max_size"),
    ("log size with a newline", {"plusptt_log_max_size": "10m\n"}, "plusptt_log_max_size"),
    ("no log file kept", {"plusptt_log_max_file": 0}, "plusptt_log_max_file"),
    ("log files as a word", {"plusptt_log_max_file": "five"}, "plusptt_log_max_file"),
    ("daemon options as a list", {"docker_daemon_options": ["mtu=1400"]}, "docker_daemon_options"),
    ("daemon option with a space in its name", {"docker_daemon_options": {"live restore": True}},
     "docker_daemon_options"),
    ("daemon option that is no JSON value", {"docker_daemon_options": {"mtu": float("nan")}},
     "docker_daemon_options"),
    ("extra env of an unknown service", {"supabase_extra_env": {"gotrue": {"A": "1"}}}, "supabase_extra_env"),
    ("extra env with a boolean", {"supabase_extra_env": {"auth": {"GOTRUE_X": True}}}, "supabase_extra_env"),
    ("extra env name with a space", {"livekit_extra_env": {"livekit": {"LOG LEVEL": "x"}}}, "livekit_extra_env"),
    ("extra env as a list", {"backend_extra_env": ["A=1"]}, "backend_extra_env"),
    ("extra env with a list value", {"backend_extra_env": {"HOSTS": ["a", "b"]}}, "backend_extra_env"),
    ("public URL with a dollar", {"plusptt_public_url": "https://ptt.example.org/$x"}, "plusptt_public_url"),
    ("public URL with a quote", {"plusptt_public_url": "https://ptt.example.org/'"}, "plusptt_public_url"),
    ("public URL with a semicolon", {"plusptt_public_url": "https://ptt.example.org/;x"}, "plusptt_public_url"),
    ("CORS origin with a dollar", {"plusptt_cors_origins": ["https://$host"]}, "plusptt_cors_origins"),
    ("CORS origin with a hash", {"plusptt_cors_origins": ["https://ptt.example.org#"]}, "plusptt_cors_origins"),
    ("nginx worker group as a name", {"nginx_worker_gid": "nginx"}, "nginx_worker_gid"),
    ("relative backend source", {"backend_source_dir": "apps/backend"}, "backend_source_dir"),
    ("missing frontend source", {"frontend_source_dir": "/nonexistent/frontend"}, "frontend_source_dir"),
    ("source with a trailing slash", {"backend_source_dir": "/tmp/"}, "backend_source_dir"),
    ("relative certificate", {"plusptt_ssl_cert": "certs/ptt.pem", "plusptt_ssl_key": "/etc/hostname"},
     "plusptt_ssl_cert"),
    ("missing certificate key", {"plusptt_ssl_cert": "/etc/hostname", "plusptt_ssl_key": "/nonexistent/key.pem"},
     "plusptt_ssl_key"),
    ("relative build CA bundle", {"plusptt_build_ca_bundle": "ca.pem"}, "plusptt_build_ca_bundle"),
    ("publish address not an IP", {"plusptt_publish_address": "everywhere"}, "plusptt_publish_address"),
    ("publish address with a newline", {"plusptt_publish_address": "127.0.0.1\n"}, "plusptt_publish_address"),
    ("publish address out of range", {"plusptt_publish_address": "300.1.1.1"}, "plusptt_publish_address"),
    ("reversed UDP range", {"livekit_port_range_start": 50100, "livekit_port_range_end": 50000},
     "livekit_port_range_start"),
    ("UDP range holding TURN", {"livekit_port_range_start": 3000, "livekit_port_range_end": 4000},
     "livekit_turn_udp_port"),
    ("UDP range holding the RTC TCP port", {"livekit_port_range_start": 7000, "livekit_port_range_end": 7999},
     "livekit_rtc_tcp_port"),
    ("UDP range too large", {"livekit_port_range_start": 20000, "livekit_port_range_end": 40000},
     "livekit_port_range_end"),
    ("UDP range past 65535", {"livekit_port_range_start": 65000, "livekit_port_range_end": 70000},
     "livekit_port_range_end"),
    ("privileged UDP range", {"livekit_port_range_start": 100, "livekit_port_range_end": 200},
     "livekit_port_range_start"),
    ("LiveKit TCP port on the HTTPS port", {"livekit_rtc_tcp_port": 8443}, "livekit_rtc_tcp_port"),
    ("LiveKit TCP port on the signalling port", {"livekit_rtc_tcp_port": 7880}, "livekit_rtc_tcp_port"),
    ("LiveKit signalling port 0", {"livekit_port": 0}, "livekit_port"),
    ("published signalling on the HTTP port", {"livekit_publish_signalling": True, "livekit_port": 8080},
     "livekit_port"),
    ("TURN UDP port 70000", {"livekit_turn_udp_port": 70000}, "livekit_turn_udp_port"),
    ("TURN over TLS inside the UDP range", {"livekit_turn_tls_port": 50005}, "livekit_turn_tls_port"),
    ("TURN over TLS on the HTTPS port", {"livekit_turn_tls_port": 8443}, "livekit_turn_tls_port"),
    ("TURN over TLS on 443 on the host network", {"livekit_turn_tls_port": 443, "plusptt_livekit_network": "host"},
     "livekit_turn_tls_port"),
    ("TURN over TLS on port 70000", {"livekit_turn_tls_port": 70000}, "livekit_turn_tls_port"),
    ("unknown LiveKit network mode", {"livekit_network_mode": "overlay"}, "livekit_network_mode"),
    ("frontend on the HTTP port", {"frontend_port": 8080}, "frontend_port"),
    ("frontend port 0", {"frontend_port": 0}, "frontend_port"),
    ("negative room size", {"livekit_room_max_participants": -1}, "livekit_room_max_participants"),
    ("negative empty timeout", {"livekit_room_empty_timeout": -5}, "livekit_room_empty_timeout"),
    ("malformed node IP", {"livekit_node_ip": "not-an-ip"}, "livekit_node_ip"),
    ("node IP of hex letters", {"livekit_node_ip": "abc"}, "livekit_node_ip"),
    ("unknown log level", {"livekit_log_level": "verbose"}, "livekit_log_level"),
    ("short JWT secret", {"secrets_jwt_secret": "too-short-for-hs256"}, "secrets_jwt_secret"),
    ("short passwords", {"secrets_password_length": 16}, "secrets_password_length"),
    ("no LiveKit key", {"secrets_livekit_key_count": 0}, "secrets_livekit_key_count"),
    ("API keys of no day", {"secrets_jwt_expires_in_days": 0}, "secrets_jwt_expires_in_days"),
    ("bad dashboard user", {"secrets_dashboard_username": "ops team"}, "secrets_dashboard_username"),
    ("dashboard user with a dollar", {"secrets_dashboard_username": "ops$"}, "secrets_dashboard_username"),
    ("certificate without key", {"plusptt_ssl_cert": "/etc/ssl/certs/ca-certificates.crt"}, "plusptt_ssl_key"),
    ("key without certificate", {"plusptt_ssl_key": "/etc/hostname"}, "plusptt_ssl_cert"),
    ("SSL without certificate", {"plusptt_ssl_self_signed": False}, "plusptt_ssl_self_signed"),
    ("malformed memory limit", {"supabase_resources": {"db": {"cpus": "2", "memory": "2 gigs"}}},
     "supabase_resources"),
    ("malformed CPU limit", {"backend_resources": {"cpus": "lots", "memory": "1G"}}, "backend_resources"),
    ("unknown limit", {"nginx_resources": {"cpus": "1", "disk": "1G"}}, "nginx_resources"),
    ("storage on without its health checks", {"supabase_storage_enabled": True,
                                              "supabase_healthchecks": {"db": ["CMD", "true"]}},
     "supabase_healthchecks"),
    ("image without tag", {"supabase_auth_image": "supabase/gotrue"}, "supabase_auth_image"),
    ("image on latest", {"livekit_image": "livekit/livekit-server:latest"}, "livekit_image"),
    ("nginx image without tag", {"nginx_image": "nginx"}, "nginx_image"),
    ("image with a space", {"frontend_nginx_image": "nginx:1.27 -alpine"}, "frontend_nginx_image"),
    ("given app image without tag", {"backend_image": "registry.example.org/ptt/backend"}, "backend_image"),
    ("non-numeric worker count", {"backend_gunicorn_workers": "many"}, "backend_gunicorn_workers"),
    ("zero workers", {"backend_gunicorn_workers": 0}, "backend_gunicorn_workers"),
    ("port out of range", {"backend_port": 70000}, "backend_port"),
    ("zero replicas", {"backend_replicas": 0}, "backend_replicas"),
    ("published web app with replicas", {"frontend_replicas": 2, "frontend_publish": True}, "frontend_replicas"),
    ("no allowed host", {"backend_allowed_hosts": []}, "backend_allowed_hosts"),
    ("backend user with a quote", {"backend_db_user": "ptt'"}, "backend_db_user"),
    ("old TLS protocol", {"nginx_ssl_protocols": "TLSv1 TLSv1.2"}, "nginx_ssl_protocols"),
    ("no TLS protocol", {"nginx_ssl_protocols": ""}, "nginx_ssl_protocols"),
    ("malformed body size", {"nginx_client_max_body_size": "big"}, "nginx_client_max_body_size"),
    ("unknown package source", {"docker_package_source": "snap"}, "docker_package_source"),
    ("too short JWT expiry", {"supabase_jwt_expiry": 10}, "supabase_jwt_expiry"),
    ("unknown capability", {"livekit_cap_add": {"livekit": [], "redis": ["SUPERPOWER"]}}, "livekit_cap_add"),
    ("capability with its prefix", {"nginx_cap_add": ["CAP_NET_BIND_SERVICE"]}, "nginx_cap_add"),
    ("capabilities as one string", {"backend_cap_add": "CHOWN"}, "backend_cap_add"),
    ("negative lock timeout", {"plusptt_lock_timeout": -1}, "plusptt_lock_timeout"),
    ("zero health timeout", {"plusptt_health_timeout": 0}, "plusptt_health_timeout"),
    ("pip index without scheme", {"plusptt_pip_index_url": "pypi.example.org/simple/"}, "plusptt_pip_index_url"),
    ("pip index on ftp", {"plusptt_pip_index_url": "ftp://user:%s@pypi.example.org/simple/" % SECRET},
     "plusptt_pip_index_url"),
    ("npm registry without host", {"plusptt_npm_registry": "https:///npm/"}, "plusptt_npm_registry"),
    ("npm registry with a space", {"plusptt_npm_registry": "https://npm.example.org/my registry/"},
     "plusptt_npm_registry"),
    ("backup folder is /tmp", {"backup_dir": "/tmp"}, "backup_dir"),
    ("backup folder is relative", {"backup_dir": "backups"}, "backup_dir"),
    ("no backup kept", {"backup_keep": 0}, "backup_keep"),
    ("backup of a database with a hyphen", {"backup_databases": ["app-db"]}, "backup_databases"),
    ("restore name not a backup", {"backup_restore_name": "latest"}, "backup_restore_name"),
    ("backup hour 24", {"backup_schedule_hour": "24"}, "backup_schedule_hour"),
    ("backup minute of a word", {"backup_schedule_minute": "@daily"}, "backup_schedule_minute"),
    ("backup minute with a newline", {"backup_schedule_minute": "15\n* * * * root rm -rf /"},
     "backup_schedule_minute"),
    ("firewall on of a word", {"firewall_enabled": "sometimes"}, "firewall_enabled"),
    ("SSH port 70000", {"firewall_ssh_port": 70000}, "firewall_ssh_port"),
    ("SSH port 0", {"firewall_ssh_port": 0}, "firewall_ssh_port"),
    ("public TCP port 70000", {"firewall_public_ports": {"tcp": [70000], "udp": []}}, "firewall_public_ports"),
    ("public TCP port 0", {"firewall_public_ports": {"tcp": [0], "udp": []}}, "firewall_public_ports"),
    ("public UDP range backwards", {"firewall_public_ports": {"tcp": [], "udp": ["60000-50000"]}},
     "firewall_public_ports"),
    ("public UDP range with a $", {"firewall_public_ports": {"tcp": [], "udp": ["5000$-6000"]}},
     "firewall_public_ports"),
    ("public ports with a newline", {"firewall_public_ports": {"tcp": ["7881\n"], "udp": []}},
     "firewall_public_ports"),
    ("public ports of another protocol", {"firewall_public_ports": {"sctp": [5000]}}, "firewall_public_ports"),
    ("public ports as a list", {"firewall_public_ports": [7881]}, "firewall_public_ports"),
    ("firewall rule of two statements", {"firewall_extra_rules": ["tcp dport 8080 accept; drop"]},
     "firewall_extra_rules"),
    ("firewall rules as one string", {"firewall_extra_rules": "tcp dport 8080 accept"}, "firewall_extra_rules"),
    ("firewall rules file of the host", {"firewall_rules_file": "/etc/nftables.conf"}, "firewall_rules_file"),
    ("firewall rules file relative", {"firewall_rules_file": "plusptt.nft"}, "firewall_rules_file"),
]


def test_the_valid_settings_have_no_problem():
    assert problems() == []


@pytest.mark.parametrize("overrides, variable", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_bad_value_is_named_alone(overrides, variable):
    found = problems(**overrides)
    assert len(found) == 1, found
    assert names_in(found[0]) == {variable}, found[0]


@pytest.mark.parametrize("variable, value", [
    ("plusptt_pip_index_url", "ftp://user:%s@pypi.example.org/simple/" % SECRET),
    ("plusptt_npm_registry", "https://user:%s@npm example.org/" % SECRET),
    ("secrets_jwt_secret", SECRET),
])
def test_a_value_that_may_hold_a_password_is_not_shown(variable, value):
    found = problems(**{variable: value})
    assert found and SECRET not in " ".join(found)


@pytest.mark.parametrize("overrides", [
    {"plusptt_root": "/srv/plusptt"}, {"plusptt_publish_address": "::1"}, {"plusptt_publish_address": "0.0.0.0"},
    {"plusptt_http_port": "80", "plusptt_https_port": "443"}, {"livekit_node_ip": "2001:db8::7"},
    {"plusptt_image_registry": "registry.example.org:5000"}, {"backup_schedule_hour": "*/6"},
    {"docker_registry_mirrors": ["https://mirror.example.org:5000/"]}, {"livekit_turn_tls_port": 0},
    {"backend_image": "registry.example.org/ptt/backend@sha256:" + "a" * 64},
    {"plusptt_pip_index_url": "https://user:token@pypi.example.org/simple/"},
    {"firewall_ssh_port": ""}, {"firewall_ssh_port": "2222"},
    {"firewall_public_ports": {"tcp": [7881, "5349"], "udp": ["50000-60000", 3478]}}, {"plusptt_log_max_size": "1g"},
    {"plusptt_log_max_size": 500}, {"plusptt_log_max_file": "3"},
    {"supabase_extra_env": {"auth": {"GOTRUE_SMTP_MAX_FREQUENCY": 60, "GOTRUE_X": "p$ss #1"}}},
    {"backend_extra_env": {"DJANGO_LOG_LEVEL": "INFO"}},
    {"plusptt_cors_origins": ["https://[2001:db8::1]:8443", "http://ptt.example.org"]},
    {"plusptt_public_url": "https://ptt.example.org:8443/app"},
    {"supabase_site_url": "https://ptt.example.org/#/login"}, {"backend_source_dir": "/tmp"},
    {"plusptt_build_ca_bundle": "/etc/hostname"},
    {"docker_daemon_options": {"mtu": 1400, "log-opts": {"max-size": "20m"}, "features": {"buildkit": True}}},
])
def test_valid_variants_pass(overrides):
    assert problems(**overrides) == []


def test_every_rule_is_checked_by_a_preflight():
    # The renamed settings are passed by renamed_settings (below), the others by name.
    assert set(rules.RULES) - CHECKED - set(rules.RENAMED) == set()
    shared = (REPO / "roles" / "plusptt" / "tasks" / "preflight.yml").read_text(encoding="utf-8")
    assert "hostvars[inventory_hostname] | plusptt.deploy.renamed_settings" in shared


@pytest.mark.parametrize("old, new", sorted(rules.RENAMED.items()))
def test_a_setting_under_its_old_name_is_refused_naming_the_new_one(old, new):
    given = rules.renamed_settings({old: "anything", "plusptt_domain": "ptt.example.org"})
    assert given == {old: None}
    found = rules.settings_problems(given)
    assert found == ["%s is now called %s (it belongs to the role that reads it): rename it in the inventory."
                     % (old, new)]


def test_no_renamed_setting_given_is_no_problem():
    assert rules.renamed_settings({"nginx_acme_email": "ops@example.org", "backup_dir": "/srv/backups"}) == {}


def test_a_rule_that_reads_a_variable_the_check_does_not_pass_is_an_error():
    with pytest.raises(AnsibleFilterError, match="plusptt_http_port"):
        rules.settings_problems({"plusptt_https_port": 8443})


def test_a_variable_without_a_rule_is_an_error():
    with pytest.raises(AnsibleFilterError, match="no rule checks plusptt_colour"):
        rules.settings_problems({"plusptt_colour": "blue"})
