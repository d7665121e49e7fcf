# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters of doctor.yml: origins read back from each configuration, API keys judged, probe tokens."""

from __future__ import annotations

import time

import jwt
import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.plusptt.deploy.plugins.filter.doctor import (
    cors_origins, doctor_line, jwt_problem, livekit_token, nft_open_ports)

NGINX = """
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
map $http_origin $plusptt_cors_origin {
    default "";
    "https://b.example" "https://b.example";
    "https://a.example" "https://a.example";
}
"""
ENVOY = """
static_resources:
  listeners:
  - filter_chains:
    - filters:
      - typed_config:
          route_config:
            virtual_hosts:
            - typed_per_filter_config:
                envoy.filters.http.cors:
                  allow_origin_string_match:
                  - exact: "https://a.example"
                  - exact: "https://b.example"
              routes:
              - match: {path: /x, headers: [{name: h, string_match: {exact: other}}]}
"""
KONG = """
services:
- name: auth-v1
  plugins:
  - {name: cors, config: {origins: [https://a.example], credentials: true}}
- name: rest-v1
  plugins:
  - {name: cors, config: {origins: [https://b.example]}}
  - {name: key-auth, config: {hide_credentials: true}}
"""
SECRET = "s" * 40


@pytest.mark.parametrize("text, kind", [(NGINX, "nginx"), (ENVOY, "envoy"), (KONG, "kong"),
                                        ('["https://b.example", "https://a.example"]', "django")])
def test_each_configuration_reads_back_to_the_same_origins(text, kind):
    assert cors_origins(text, kind) == ["https://a.example", "https://b.example"]


def test_a_configuration_without_origins_reads_back_empty():
    assert cors_origins("server { listen 80; }", "nginx") == []
    assert cors_origins("", "envoy") == []


def test_an_unknown_kind_is_refused():
    with pytest.raises(AnsibleFilterError, match="kind"):
        cors_origins(NGINX, "apache")


def key(secret=SECRET, **claims):
    return jwt.encode({"role": "anon", "iss": "supabase", **claims}, secret, algorithm="HS256")


def test_a_good_key_has_no_problem():
    assert jwt_problem(key(exp=int(time.time()) + 365 * 86400), SECRET) == ""
    assert jwt_problem(key(), SECRET) == ""  # no expiry at all


@pytest.mark.parametrize("token, words", [
    (key(secret="t" * 40, exp=int(time.time()) + 365 * 86400), "not signed with the JWT secret"),
    (key(exp=int(time.time()) - 86400), "expired on"),
    (key(exp=int(time.time()) + 10 * 86400), "within 90 days"),
    ("not-a-jwt", "not a readable JWT"),
], ids=["other secret", "expired", "expiring", "not a JWT"])  # the same ids in every xdist worker, whatever the time
def test_a_bad_key_is_explained(token, words):
    assert words in jwt_problem(token, SECRET)


def test_the_probe_token_carries_a_join_grant_signed_with_the_key():
    claims = jwt.decode(livekit_token("APIkey", SECRET, "room-1", 60), SECRET, algorithms=["HS256"])
    assert claims["iss"] == "APIkey" and claims["video"] == {"room": "room-1", "roomJoin": True}
    assert 0 < claims["exp"] - time.time() <= 60


NFT = """
table inet plusptt {
    chain input {
        type filter hook input priority filter - 10; policy drop;
        iif lo accept
        tcp dport { 22, 5349, 7881 } accept
        udp dport { 3478, 50000-50100 } accept
        ip saddr { 172.30.77.12 } tcp dport 7880 accept comment "livekit"
        udp dport 9999 drop
    }
}
"""


def test_nft_open_ports_reads_sets_and_ranges_and_skips_source_bound_rules():
    assert nft_open_ports(NFT, "tcp") == [[22, 22], [5349, 5349], [7881, 7881]]
    assert nft_open_ports(NFT, "udp") == [[3478, 3478], [50000, 50100]]
    assert nft_open_ports("", "udp") == []


def test_nft_open_ports_names_the_wanted_ports_no_rule_accepts():
    assert nft_open_ports(NFT, "tcp", [7881, 5349]) == []
    assert nft_open_ports(NFT, "tcp", [7881, 7880]) == ["7880"]  # only from one source address
    assert nft_open_ports(NFT, "udp", ["50000-50100", 3478]) == []
    assert nft_open_ports(NFT, "udp", ["50000-50200", 9999]) == ["50000-50200", "9999"]


def test_a_failed_finding_reads_as_check_cause_and_fix():
    finding = {"area": "Auth", "check": "the anon key verifies", "host": "db1", "ok": False,
               "cause": "it expired on 2023-11-14", "fix": "run rotate-keys.yml"}
    assert doctor_line(finding).split() == ["FAIL", "Auth", "the", "anon", "key", "verifies", "(db1)"]
    assert doctor_line(finding, explain=True) == ("Auth: the anon key verifies (db1) Cause: it expired on 2023-11-14. "
                                                  "Fix: run rotate-keys.yml.")
