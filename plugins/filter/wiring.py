# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wiring filter: who talks to whom, on which address and port, derived from the inventory groups.

Every role and the firewall read this one result; no cross-host address is written anywhere else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# The containers of each compose project: compose service -> its container name (the name other containers and
# the ops runbook use) and the variable naming its image. The roles, the record of versions and the wiring below
# take container names from here.
CONTAINERS = {
    "supabase": {
        "db": ("supabase-db", "supabase_db_image"),
        "auth": ("supabase-auth", "supabase_auth_image"),
        "rest": ("supabase-rest", "supabase_rest_image"),
        "realtime": ("realtime-dev.supabase-realtime", "supabase_realtime_image"),
        "meta": ("supabase-meta", "supabase_meta_image"),
        "studio": ("supabase-studio", "supabase_studio_image"),
        # The gateway keeps the runbook's name whichever gateway runs; its image is that gateway's.
        "gateway": ("supabase-kong", "supabase_{gateway}_image"),
        "storage": ("supabase-storage", "supabase_storage_image"),
        "imgproxy": ("supabase-imgproxy", "supabase_imgproxy_image"),
    },
    "livekit": {"livekit": ("livekit", "livekit_image"), "redis": ("livekit-redis", "livekit_redis_image")},
    "backend": {"backend": ("plusptt-backend", "backend_image")},
    # The ops runbook calls the frontend's nginx supabase-nginx.
    "frontend": {"frontend": ("supabase-nginx", "frontend_image")},
    "nginx": {"nginx": ("plusptt-nginx", "nginx_image")},
}
# The services of CONTAINERS that run only with supabase_storage_enabled.
STORAGE_SERVICES = {"supabase": ("storage", "imgproxy")}


def _container(project, service):
    return CONTAINERS[project][service][0]


# service: the group that runs it, its container (the name on the host's Docker network), the port it
# listens on in that container, and the groups whose hosts connect to it.
SERVICES = {
    "db": {"group": "plusptt_supabase", "container": _container("supabase", "db"), "port": 5432,
           "users": ["plusptt_backend"]},
    # The gateway is reached by its compose service name, the same for Envoy and Kong.
    "gateway": {"group": "plusptt_supabase", "container": "api-gw", "port": 8000,
                "users": ["plusptt_nginx", "plusptt_backend"]},
    "studio": {"group": "plusptt_supabase", "container": _container("supabase", "studio"), "port": 3000,
               "users": ["plusptt_nginx"]},
    "backend": {"group": "plusptt_backend", "container": _container("backend", "backend"), "port": 8010,
                "users": ["plusptt_nginx"]},
    "frontend": {"group": "plusptt_frontend", "container": _container("frontend", "frontend"), "port": 80,
                 "users": ["plusptt_nginx"]},
    "livekit": {"group": "plusptt_livekit", "container": _container("livekit", "livekit"), "port": 7880,
                "users": ["plusptt_nginx"]},
    "redis": {"group": "plusptt_livekit_redis", "container": _container("livekit", "redis"), "port": 6379,
              "users": ["plusptt_livekit"]},
}
# The units a deploy is made of, in the order playbooks/site.yml deploys them.
#   role       the role that deploys it
#   groups     the groups whose hosts run it
#   images     it runs containers of images the inventory names (upgrade.yml and rotate-keys.yml recreate them)
#   inputs     the prefixes of the variables it reads beside the shared ones (SHARED_INPUTS)
#   code       the roles whose code it runs beside its own and the shared ones
#   paths      the host files and folders it owns ({root}: plusptt_root); projects: its compose projects
#   follows    it deploys on all of its hosts when one of these deploys on any host
#   with       it deploys on a host where one of these deploys on that host
#   record     its inputs and state are recorded on the host (false: it deploys only by follows and with)
#   tags       the tags of its role's tasks: a run limited by --tags runs the unit completely when it runs them all
UNITS = {
    "docker": {"role": "docker", "groups": ["plusptt"], "images": False, "inputs": ["docker_"],
               "tags": ["docker_install", "docker_configure", "docker_run"],
               "paths": ["/etc/docker/daemon.json", "/etc/docker/certs.d"], "projects": [], "networks": True},
    "firewall": {"role": "firewall", "groups": ["plusptt"], "images": False,
                 # The allow list opens LiveKit's public ports, which LiveKit's tasks work out.
                 "inputs": ["firewall_", "livekit_"], "code": ["livekit"], "tags": ["firewall"],
                 "paths": ["/etc/plusptt", "/etc/systemd/system/plusptt-firewall.service"], "projects": [],
                 "firewall": True},
    "supabase": {"role": "supabase", "groups": ["plusptt_supabase"], "images": True, "inputs": ["supabase_"],
                 "tags": ["supabase_configure", "supabase_run"],
                 "paths": ["{root}/supabase"], "projects": ["supabase"], "with": ["docker"]},
    "livekit": {"role": "livekit", "groups": ["plusptt_livekit", "plusptt_livekit_redis"], "images": True,
                "inputs": ["livekit_"], "tags": ["livekit_configure", "livekit_run"], "paths": ["{root}/livekit"],
                "projects": ["livekit"], "with": ["docker"]},
    # The backend's database and role live in Supabase's PostgreSQL: a deployed database runs its step again.
    "backend": {"role": "backend", "groups": ["plusptt_backend"], "images": True, "inputs": ["backend_"],
                "tags": ["backend_install", "backend_configure", "backend_run"],
                "paths": ["{root}/backend"], "projects": ["backend"], "with": ["docker"], "follows": ["supabase"]},
    "frontend": {"role": "frontend", "groups": ["plusptt_frontend"], "images": True, "inputs": ["frontend_"],
                 "tags": ["frontend_install", "frontend_configure", "frontend_run"],
                 "paths": ["{root}/frontend"], "projects": ["frontend"], "with": ["docker"]},
    "nginx": {"role": "nginx", "groups": ["plusptt_nginx"], "images": True, "inputs": ["nginx_"],
              "tags": ["nginx_configure", "nginx_run"],
              "paths": ["{root}/nginx"], "projects": ["nginx"], "with": ["docker"], "renewals": True},
    # LiveKit's TURN/TLS listener serves the entry host's certificate, read at start; its files are LiveKit's.
    "turn": {"role": "livekit", "groups": ["plusptt_livekit"], "images": False, "inputs": ["livekit_"],
             "paths": [], "projects": [], "with": ["livekit"], "follows": ["nginx"], "record": False},
}
# The variables every unit reads: the shared settings, the addresses of the hosts, and the ports and modes the
# wiring derives every cross-host endpoint from (roles/plusptt/vars/main.yml).
SHARED_INPUTS = ("plusptt_", "secrets_", "ansible_host", "backend_port", "frontend_port", "livekit_port",
                 "livekit_network_mode", "supabase_gateway")
# The groups every deployment needs a host in. Redis falls back to the first LiveKit host.
REQUIRED_GROUPS = ("plusptt_supabase", "plusptt_livekit", "plusptt_backend", "plusptt_frontend", "plusptt_nginx")
# One PostgreSQL and one Redis: their groups take a single host.
SINGLE_HOST_GROUPS = ("plusptt_supabase", "plusptt_livekit_redis")


def layout(groups, me):
    """The groups the roles read: the inventory's, or, where it puts no host in any PlusPTT group (a role used on its
    own in another playbook), a layout of ``me`` alone running every service."""
    if not isinstance(groups, Mapping):
        raise AnsibleFilterError("layout: groups must be a mapping")
    if any(groups.get(group) for group in REQUIRED_GROUPS):
        return dict({group: [] for group in ("plusptt",) + REQUIRED_GROUPS}, **groups)
    alone = {group: [me] for group in ("plusptt",) + REQUIRED_GROUPS}
    return dict(groups, **alone)


def _hosts(groups, service):
    group = SERVICES[service]["group"]
    hosts = list(groups.get(group) or [])
    if service == "redis" and not hosts:
        hosts = list(groups.get("plusptt_livekit") or [])[:1]
    return hosts


def _users(groups, service):
    users = []
    for group in SERVICES[service]["users"]:
        users += [host for host in groups.get(group) or [] if host not in users]
    return users


def _on_host_network(groups, user, service, host_networked):
    """True when host ``user`` connects to ``service`` from a container on the host's own network."""
    return any(SERVICES[h]["group"] in SERVICES[service]["users"] and user in _hosts(groups, h)
               for h in host_networked)


def _is_ip(value):
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def _endpoint(address, port):
    return "[%s]:%s" % (address, port) if ":" in str(address) else "%s:%s" % (address, port)


def private_addresses(groups, hostvars):
    """host -> the address other hosts reach it on: plusptt_private_address, else ansible_host, else its name."""
    hosts = []
    for group in set(REQUIRED_GROUPS) | {"plusptt", "plusptt_livekit_redis"}:
        hosts += [host for host in groups.get(group) or [] if host not in hosts]
    addresses = {}
    for host in hosts:
        host_vars = hostvars.get(host) or {}
        addresses[host] = str(host_vars.get("plusptt_private_address") or host_vars.get("ansible_host") or host)
    return addresses


def wiring_problems(groups, hostvars):
    """Return the inventory mistakes, one clear sentence each (empty when the layout is sound)."""
    problems = []
    addresses = private_addresses(groups, hostvars)
    for group in REQUIRED_GROUPS:
        if not groups.get(group):
            problems.append("the inventory group %s has no host: put the host that runs it there" % group)
    for group in SINGLE_HOST_GROUPS:
        if len(groups.get(group) or []) > 1:
            problems.append("the inventory group %s has %d hosts (%s): it takes exactly one"
                            % (group, len(groups[group]), ", ".join(groups[group])))
    if len(addresses) > 1:
        seen = {}
        for host, address in sorted(addresses.items()):
            if not _is_ip(address):
                problems.append("host %s has no IP address for the other hosts to reach it (got %r): set "
                                "plusptt_private_address (or ansible_host) to its private IP address" % (host, address))
                continue
            kind = _unreachable_kind(address)
            if kind:
                problems.append("host %s has the %s address %s, which the other hosts cannot reach it on: set "
                                "plusptt_private_address to its private IP address" % (host, kind, address))
            elif ipaddress.ip_address(address) in seen:
                problems.append("hosts %s and %s have the same address %s: set plusptt_private_address of each to "
                                "its own private IP address" % (seen[ipaddress.ip_address(address)], host, address))
            seen.setdefault(ipaddress.ip_address(address), host)
    return problems


def _unreachable_kind(address):
    """Why another host cannot reach this address, or '' when it can."""
    ip = ipaddress.ip_address(address)
    for kind, test in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                       ("multicast", ip.is_multicast), ("link-local", ip.is_link_local)):
        if test:
            return kind
    return ""


def port_problems(published):
    """Name every port a host publishes for two services. published: host -> list of (service, port)."""
    problems = []
    for host, ports in sorted(published.items()):
        seen = {}
        for owner, port in ports:
            if port in seen and seen[port] != owner:
                problems.append("host %s publishes port %s for both %s and %s: give one of them another port"
                                % (host, port, seen[port], owner))
            seen.setdefault(port, owner)
    return problems


def wiring(groups, hostvars, me, ports=None, livekit_network="bridge"):
    """How host ``me`` reaches every service, what it publishes for other hosts, and who may connect.

    groups: the inventory groups (Ansible's ``groups``); hostvars: Ansible's ``hostvars``;
    ports: service -> port other hosts connect to (defaults to the port in the container);
    livekit_network: ``host`` when LiveKit nodes use the host's network, else ``bridge``.
    """
    if not isinstance(groups, Mapping) or not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("wiring: groups and hostvars must be mappings")
    addresses = private_addresses(groups, hostvars)
    ports = dict(ports or {})
    host_networked = {"livekit"} if livekit_network == "host" else set()
    result = {"address": addresses.get(me, me), "endpoints": {}, "local": {}, "publish": {}, "allow": [],
              "services": sorted(s for s in SERVICES if me in _hosts(groups, s)),
              "hosts": {s: _hosts(groups, s) for s in SERVICES}}

    for service, spec in SERVICES.items():
        providers = _hosts(groups, service)
        port = int(ports.get(service, spec["port"]))
        # A container on the host's network cannot use names of the Docker network, nor be reached by them.
        local = (me in providers and service not in host_networked
                 and not _on_host_network(groups, me, service, host_networked))
        result["local"][service] = local
        if local:
            result["endpoints"][service] = ["%s:%s" % (spec["container"], spec["port"])]
        else:
            result["endpoints"][service] = [_endpoint(addresses.get(h, h), port) for h in providers]
        if me not in providers:
            continue
        remote_users = [user for user in _users(groups, service)
                        if user != me or _on_host_network(groups, user, service, host_networked)]
        # A host-networked service binds the host's address itself: nothing to publish.
        published = remote_users and service not in host_networked
        # A compose port: host address and port, then the port in the container.
        result["publish"][service] = "%s:%s" % (_endpoint(addresses[me], port), spec["port"]) if published else ""
        if remote_users:
            result["allow"].append({
                "service": service, "port": port, "protocol": "tcp",
                "from": sorted({str(addresses.get(u, u)) for u in remote_users}),
            })
    return result


def deploy_units(groups, root="/opt/plusptt", network="plusptt", firewall_table="inet plusptt"):
    """The units in deploy order: their UNITS entry, with the hosts that run each, its paths under ``root``, the
    Docker networks it keeps and the firewall table it loads."""
    if not isinstance(groups, Mapping):
        raise AnsibleFilterError("deploy_units: the input must be the inventory groups (groups)")
    units = {}
    for name, spec in UNITS.items():
        hosts = []
        for group in spec["groups"]:
            members = list(groups.get(group) or [])
            if group == "plusptt_livekit_redis" and not members:
                members = _hosts(groups, "redis")
            hosts += [host for host in members if host not in hosts]
        units[name] = {
            "role": spec["role"], "images": spec["images"], "inputs": list(spec["inputs"]),
            "code": [spec["role"]] + list(spec.get("code", [])),
            "follows": list(spec.get("follows", [])), "with": list(spec.get("with", [])),
            "record": spec.get("record", True), "hosts": hosts,
            "paths": [path.replace("{root}", str(root).rstrip("/")) for path in spec["paths"]],
            "projects": list(spec["projects"]),
            "networks": [network] if spec.get("networks") else [],
            "firewall_table": firewall_table if spec.get("firewall") else "",
            "renewals": bool(spec.get("renewals")), "tags": list(spec.get("tags", [])),
        }
    return units


def units_to_deploy(units, hostvars, active_hosts, pending="__plusptt_units_pending"):
    """unit -> {host: why} for the hosts a run deploys it on, in deploy order. On a host taking part in the run
    (active_hosts), a unit deploys when the host's fact named by ``pending`` (unit -> reasons) names it (its
    inputs or state differ from the last completed run), when a unit it goes ``with`` deploys on that host, and
    on all of its hosts when a unit it ``follows`` deploys on any host."""
    if not isinstance(units, Mapping) or not isinstance(hostvars, Mapping):
        raise AnsibleFilterError("units_to_deploy: the input must be deploy_units' result, then hostvars")
    active = list(active_hosts or [])
    plan = {}
    for name, unit in units.items():
        chosen = {}
        followed = [other for other in unit.get("follows", []) if plan.get(other)]
        for host in unit["hosts"]:
            if host not in active:
                continue
            differs = ((hostvars.get(host) or {}).get(pending) or {}).get(name)
            along = [other for other in unit.get("with", []) if host in plan.get(other, {})]
            if differs:
                chosen[host] = "; ".join(differs)
            elif along:
                chosen[host] = "%s deploys on this host" % " and ".join(along)
            elif followed:
                chosen[host] = "%s deploys" % " and ".join(followed)
        plan[name] = chosen
    return plan


def containers(project, storage="with"):
    """Compose service -> container name of a project (CONTAINERS); storage: "with" every service, "without" the
    ones that run only with storage enabled (STORAGE_SERVICES), "only" those alone."""
    if project not in CONTAINERS:
        raise AnsibleFilterError("containers: no project %r (one of %s)" % (project, ", ".join(CONTAINERS)))
    if storage not in ("with", "without", "only"):
        raise AnsibleFilterError("containers: storage must be with, without or only (got %r)" % (storage,))
    storage_only = STORAGE_SERVICES.get(project, ())
    return {service: name for service, (name, _image) in CONTAINERS[project].items()
            if storage == "with" or (service in storage_only) == (storage == "only")}


def image_variables(gateway):
    """Container name -> the variable naming its image, for every project; gateway: the gateway in use."""
    return {name: image.format(gateway=gateway) for services in CONTAINERS.values()
            for name, image in services.values()}


class FilterModule:
    """PlusPTT filters."""

    def filters(self):
        return {"wiring": wiring, "wiring_problems": wiring_problems, "port_problems": port_problems,
                "deploy_units": deploy_units, "units_to_deploy": units_to_deploy, "layout": layout,
                "containers": containers, "image_variables": image_variables}
