# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.plusptt.deploy.plugins.filter.wiring import UNITS, deploy_units, units_to_deploy

REPO = pathlib.Path(__file__).resolve().parents[4]

FOUR_HOSTS = {
    "plusptt": ["db", "app", "media1", "media2"],
    "plusptt_supabase": ["db"],
    "plusptt_backend": ["app"],
    "plusptt_frontend": ["app"],
    "plusptt_nginx": ["app"],
    "plusptt_livekit": ["media1", "media2"],
}
ALL = ["db", "app", "media1", "media2"]


def pending(**units_by_host):
    """hostvars whose hosts differ from their record in the given units ("db": ["supabase"])."""
    return {host: {"__plusptt_units_pending": {unit: ["why %s" % unit] for unit in units_by_host.get(host, [])}}
            for host in ALL}


def chosen(plan):
    return {unit: list(hosts) for unit, hosts in plan.items() if hosts}


def test_units_come_in_deploy_order_with_their_hosts_paths_and_projects():
    units = deploy_units(FOUR_HOSTS, root="/srv/ptt/", network="ptt")
    assert list(units) == ["docker", "firewall", "supabase", "livekit", "backend", "frontend", "nginx", "turn"]
    assert units["docker"]["hosts"] == ALL and units["firewall"]["hosts"] == ALL
    assert units["supabase"]["hosts"] == ["db"]
    assert units["turn"]["hosts"] == ["media1", "media2"] and not units["turn"]["record"]
    assert units["backend"]["paths"] == ["/srv/ptt/backend"] and units["backend"]["projects"] == ["backend"]
    assert units["docker"]["networks"] == ["ptt"] and units["supabase"]["networks"] == []
    assert units["firewall"]["firewall_table"] == "inet plusptt" and units["nginx"]["firewall_table"] == ""
    assert [name for name, unit in units.items() if unit["renewals"]] == ["nginx"]


def test_redis_on_its_own_host_runs_the_livekit_unit_there():
    groups = dict(FOUR_HOSTS, plusptt_livekit_redis=["db"])
    assert deploy_units(groups)["livekit"]["hosts"] == ["media1", "media2", "db"]
    assert deploy_units(FOUR_HOSTS)["livekit"]["hosts"] == ["media1", "media2"]


EVERYTHING = {host: [unit for unit, spec in UNITS.items() if spec.get("record", True)] for host in ALL}


@pytest.mark.parametrize("differ, active, expected", [
    # Nothing recorded anywhere: every unit on every host of it (TURN with LiveKit).
    (EVERYTHING, ALL, {"docker": ALL, "firewall": ALL, "supabase": ["db"], "livekit": ["media1", "media2"],
                       "backend": ["app"], "frontend": ["app"], "nginx": ["app"], "turn": ["media1", "media2"]}),
    # Every unit as its record: nothing deploys.
    ({}, ALL, {}),
    # One backend setting: the backend only.
    ({"app": ["backend"]}, ALL, {"backend": ["app"]}),
    # The database: Supabase, and the backend's database step after it.
    ({"db": ["supabase"]}, ALL, {"supabase": ["db"], "backend": ["app"]}),
    # The entry host's certificate: nginx, and TURN on every LiveKit node (it serves that certificate).
    ({"app": ["nginx"]}, ALL, {"nginx": ["app"], "turn": ["media1", "media2"]}),
    # One LiveKit node's container stopped: LiveKit and its TURN listener there only.
    ({"media2": ["livekit"]}, ALL, {"livekit": ["media2"], "turn": ["media2"]}),
    # The Docker engine's settings of one host: every unit of that host, and what follows them elsewhere.
    ({"media1": ["docker"]}, ALL, {"docker": ["media1"], "livekit": ["media1"], "turn": ["media1"]}),
    ({"app": ["docker"]}, ALL, {"docker": ["app"], "backend": ["app"], "frontend": ["app"], "nginx": ["app"],
                                "turn": ["media1", "media2"]}),
    # A host outside the run (failed, or left out by --limit) is never chosen.
    (EVERYTHING, ["db", "media1"], {"docker": ["db", "media1"], "firewall": ["db", "media1"], "supabase": ["db"],
                                    "livekit": ["media1"], "turn": ["media1"]}),
])
def test_a_unit_deploys_where_it_differs_or_with_or_after_the_units_it_depends_on(differ, active, expected):
    plan = units_to_deploy(deploy_units(FOUR_HOSTS), pending(**differ), active)
    assert list(plan) == list(UNITS)
    assert chosen(plan) == expected


def test_the_plan_says_why_each_unit_deploys():
    plan = units_to_deploy(deploy_units(FOUR_HOSTS), pending(db=["supabase"], media1=["livekit"]), ALL)
    assert plan["supabase"] == {"db": "why supabase"}
    assert plan["backend"] == {"app": "supabase deploys"}
    assert plan["turn"] == {"media1": "livekit deploys on this host"}


def test_units_to_deploy_refuses_other_input():
    with pytest.raises(AnsibleFilterError, match="deploy_units"):
        units_to_deploy(["docker"], {}, [])
    with pytest.raises(AnsibleFilterError, match="groups"):
        deploy_units(["plusptt"])


def test_every_unit_role_exists_and_the_site_playbook_deploys_every_unit_in_order():
    site = yaml.safe_load((REPO / "playbooks" / "site.yml").read_text(encoding="utf-8"))
    targets = [play["hosts"] for play in site]
    chosen = [target.split("'")[1].removeprefix("plusptt_deploy_") for target in targets if "plusptt_deploy_" in target]
    assert chosen == list(UNITS)
    for spec in UNITS.values():
        assert (REPO / "roles" / spec["role"] / "tasks" / "main.yml").is_file()


def test_the_tags_of_a_unit_are_the_tags_of_its_role_s_tasks():
    """A run limited by --tags records a unit when it ran every tag of the unit (roles/plusptt/tasks/record_state.yml):
    each recorded unit names the tags its role's tasks carry, no more and no fewer."""
    repo = pathlib.Path(__file__).resolve().parents[4]
    for name, spec in UNITS.items():
        if not spec.get("record", True):
            continue
        found = set()
        for path in (repo / "roles" / spec["role"] / "tasks").glob("*.yml"):
            for tags in re.findall(r"tags: \[([a-z_, ]+)\]", path.read_text(encoding="utf-8")):
                found |= {tag.strip() for tag in tags.split(",")} - {"always"}
        assert found and set(spec["tags"]) == found, (name, sorted(found))
