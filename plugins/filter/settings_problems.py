# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The value checks of every role's settings, one rule per variable (plusptt.deploy.settings_problems).

Each role's preflight passes the variables it owns (checked) and the shared ones its rules compare against
(context); every problem is one sentence that names the one variable at fault and how to fix it. Patterns
match the whole value (a trailing newline is refused), and values that may hold a password are never shown.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# Docker's spelling, without the CAP_ prefix: what a service may add back after cap_drop ALL.
CAPABILITIES = frozenset((
    "AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF CHECKPOINT_RESTORE CHOWN DAC_OVERRIDE "
    "DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD "
    "NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW PERFMON SETFCAP SETGID SETPCAP SETUID SYS_ADMIN SYS_BOOT "
    "SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG SYSLOG "
    "WAKE_ALARM").split())
# Folders of the host's own system: a setting naming one (or a file directly in one) would have the
# collection change its mode or, on teardown, delete what the host needs.
# Names to refuse, not files this code opens (hence the noqa on the temporary folders).
SYSTEM_FOLDERS = frozenset(("/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media",
                            "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/usr/local",
                            "/var", "/var/lib", "/var/log", "/var/backups",
                            "/tmp", "/var/tmp"))  # noqa: S108

IDENTIFIER = r"[a-z_][a-z0-9_]{0,62}"
HOST_PORT = r"[A-Za-z0-9.-]+(:[0-9]{1,5})?"
HTTP_URL = r"https?://\S+"
# URLs written into compose files and gateway or nginx configurations: no $, #, quote, ; or brace.
CONFIG_URL_CHARS = r"[A-Za-z0-9._~:/?&=%+@!*,()\[\]-]+"
ORIGIN = r"https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?"
# An index URL, a login allowed before the host: user:token@ (shown masked, never as given).
INDEX_URL = r"https?://([^/@\s]+@)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/\S*)?"
DOMAIN = r"localhost|[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
IMAGE = r"[a-z0-9][^\s:@]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?"
CRON_FIELD = r"[0-9*,/-]+"

RULES = {}


def rule(*names):
    """Register a rule for variables; it returns the problem (a sentence naming the variable) or None."""
    def register(function):
        for name in names:
            RULES[name] = function
        return function
    return register


def full(pattern, value):
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def whole(value):
    """The int of a whole number given as an int or as digits (booleans are no numbers), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return None


def boolean(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "yes", "on", "1")


def is_list(value):
    return isinstance(value, (list, tuple))


def is_ip(value):
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def shown(value):
    return repr(value) if not isinstance(value, str) else "'%s'" % value


def in_range(name, value, low, high, what):
    number = whole(value)
    if number is None or not low <= number <= high:
        return "%s must be %s, a whole number from %d to %d (got %s)." % (name, what, low, high, shown(value))
    return None


def port(name, value):
    return in_range(name, value, 1, 65535, "a TCP/UDP port")


def media_range(get):
    start, end = whole(get("livekit_port_range_start")), whole(get("livekit_port_range_end"))
    return range(start, end + 1) if start is not None and end is not None else range(0)


# Paths land in compose files, shell commands and nft: plain characters only ($, #, quotes would be rewritten).
PATH_CHARS = r"/[A-Za-z0-9._@+/-]*[A-Za-z0-9._@+-]"


def absolute_path(name, value, what):
    if not full(PATH_CHARS, value) or "/../" in value + "/" or "/./" in value + "/":
        return ("%s must be the absolute path of %s: letters, digits and . _ @ + - only, no trailing slash "
                "(got %s)." % (name, what, shown(value)))
    if os.path.normpath(value) in SYSTEM_FOLDERS:
        return ("%s is %s, a folder of the host's own system: give the collection a folder of its own, e.g. "
                "%s/plusptt." % (name, value, value.rstrip("/")))
    return None


ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def environment(name, value, example):
    """A mapping of environment variable names to strings or numbers (Compose refuses booleans and lists)."""
    if not isinstance(value, Mapping):
        return "%s must map environment variable names to values, e.g. %s (got %s)." % (name, example, shown(value))
    for key, setting in value.items():
        if not full(ENV_NAME, key):
            return "%s holds environment variable names (letters, digits, _), e.g. %s (got the key %s)." % (
                name, example, shown(key))
        if isinstance(setting, bool) or not isinstance(setting, (str, int, float)):
            return "%s.%s must be a string or a number; quote a word like \"true\" (got %s)." % (
                name, key, type(setting).__name__)
    return None


def service_environments(name, value, services, example):
    if not isinstance(value, Mapping) or set(value) - set(services):
        return "%s is keyed by service: %s (got %s)." % (
            name, ", ".join(services), shown(sorted(value) if isinstance(value, Mapping) else value))
    for service, variables in value.items():
        problem = environment("%s.%s" % (name, service), variables, example)
        if problem:
            return problem
    return None


# Settings that moved to the role that reads them (2.0.0): old name -> new name. The shared preflight passes
# each old name the inventory still sets (renamed_settings), so a run refuses it instead of ignoring it.
RENAMED = {
    "plusptt_acme_email": "nginx_acme_email",
    "plusptt_acme_directory": "nginx_acme_directory",
    "plusptt_acme_ca_bundle": "nginx_acme_ca_bundle",
    "plusptt_acme_renew_days": "nginx_acme_renew_days",
    "plusptt_acme_http_port_override": "nginx_acme_http_port_override",
    "plusptt_backup_dir": "backup_dir",
}


@rule(*RENAMED)
def _renamed(name, value, get):
    return "%s is now called %s (it belongs to the role that reads it): rename it in the inventory." % (
        name, RENAMED[name])


def renamed_settings(variables):
    """old name -> None for each renamed setting among variables (a host's hostvars, or any mapping of names)."""
    return {name: None for name in RENAMED if name in variables}


# The shared settings (roles/plusptt) -------------------------------------------------------------------

@rule("plusptt_root")
def _root(name, value, get):
    return absolute_path(name, value, "the folder the deployment lives in")


@rule("backup_dir")
def _backup_dir(name, value, get):
    return absolute_path(name, value, "the folder the backups are kept in")


@rule("plusptt_domain")
def _domain(name, value, get):
    if not full(DOMAIN, value):
        return "%s must be the DNS name clients use, e.g. ptt.example.org (got %s)." % (name, shown(value))
    if acme(get) and (value == "localhost" or "." not in value or re.fullmatch(r"[0-9.]+", value)):
        return ("%s must be a public DNS name the ACME CA can reach for an ACME certificate, not localhost or an "
                "IP address (got %s); a lab takes the private CA's certificate instead." % (name, shown(value)))
    return None


@rule("plusptt_cors_origins")
def _cors(name, value, get):
    if not is_list(value) or not all(full(ORIGIN, origin) for origin in value):
        return ("%s must be a list of origins, each scheme://host[:port] with no path, e.g. "
                "[https://ptt.example.org] (got %s)." % (name, shown(value)))
    return None


@rule("plusptt_http_port", "backend_port")
def _port(name, value, get):
    return port(name, value)


@rule("plusptt_https_port")
def _https_port(name, value, get):
    if whole(value) is not None and whole(value) == whole(get("plusptt_http_port")):
        return "%s must differ from the HTTP port (both are %s)." % (name, value)
    return port(name, value)


@rule("plusptt_public_url")
def _public_url(name, value, get):
    scheme = (r"https://" if boolean(get("plusptt_ssl_enabled")) else r"https?://") + CONFIG_URL_CHARS
    if not full(scheme, value):
        return ("%s must be the %s URL clients open, without $, #, quotes, ; or braces (it is written into the "
                "gateway and nginx configurations; got %s)." % (
                    name, "https://" if boolean(get("plusptt_ssl_enabled")) else "http(s)://", shown(value)))
    return None


@rule("plusptt_image_pull")
def _image_pull(name, value, get):
    if value not in ("missing", "always", "never"):
        return "%s is missing, always or never (got %s)." % (name, shown(value))
    return None


@rule("plusptt_publish_address")
def _publish_address(name, value, get):
    if not is_ip(value):
        return "%s must be an IP address, e.g. 0.0.0.0 or 127.0.0.1 (got %s)." % (name, shown(value))
    return None


@rule("plusptt_image_registry")
def _image_registry(name, value, get):
    if not (value == "" or full(HOST_PORT, value)):
        return ("%s is the host[:port] of the registry every image is pulled from, with no scheme and no path, "
                "e.g. registry.example.org:5000, or empty (got %s); a Docker Hub mirror is the Docker role's "
                "registry mirror setting instead." % (name, shown(value)))
    return None


@rule("plusptt_lock_timeout")
def _lock_timeout(name, value, get):
    return in_range(name, value, 0, 86400, "the seconds a run waits for another run's host lock")


@rule("plusptt_health_timeout")
def _health_timeout(name, value, get):
    return in_range(name, value, 1, 86400, "the seconds to wait for healthy services")


def controller_file(name, value, what):
    """Empty, or the absolute path of an existing file on the controller (a relative one would be looked up in
    the roles' folders by some tasks and in the working folder by others)."""
    if value and not (full(r"/\S+", value) and os.path.isfile(value)):
        return "%s must be empty or the absolute path of %s on the controller (got %s)." % (name, what, shown(value))
    return None


@rule("plusptt_ssl_key")
def _ssl_key(name, value, get):
    if get("plusptt_ssl_cert") and not value:
        return "%s is empty while a certificate is given: set it to the path of the certificate's key." % name
    return controller_file(name, value, "the certificate's key (PEM)")


@rule("plusptt_build_ca_bundle")
def _build_ca_bundle(name, value, get):
    return controller_file(name, value, "a PEM bundle the app builds trust")


@rule("backend_source_dir", "frontend_source_dir")
def _source_dir(name, value, get):
    if value and not (full(r"/\S*[^/\s]", value) and os.path.isdir(value)):
        return ("%s must be empty (the sample app) or the absolute path of the app's folder on the controller, "
                "without a trailing slash (got %s)." % (name, shown(value)))
    return None


@rule("plusptt_ssl_cert")
def _ssl_cert(name, value, get):
    if value and boolean(get("plusptt_ssl_acme")):
        return "%s is set while the certificate comes from ACME: leave it empty, or turn ACME off." % name
    if get("plusptt_ssl_key") and not value:
        return "%s is empty while a key is given: set it to the path of the certificate." % name
    return controller_file(name, value, "the certificate (PEM)")


@rule("plusptt_ssl_self_signed")
def _self_signed(name, value, get):
    if (boolean(get("plusptt_ssl_enabled")) and not boolean(value) and not boolean(get("plusptt_ssl_acme"))
            and not get("plusptt_ssl_cert")):
        return ("%s is off and no certificate is given: set it to true to have the host's private CA issue one "
                "(or ask for an ACME certificate, or give a certificate and its key)." % name)
    return None


# ACME certificates (roles/nginx), checked when plusptt_ssl_acme is on -----------------------------------

def acme(get):
    return boolean(get("plusptt_ssl_acme"))


@rule("plusptt_ssl_enabled")
def _ssl_enabled(name, value, get):
    if acme(get) and not boolean(value):
        return "%s is off, but an ACME certificate is asked for: set it to true." % name
    return None


@rule("nginx_acme_email")
def _acme_email(name, value, get):
    if acme(get) and not full(r"[^@\s]+@[^@\s]+[.][^@\s]+", value):
        return ("%s must be the ACME account's contact address for expiry notices (got %s)."
                % (name, shown(value)))
    return None


@rule("nginx_acme_directory")
def _acme_directory(name, value, get):
    if acme(get) and not full(r"https://\S+", value):
        return "%s must be the https:// URL of an ACME directory (got %s)." % (name, shown(value))
    return None


@rule("nginx_acme_renew_days")
def _acme_renew_days(name, value, get):
    return in_range(name, value, 1, 60, "the days before expiry a certificate is renewed") if acme(get) else None


@rule("nginx_acme_http_port_override")
def _acme_http_port(name, value, get):
    http = whole(get("plusptt_http_port"))
    if acme(get) and http != 80 and not value:
        return ("The ACME CA checks the HTTP-01 challenge on port 80, but HTTP is published on %s: set %s to the "
                "reason port 80 still reaches nginx (e.g. \"the load balancer forwards 80 to %s\"), or publish "
                "HTTP on 80." % (http, name, http))
    return None


@rule("nginx_acme_ca_bundle")
def _acme_ca_bundle(name, value, get):
    if acme(get) and value and not (full(r"/\S+", value) and os.path.isfile(value)):
        return "%s must be empty or the absolute path of a PEM file on the controller (got %s)." % (
            name, shown(value))
    return None


# nginx ---------------------------------------------------------------------------------------------------

@rule("plusptt_log_max_size")
def _log_max_size(name, value, get):
    if not full(r"[1-9][0-9]{0,5}[kmg]?", str(value)) or isinstance(value, bool):
        return "%s is the size a container log is rotated at, a whole number with k, m or g, e.g. 10m (got %s)." % (
            name, shown(value))
    return None


@rule("plusptt_log_max_file")
def _log_max_file(name, value, get):
    return in_range(name, value, 1, 100, "the number of log files kept per container")


@rule("nginx_client_max_body_size")
def _body_size(name, value, get):
    if not full(r"[0-9]+[kKmMgG]?", str(value)):
        return "%s is a size like 25m (got %s)." % (name, shown(value))
    return None


@rule("nginx_ssl_protocols")
def _ssl_protocols(name, value, get):
    protocols = str(value).split()
    if not protocols or set(protocols) - {"TLSv1.2", "TLSv1.3"}:
        return "%s holds only TLSv1.2 and TLSv1.3 (got %s)." % (name, shown(value))
    return None


@rule("nginx_upstreams")
def _upstreams(name, value, get):
    if not isinstance(value, Mapping) or sorted(value) != ["backend", "frontend", "gateway", "livekit", "studio"]:
        return "%s names backend, frontend, gateway, livekit and studio." % name
    return None


# Supabase ------------------------------------------------------------------------------------------------

@rule("supabase_site_url", "supabase_api_external_url")
def _supabase_url(name, value, get):
    if boolean(get("plusptt_ssl_enabled")):
        if not full(r"https://\S+", value):
            return "%s must be an https:// URL, as SSL is on (got %s)." % (name, shown(value))
    elif not full(HTTP_URL, value):
        return "%s must be an http(s) URL (got %s)." % (name, shown(value))
    return None


@rule("supabase_additional_redirect_urls")
def _redirect_urls(name, value, get):
    if not is_list(value) or not all(full(HTTP_URL, url) and "," not in url for url in value):
        return "%s must be a list of http(s) URLs, none holding a comma (got %s)." % (name, shown(value))
    return None


@rule("supabase_jwt_expiry")
def _jwt_expiry(name, value, get):
    return in_range(name, value, 60, 31536000, "the seconds a user's token lasts")


@rule("supabase_db_name", "backend_db_name", "backend_db_user")
def _identifier(name, value, get):
    if not full(IDENTIFIER, value):
        return "%s must be a plain PostgreSQL name: lower-case letters, digits and _ (got %s)." % (name, shown(value))
    return None


@rule("supabase_gateway")
def _gateway(name, value, get):
    if value not in ("envoy", "kong"):
        return "%s is envoy or kong (got %s)." % (name, shown(value))
    return None


@rule("supabase_envoy_uid")
def _envoy_uid(name, value, get):
    return in_range(name, value, 0, 2147483647, "the numeric uid Envoy runs as")


@rule("nginx_worker_gid")
def _nginx_worker_gid(name, value, get):
    return in_range(name, value, 0, 2147483647, "the numeric gid of nginx's workers")


@rule("supabase_envoy_admin_port")
def _envoy_admin_port(name, value, get):
    if whole(value) == 8000:
        return "%s must not be 8000, the gateway's API port." % name
    return port(name, value)


@rule("supabase_extra_env")
def _supabase_extra_env(name, value, get):
    services = ("db", "auth", "rest", "realtime", "meta", "studio", "storage", "imgproxy", "envoy", "kong")
    return service_environments(name, value, services, '{auth: {GOTRUE_MAILER_SUBJECTS_INVITE: "Join"}}')


@rule("supabase_storage_file_size_limit")
def _file_size_limit(name, value, get):
    if not full(r"[1-9][0-9]*", str(value)) or isinstance(value, bool):
        return "%s is a number of bytes, at least 1 (got %s)." % (name, shown(value))
    return None


@rule("supabase_healthchecks", "supabase_resources", "supabase_cap_add")
def _storage_keys(name, value, get):
    if name.endswith("_resources"):
        problem = resources(name, value)
        if problem:
            return problem
    if name.endswith("_cap_add"):
        problem = capabilities(name, value)
        if problem:
            return problem
    if boolean(get("supabase_storage_enabled")) and isinstance(value, Mapping):
        missing = [key for key in ("storage", "imgproxy") if key not in value]
        if missing:
            return ("%s needs the keys storage and imgproxy while storage is enabled (missing: %s); an inventory "
                    "that sets it as a whole must add them (see the role defaults)." % (name, ", ".join(missing)))
    return None


# LiveKit -------------------------------------------------------------------------------------------------

@rule("livekit_extra_env")
def _livekit_extra_env(name, value, get):
    return service_environments(name, value, ("livekit", "livekit-redis"), "{livekit: {LIVEKIT_LOG_LEVEL: debug}}")


@rule("livekit_port_range_start")
def _range_start(name, value, get):
    problem = in_range(name, value, 1024, 65535, "the first UDP port of the media range")
    if problem:
        return problem
    end = whole(get("livekit_port_range_end"))
    if end is not None and whole(value) > end:
        return "%s (%s) is above the end of the media range (%s): give the range in ascending order." % (
            name, value, end)
    return None


@rule("livekit_port_range_end")
def _range_end(name, value, get):
    problem = in_range(name, value, 1, 65535, "the last UDP port of the media range")
    if problem:
        return problem
    start = whole(get("livekit_port_range_start"))
    if start is not None and start <= whole(value) and whole(value) - start >= 10000:
        return "%s makes the media range %d ports long: keep it under 10000 ports." % (
            name, whole(value) - start + 1)
    return None


@rule("livekit_rtc_tcp_port")
def _rtc_tcp_port(name, value, get):
    problem = port(name, value)
    if problem:
        return problem
    number = whole(value)
    if number in media_range(get):
        return "%s (%s) lies inside the UDP media range: move it out." % (name, value)
    if number in (whole(get("plusptt_http_port")), whole(get("plusptt_https_port"))):
        return "%s (%s) is a port nginx publishes: choose another." % (name, value)
    if number == whole(get("livekit_port")):
        return "%s (%s) is LiveKit's signalling port too: choose another." % (name, value)
    return None


@rule("livekit_turn_udp_port")
def _turn_udp_port(name, value, get):
    if whole(value) in media_range(get):
        return "%s (%s) lies inside the UDP media range: move it out." % (name, value)
    return port(name, value)


@rule("livekit_port")
def _livekit_port(name, value, get):
    problem = port(name, value)
    if problem:
        return problem
    nginx_ports = (whole(get("plusptt_http_port")), whole(get("plusptt_https_port")))
    if boolean(get("livekit_publish_signalling")) and whole(value) in nginx_ports:
        return "%s (%s) is published and is a port nginx publishes too: choose another." % (name, value)
    return None


@rule("livekit_room_max_participants", "livekit_room_empty_timeout")
def _room(name, value, get):
    return in_range(name, value, 0, 1000000, "0 or more")


@rule("livekit_log_level")
def _log_level(name, value, get):
    if value not in ("debug", "info", "warn", "error"):
        return "%s is debug, info, warn or error (got %s)." % (name, shown(value))
    return None


@rule("livekit_node_ip")
def _node_ip(name, value, get):
    if value != "" and not is_ip(value):
        return "%s is empty (found at start) or the IP address clients reach the node on (got %s)." % (
            name, shown(value))
    return None


@rule("livekit_turn_tls_port")
def _turn_tls_port(name, value, get):
    problem = in_range(name, value, 0, 65535, "0 (off) or a TCP port")
    if problem or whole(value) == 0:
        return problem
    number = whole(value)
    if number in media_range(get) or number in (whole(get("livekit_port")), whole(get("livekit_rtc_tcp_port"))):
        return ("%s (%s) is a port LiveKit already uses (its signalling port, RTC TCP port or UDP media range): "
                "choose another." % (name, value))
    if number in (whole(get("plusptt_http_port")), whole(get("plusptt_https_port"))):
        return "%s (%s) is a port nginx publishes: choose another." % (name, value)
    caps = get("livekit_cap_add")
    added = caps.get("livekit", []) if isinstance(caps, Mapping) else []
    if number < 1024 and get("plusptt_livekit_network") == "host" and "NET_BIND_SERVICE" not in added:
        return ("%s (%s) is below 1024 on the host network: choose a port from 1024, or let the LiveKit "
                "container bind it (NET_BIND_SERVICE among its added capabilities)." % (name, value))
    return None


@rule("livekit_network_mode")
def _network_mode(name, value, get):
    if value not in ("auto", "host", "bridge"):
        return "%s is auto, host or bridge (got %s)." % (name, shown(value))
    return None


# Backend and frontend ------------------------------------------------------------------------------------

@rule("backend_extra_env")
def _backend_extra_env(name, value, get):
    return environment(name, value, "{DJANGO_LOG_LEVEL: INFO}")


@rule("backend_gunicorn_workers")
def _workers(name, value, get):
    return in_range(name, value, 1, 64, "the number of gunicorn workers")


@rule("backend_replicas", "frontend_replicas")
def _replicas(name, value, get):
    problem = in_range(name, value, 1, 16, "the number of containers")
    if problem:
        return problem
    if name == "frontend_replicas" and whole(value) > 1 and boolean(get("frontend_publish")):
        return "%s must be 1 while the web app is published on a host port: replicas cannot share it." % name
    return None


@rule("backend_allowed_hosts")
def _allowed_hosts(name, value, get):
    if not is_list(value) or not value:
        return "%s must list the host names Django answers for (got %s)." % (name, shown(value))
    return None


@rule("frontend_port")
def _frontend_port(name, value, get):
    problem = port(name, value)
    if problem:
        return problem
    if whole(value) in (whole(get("plusptt_http_port")), whole(get("plusptt_https_port"))):
        return "%s (%s) is a port nginx publishes: choose another." % (name, value)
    return None


@rule("plusptt_pip_index_url", "plusptt_npm_registry")
def _index_url(name, value, get):
    if value and not full(INDEX_URL, value):
        what = "a package index, e.g. https://pypi.example.org/simple/" if "pip" in name else \
            "an npm registry, e.g. https://npm.example.org/"
        return ("%s must be the http:// or https:// URL of %s (a login as user:token@, percent-encoded), or empty "
                "for the public one; the value given is not shown, as it may hold a password." % (name, what))
    return None


# Images, resource limits and capabilities ----------------------------------------------------------------

def image(name, value):
    if (not isinstance(value, str) or not full(IMAGE, value) or not re.search(r"[:@]", value.split("/")[-1])
            or value.endswith(":latest")):
        return ("%s must name a pinned image, repository:tag or repository@sha256:digest, not 'latest' (got %s)."
                % (name, shown(value)))
    return None


def resources(name, value):
    """name: {service: {cpus, memory}}, or one service's limits for the single-service roles."""
    if not isinstance(value, Mapping):
        return "%s must be a mapping (got %s)." % (name, shown(value))
    services = value if all(isinstance(item, Mapping) for item in value.values()) and value else {"": value}
    for service, limits in services.items():
        label = "%s.%s" % (name, service) if service else name
        if (not isinstance(limits, Mapping) or set(limits) - {"cpus", "memory", "pids"}
                or ("cpus" in limits and not full(r"[0-9]+(\.[0-9]+)?", str(limits["cpus"])))
                or ("memory" in limits and not full(r"[0-9]+(\.[0-9]+)?[bkmgBKMG]", str(limits["memory"])))):
            return ("%s must be a mapping with cpus (a number, e.g. \"1.5\") and memory (a size with a unit, e.g. "
                    "512M or 2G); got %s." % (label, shown(limits)))
    return None


def capabilities(name, value):
    """name: a list of capabilities, or service -> list."""
    lists = value if isinstance(value, Mapping) else {"": value}
    for service, names in lists.items():
        label = "%s.%s" % (name, service) if service else name
        if not is_list(names) or set(map(str, names)) - CAPABILITIES:
            return ("%s must be a list of Linux capability names without the CAP_ prefix, e.g. "
                    "[CHOWN, SETGID, SETUID]; got %s." % (label, shown(names)))
    return None


# Docker engine -------------------------------------------------------------------------------------------

@rule("docker_package_source")
def _package_source(name, value, get):
    if value not in ("docker", "distro"):
        return "%s is docker or distro (got %s)." % (name, shown(value))
    return None


@rule("docker_registry_mirrors")
def _mirrors(name, value, get):
    if not is_list(value) or not all(full(r"https?://[^/\s]+/?", mirror) for mirror in value):
        return ("%s must be a list of http(s) URLs of a registry's root, scheme://host[:port] with no path, e.g. "
                "https://mirror.example.org:5000 (got %s)." % (name, shown(value)))
    return None


@rule("docker_compose_min_version")
def _compose_version(name, value, get):
    parts = [whole(part) for part in str(value).split(".")]
    if None in parts or parts < [2, 18, 0]:
        return "%s must be 2.18.0 or newer (got %s)." % (name, shown(value))
    return None


@rule("docker_daemon_options")
def _daemon_options(name, value, get):
    example = " e.g. {mtu: 1400}"
    if not isinstance(value, Mapping):
        return "%s must be a mapping of daemon.json settings;%s (got %s)." % (name, example, shown(value))
    for key, setting in value.items():
        if not full(r"[a-z][a-z0-9-]*(\.[a-z0-9-]+)*", key):
            return "%s is keyed by daemon.json setting names like live-restore or log-opts;%s (got the key %s)." % (
                name, example, shown(key))
        try:
            json.dumps(setting, allow_nan=False)
        except (TypeError, ValueError):
            return "%s.%s must be a JSON value (string, number, boolean, list or mapping)." % (name, key)
    return None


@rule("docker_registry_ca_certs")
def _ca_certs(name, value, get):
    example = ' e.g. {"mirror.example.org:5000": "/etc/plusptt/mirror-ca.crt"}'
    if not isinstance(value, Mapping):
        return "%s must map a registry's host[:port] to a CA file;%s (got %s)." % (name, example, shown(value))
    for registry, path in value.items():
        if not full(HOST_PORT, str(registry)):
            return "%s is keyed by host[:port], no scheme and no path;%s (got the key %s)." % (
                name, example, shown(registry))
        if not full(r"/\S*", str(path)) or not os.path.isfile(str(path)):
            return "%s.%s must be the absolute path of an existing PEM file on the controller (got %s)." % (
                name, registry, shown(path))
    return None


@rule("docker_registry_auth")
def _registry_auth(name, value, get):
    example = " e.g. [{registry: registry.example.org:5000, username: deploy, password: ...}]"
    if not is_list(value) or not all(isinstance(item, Mapping) for item in value):
        return "%s must be a list of {registry, username, password};%s." % (name, example)
    for item in value:
        registry = str(item.get("registry", ""))
        if not full(HOST_PORT, registry):
            return "%s: registry must be host[:port] with no scheme or path (got %s)." % (name, shown(registry))
        if not str(item.get("username", "")) or not str(item.get("password", "")):
            return "%s: the login of %s needs a username and a password." % (name, registry)
    return None


# Secrets -------------------------------------------------------------------------------------------------

@rule("secrets_password_length")
def _password_length(name, value, get):
    return in_range(name, value, 32, 1024, "the length of generated passwords")


@rule("secrets_jwt_expires_in_days")
def _jwt_days(name, value, get):
    return in_range(name, value, 1, 36500, "the days the API keys last")


@rule("secrets_livekit_key_count")
def _key_count(name, value, get):
    return in_range(name, value, 1, 16, "the number of LiveKit keys kept")


@rule("secrets_dashboard_username")
def _dashboard_user(name, value, get):
    if not full(r"[A-Za-z0-9_.-]{1,64}", value):
        return "%s takes letters, digits, '_', '.' and '-' only (got %s)." % (name, shown(value))
    return None


@rule("secrets_jwt_secret")
def _jwt_secret(name, value, get):
    if value and len(str(value)) < 32:
        return ("%s must be empty (generated) or at least 32 characters (got %d); the value is not shown."
                % (name, len(str(value))))
    return None


# Backups -------------------------------------------------------------------------------------------------

@rule("backup_keep")
def _backup_keep(name, value, get):
    return in_range(name, value, 1, 10000, "the number of backups kept")


@rule("backup_databases")
def _backup_databases(name, value, get):
    if not is_list(value) or not value or not all(full(IDENTIFIER, db) for db in value):
        return "%s must list plain PostgreSQL database names (got %s)." % (name, shown(value))
    return None


@rule("backup_restore_name")
def _restore_name(name, value, get):
    if value and not full(r"[0-9]{8}T[0-9]{6}Z", value):
        return "%s is empty (the newest) or a backup folder name like 20261124T031500Z (got %s)." % (
            name, shown(value))
    return None


@rule("backup_schedule_hour", "backup_schedule_minute")
def _cron_field(name, value, get):
    high = 23 if name.endswith("hour") else 59
    text = str(value)
    numbers = [int(number) for number in re.findall(r"[0-9]+", text)]
    if not full(CRON_FIELD, text) or any(number > high for number in numbers):
        return "%s is a cron field of values 0-%d, e.g. 3, */6 or 1-5 (got %s)." % (name, high, shown(value))
    return None


# Firewall ------------------------------------------------------------------------------------------------

@rule("firewall_enabled")
def _firewall_enabled(name, value, get):
    if str(value).lower() not in ("true", "false", "yes", "no", "1", "0"):
        return "%s is true or false (got %s)." % (name, shown(value))
    return None


@rule("firewall_ssh_port")
def _ssh_port(name, value, get):
    if value in ("", None):
        return None
    return port(name, value)


@rule("firewall_extra_rules")
def _extra_rules(name, value, get):
    if not is_list(value) or not all(isinstance(item, str) and not re.search(r"[;{}\n]", item) for item in value):
        return "%s is a list of single nft statements without ';', '{', '}' or a newline (got %s)." % (
            name, shown(value))
    return None


@rule("firewall_public_ports")
def _public_ports(name, value, get):
    def udp_item(item):
        bounds = item.split("-") if isinstance(item, str) and re.fullmatch(r"[0-9]+-[0-9]+", item) else [item]
        return all(port(name, bound) is None for bound in bounds) and whole(bounds[0]) <= whole(bounds[-1])

    if (not isinstance(value, dict) or set(value) - {"tcp", "udp"}
            or not all(is_list(value.get(kind, [])) for kind in ("tcp", "udp"))
            or any(port(name, item) for item in value.get("tcp", []))
            or not all(udp_item(item) for item in value.get("udp", []))):
        return ("%s is {tcp: [ports], udp: [ports or 'low-high' ranges]}, each port 1-65535, e.g. "
                "{tcp: [7881], udp: ['50000-60000', 3478]} (got %s)." % (name, shown(value)))
    return None


@rule("firewall_rules_file")
def _rules_file(name, value, get):
    if not full(PATH_CHARS, value) or os.path.dirname(os.path.normpath(value)) in SYSTEM_FOLDERS:
        return ("%s must be the absolute path of a file of the collection's own, in a folder of its own, e.g. "
                "/etc/plusptt/firewall.nft; a file directly in a system folder (got %s) may be the host's own."
                % (name, shown(value)))
    return None


def problem_of(name, value, get):
    """The problem of one checked variable, by its rule or by its name's kind (images, limits, capabilities)."""
    if name in RULES:
        return RULES[name](name, value, get)
    if name.endswith("_image"):
        return image(name, value)
    if name.endswith("_resources"):
        return resources(name, value)
    if name.endswith("_cap_add"):
        return capabilities(name, value)
    raise AnsibleFilterError("settings_problems: no rule checks %s" % name)


def settings_problems(checked, context=None):
    """checked: the variables to check, name -> value; context: the other variables their rules read."""
    if not isinstance(checked, Mapping):
        raise AnsibleFilterError("settings_problems takes a mapping of variable names to values")
    values = dict(context or {})
    values.update(checked)

    def get(name):
        if name not in values:
            raise AnsibleFilterError("settings_problems: a rule reads %s, which the check does not pass" % name)
        return values[name]

    problems = []
    for name in checked:
        problem = problem_of(name, checked[name], get)
        if problem:
            problems.append(problem)
    return problems


class FilterModule:
    def filters(self):
        return {"settings_problems": settings_problems, "renamed_settings": renamed_settings}
