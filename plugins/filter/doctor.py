# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of playbooks/doctor.yml: read back the CORS origins a configuration file allows, judge a
Supabase API key against the JWT secret, and mint a short LiveKit token to probe the nodes with."""

from __future__ import annotations

import datetime
import re
import time

from ansible.errors import AnsibleFilterError

try:
    import jwt
except ImportError:  # pragma: no cover - the controller's requirements.txt installs PyJWT
    jwt = None

try:
    import yaml
except ImportError:  # pragma: no cover - Ansible itself needs PyYAML
    yaml = None

NFT_OPEN = re.compile(r"^\s*(tcp|udp) dport (\{[^}]*\}|\S+) (?:counter [^a]*)?accept", re.M)
NGINX_MAP = re.compile(r"map\s+\$http_origin\s+\$plusptt_cors_origin\s*\{(.*?)\}", re.S)
NGINX_ENTRY = re.compile(r'^\s*"([^"]+)"\s+"[^"]*"\s*;', re.M)


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def cors_origins(text, kind):
    """The origins a configuration allows, sorted: kind nginx (plusptt.conf), envoy (envoy.yaml), kong
    (kong.yml) or django (the JSON list the backend's settings print)."""
    text = str(text or "")
    if kind == "nginx":
        block = NGINX_MAP.search(text)
        return sorted(set(NGINX_ENTRY.findall(block.group(1)))) if block else []
    if kind in ("envoy", "kong"):
        try:
            document = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise AnsibleFilterError("cors_origins: the %s configuration is not YAML: %s" % (kind, exc)) from exc
        found = set()
        for node in _walk(document):
            if kind == "envoy" and isinstance(node.get("allow_origin_string_match"), list):
                matchers = node["allow_origin_string_match"]
                found.update(m["exact"] for m in matchers if isinstance(m, dict) and "exact" in m)
            if kind == "kong" and node.get("name") == "cors" and isinstance(node.get("config"), dict):
                found.update(node["config"].get("origins") or [])
        return sorted(found)
    if kind == "django":
        try:
            return sorted(set(yaml.safe_load(text) or []))
        except yaml.YAMLError as exc:
            raise AnsibleFilterError("cors_origins: the backend's settings printed no list: %s" % exc) from exc
    raise AnsibleFilterError("cors_origins: kind is nginx, envoy, kong or django, not %r" % (kind,))


def _port_range(entry):
    low, _sep, high = str(entry).strip().partition("-")
    return int(low), int(high or low)


def nft_open_ports(text, proto, wanted=None):
    """The ports (as [low, high] ranges) that rules of an nft listing accept from anywhere for proto; given
    wanted (ports or "low-high" ranges), those of them that no such rule accepts in full."""
    ranges = []
    for found_proto, ports in NFT_OPEN.findall(str(text or "")):
        if found_proto != proto:
            continue
        for item in ports.strip("{} ").split(","):
            low, _sep, high = item.strip().partition("-")
            if low.isdigit():
                ranges.append([int(low), int(high) if high.isdigit() else int(low)])
    if wanted is None:
        return ranges
    closed = []
    for entry in wanted:
        low, high = _port_range(entry)
        if not any(start <= low and high <= end for start, end in ranges):
            closed.append(str(entry))
    return closed


def jwt_problem(token, secret, days=90, now=None):
    """'' when the HS256 token verifies with secret and stays valid for more than days; else why not."""
    if jwt is None:
        raise AnsibleFilterError("jwt_problem needs PyJWT on the controller (pip install PyJWT)")
    now = time.time() if now is None else now
    try:
        claims = jwt.decode(str(token or ""), str(secret or ""), algorithms=["HS256"],
                            options={"verify_exp": False, "verify_aud": False})
    except jwt.InvalidSignatureError:
        return "it is not signed with the JWT secret the stack runs with"
    except jwt.PyJWTError as exc:
        return "it is not a readable JWT (%s)" % exc
    if "exp" not in claims:
        return ""
    end = datetime.datetime.fromtimestamp(int(claims["exp"]), datetime.UTC).strftime("%Y-%m-%d")
    if claims["exp"] <= now:
        return "it expired on %s" % end
    if claims["exp"] <= now + int(days) * 86400:
        return "it expires on %s, within %s days" % (end, days)
    return ""


def livekit_token(key, secret, room="plusptt-doctor", ttl=120):
    """A LiveKit access token for key, allowed to join room for ttl seconds (what /rtc/validate checks)."""
    if jwt is None:
        raise AnsibleFilterError("livekit_token needs PyJWT on the controller (pip install PyJWT)")
    now = int(time.time())
    claims = {"iss": str(key), "sub": "plusptt-doctor", "nbf": now - 5, "exp": now + int(ttl),
              "video": {"room": room, "roomJoin": True}}
    return jwt.encode(claims, str(secret), algorithm="HS256")


def _sentence(text):
    text = " ".join(str(text or "").split())
    return text if text.endswith(".") else text + "."


def doctor_line(finding, explain=False):
    """One row of the doctor table: ok or FAIL, the area and the check with its host; with explain, the
    check followed by its cause and its fix."""
    where = "%s (%s)" % (finding.get("check", ""), finding.get("host", ""))
    if explain:
        cause, fix = _sentence(finding.get("cause")), _sentence(finding.get("fix"))
        return "%s: %s Cause: %s Fix: %s" % (finding.get("area", ""), where, cause, fix)
    result = "ok" if finding.get("ok") else "FAIL"
    return "%-6s  %-18s  %s" % (result, finding.get("area", ""), where)


class FilterModule:
    def filters(self):
        return {"cors_origins": cors_origins, "jwt_problem": jwt_problem, "livekit_token": livekit_token,
                "nft_open_ports": nft_open_ports, "doctor_line": doctor_line}
