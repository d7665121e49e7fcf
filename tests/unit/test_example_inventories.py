# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The example inventories describe sound layouts, wired as the README shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.plusptt.deploy.plugins.filter.wiring import wiring, wiring_problems

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "inventories", "example")


def load(name):
    out = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i",
                          os.path.join(EXAMPLES, name), "--list"], capture_output=True, text=True, check=True)
    listing = json.loads(out.stdout)
    hostvars = listing["_meta"]["hostvars"]
    groups = {}

    def walk(group):
        entry = listing.get(group, {})
        hosts = list(entry.get("hosts", []))
        for child in entry.get("children", []):
            hosts += [host for host in walk(child) if host not in hosts]
        groups[group] = hosts
        return hosts

    walk("all")
    return groups, hostvars


@pytest.mark.parametrize("name", ["hosts.yml", "four-servers.yml"])
def test_example_layout_is_sound(name):
    groups, hostvars = load(name)
    assert wiring_problems(groups, hostvars) == []


def test_four_servers_are_wired_over_private_addresses():
    groups, hostvars = load("four-servers.yml")
    web = wiring(groups, hostvars, "web1.example.org", livekit_network="host")
    assert web["endpoints"]["db"] == ["10.0.0.11:5432"]
    assert web["endpoints"]["livekit"] == ["10.0.0.21:7880", "10.0.0.22:7880"]
    db = wiring(groups, hostvars, "db1.example.org", livekit_network="host")
    assert {rule["service"]: rule["from"] for rule in db["allow"]} == {
        "db": ["10.0.0.12"], "gateway": ["10.0.0.12"], "studio": ["10.0.0.12"]}
