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

# service: the group that runs it, its container (the name on the host's Docker network), the port it
# listens on in that container, and the groups whose hosts connect to it.
SERVICES = {
    "db": {"group": "plusptt_supabase", "container": "supabase-db", "port": 5432,
           "users": ["plusptt_backend"]},
    "gateway": {"group": "plusptt_supabase", "container": "api-gw", "port": 8000,
                "users": ["plusptt_nginx", "plusptt_backend"]},
    "studio": {"group": "plusptt_supabase", "container": "supabase-studio", "port": 3000,
               "users": ["plusptt_nginx"]},
    "backend": {"group": "plusptt_backend", "container": "plusptt-backend", "port": 8010,
                "users": ["plusptt_nginx"]},
    "frontend": {"group": "plusptt_frontend", "container": "supabase-nginx", "port": 80,
                 "users": ["plusptt_nginx"]},
    "livekit": {"group": "plusptt_livekit", "container": "livekit", "port": 7880,
                "users": ["plusptt_nginx"]},
    "redis": {"group": "plusptt_livekit_redis", "container": "livekit-redis", "port": 6379,
              "users": ["plusptt_livekit"]},
}
# The groups every deployment needs a host in. Redis falls back to the first LiveKit host.
REQUIRED_GROUPS = ("plusptt_supabase", "plusptt_livekit", "plusptt_backend", "plusptt_frontend", "plusptt_nginx")
# One PostgreSQL and one Redis: their groups take a single host.
SINGLE_HOST_GROUPS = ("plusptt_supabase", "plusptt_livekit_redis")


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


class FilterModule:
    """PlusPTT filters."""

    def filters(self):
        return {"wiring": wiring, "wiring_problems": wiring_problems, "port_problems": port_problems}
