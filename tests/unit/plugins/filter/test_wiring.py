# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pathlib
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.plusptt.deploy.plugins.filter.wiring import (
    containers, image_variables, layout, port_problems, wiring, wiring_problems)

ONE_HOST = {group: ["srv"] for group in
            ("plusptt", "plusptt_supabase", "plusptt_livekit", "plusptt_backend", "plusptt_frontend", "plusptt_nginx")}

FOUR_HOSTS = {
    "plusptt": ["db", "app", "media1", "media2"],
    "plusptt_supabase": ["db"],
    "plusptt_backend": ["app"],
    "plusptt_frontend": ["app"],
    "plusptt_nginx": ["app"],
    "plusptt_livekit": ["media1", "media2"],
    "plusptt_livekit_redis": ["media1"],
}
ADDRESSES = {"db": "10.0.0.11", "app": "10.0.0.12", "media1": "10.0.0.21", "media2": "10.0.0.22"}
HOSTVARS = {host: {"plusptt_private_address": address, "ansible_host": "192.0.2.1"}
            for host, address in ADDRESSES.items()}


def test_one_host_uses_the_docker_network_and_publishes_nothing():
    result = wiring(ONE_HOST, {"srv": {}}, "srv")
    assert result["endpoints"]["db"] == ["supabase-db:5432"]
    assert result["endpoints"]["livekit"] == ["livekit:7880"]
    assert result["endpoints"]["redis"] == ["livekit-redis:6379"]
    assert all(result["local"].values())
    assert not any(result["publish"].values())
    assert result["allow"] == []


def test_database_host_publishes_on_its_private_address_for_the_app_host_only():
    result = wiring(FOUR_HOSTS, HOSTVARS, "db")
    assert result["publish"]["db"] == "10.0.0.11:5432:5432"
    assert result["publish"]["gateway"] == "10.0.0.11:8000:8000"
    assert {rule["service"]: rule["from"] for rule in result["allow"]} == {
        "db": ["10.0.0.12"], "gateway": ["10.0.0.12"], "studio": ["10.0.0.12"]}
    assert result["endpoints"]["db"] == ["supabase-db:5432"]


def test_app_host_reaches_the_database_and_every_livekit_node_by_private_address():
    result = wiring(FOUR_HOSTS, HOSTVARS, "app", {"livekit": 7880}, livekit_network="host")
    assert result["endpoints"]["db"] == ["10.0.0.11:5432"]
    assert result["endpoints"]["gateway"] == ["10.0.0.11:8000"]
    assert result["endpoints"]["livekit"] == ["10.0.0.21:7880", "10.0.0.22:7880"]
    assert result["endpoints"]["backend"] == ["plusptt-backend:8010"]
    assert result["allow"] == []


def test_host_networked_livekit_reaches_redis_by_address_even_on_its_own_host():
    media1 = wiring(FOUR_HOSTS, HOSTVARS, "media1", livekit_network="host")
    assert media1["endpoints"]["redis"] == ["10.0.0.21:6379"]
    assert media1["publish"]["redis"] == "10.0.0.21:6379:6379"
    assert media1["publish"]["livekit"] == ""
    allow = {rule["service"]: rule["from"] for rule in media1["allow"]}
    assert allow == {"livekit": ["10.0.0.12"], "redis": ["10.0.0.21", "10.0.0.22"]}
    media2 = wiring(FOUR_HOSTS, HOSTVARS, "media2", livekit_network="host")
    assert "redis" not in media2["publish"]
    assert media2["services"] == ["livekit"]


def test_redis_defaults_to_the_first_livekit_node():
    groups = {key: value for key, value in FOUR_HOSTS.items() if key != "plusptt_livekit_redis"}
    assert wiring(groups, HOSTVARS, "media1")["hosts"]["redis"] == ["media1"]


def test_ports_other_hosts_use_follow_the_settings():
    result = wiring(FOUR_HOSTS, HOSTVARS, "app", {"backend": "8020", "frontend": 3010})
    assert result["publish"] == {"backend": "", "frontend": ""}
    db = wiring(FOUR_HOSTS, HOSTVARS, "db", {"backend": "8020", "frontend": 3010})
    assert db["endpoints"]["backend"] == ["10.0.0.12:8020"]
    assert db["endpoints"]["frontend"] == ["10.0.0.12:3010"]


def test_a_sound_layout_has_no_problems():
    assert wiring_problems(FOUR_HOSTS, HOSTVARS) == []
    assert wiring_problems(ONE_HOST, {"srv": {}}) == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"plusptt_livekit": []}, "plusptt_livekit has no host"),
    ({"plusptt_livekit_redis": ["media1", "media2"]}, "plusptt_livekit_redis has 2 hosts"),
    ({"plusptt_supabase": ["db", "app"]}, "plusptt_supabase has 2 hosts"),
])
def test_layout_mistakes_are_named(change, expected):
    problems = wiring_problems(dict(FOUR_HOSTS, **change), HOSTVARS)
    assert any(expected in problem for problem in problems), problems


def test_a_host_without_an_ip_address_is_named_with_the_fix():
    hostvars = dict(HOSTVARS, media2={"ansible_host": "media2.example.org"})
    problems = wiring_problems(FOUR_HOSTS, hostvars)
    assert len(problems) == 1
    assert "media2" in problems[0] and "plusptt_private_address" in problems[0]


@pytest.mark.parametrize(("address", "kind"), [
    ("0.0.0.0", "unspecified"), ("127.0.0.1", "loopback"), ("::1", "loopback"), ("224.0.0.5", "multicast"),
    ("169.254.10.1", "link-local"), ("fe80::1", "link-local"),
])
def test_an_address_other_hosts_cannot_reach_is_named(address, kind):
    hostvars = dict(HOSTVARS, media2={"plusptt_private_address": address})
    problems = wiring_problems(FOUR_HOSTS, hostvars)
    assert len(problems) == 1, problems
    assert "media2 has the %s address %s" % (kind, address) in problems[0]
    assert "plusptt_private_address" in problems[0]


def test_two_hosts_on_one_address_are_named():
    hostvars = dict(HOSTVARS, media2={"plusptt_private_address": HOSTVARS["media1"]["plusptt_private_address"]})
    problems = wiring_problems(FOUR_HOSTS, hostvars)
    assert len(problems) == 1 and "media1 and media2 have the same address" in problems[0], problems


def test_one_public_port_for_two_services_is_named():
    problems = port_problems({"app": [("nginx", 443), ("livekit", 443), ("db", 5432)], "db": [("db", 5432)]})
    assert problems == ["host app publishes port 443 for both nginx and livekit: give one of them another port"]


def test_a_host_in_no_plusptt_group_runs_alone_and_reaches_everything_locally():
    # A role used on its own: hosts: media with roles: [plusptt.deploy.livekit], no PlusPTT group in the inventory.
    groups = {"all": ["media", "other"], "ungrouped": [], "media": ["media", "other"]}
    alone = layout(groups, "media")
    assert alone["media"] == ["media", "other"]
    assert all(alone[group] == ["media"] for group in ONE_HOST)
    assert wiring_problems(alone, {"media": {}}) == []
    result = wiring(alone, {"media": {}}, "media")
    assert result["endpoints"]["redis"] == ["livekit-redis:6379"]
    assert not any(result["publish"].values()) and result["allow"] == []


def test_an_inventory_with_plusptt_groups_keeps_them_and_its_mistakes():
    partial = {"plusptt": ["app"], "plusptt_backend": ["app"]}
    kept = layout(partial, "app")
    assert kept["plusptt_backend"] == ["app"] and kept["plusptt_nginx"] == []
    assert "the inventory group plusptt_nginx has no host" in " ".join(wiring_problems(kept, {"app": {}}))
    assert layout(FOUR_HOSTS, "db")["plusptt_livekit"] == ["media1", "media2"]


def test_container_names_and_image_variables_come_from_one_table():
    assert containers("livekit") == {"livekit": "livekit", "redis": "livekit-redis"}
    assert containers("supabase")["gateway"] == "supabase-kong"
    names = image_variables("kong")
    assert names["supabase-kong"] == "supabase_kong_image" and names["plusptt-backend"] == "backend_image"
    assert image_variables("envoy")["supabase-kong"] == "supabase_envoy_image"
    # The wiring reaches each service by the container name the table gives it.
    assert wiring(ONE_HOST, {"srv": {}}, "srv")["endpoints"]["redis"] == ["%s:6379" % containers("livekit")["redis"]]


def test_the_storage_services_are_chosen_by_one_flag():
    everything = containers("supabase")
    without, only = containers("supabase", storage="without"), containers("supabase", storage="only")
    assert only == {"storage": "supabase-storage", "imgproxy": "supabase-imgproxy"}
    assert {**without, **only} == everything and not set(without) & set(only)
    assert containers("livekit", storage="only") == {}
    with pytest.raises(AnsibleFilterError, match="storage must be with, without or only"):
        containers("supabase", storage="yes")


def test_no_role_writes_a_container_name_of_the_table_itself():
    # The names with a hyphen: "livekit" is also a service, a project and a word of the settings; "livekit-redis" is
    # also the compose service of LiveKit's project that runs it.
    names = {name for project in ("supabase", "livekit", "backend", "frontend", "nginx")
             for name in containers(project).values() if "-" in name} - {"livekit-redis"}
    roles = pathlib.Path(__file__).resolve().parents[4] / "roles"
    for path in list(roles.glob("*/vars/*.yml")) + list(roles.glob("*/tasks/*.yml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for name in names:
                assert not re.search(r"(?<![\w.-])%s(?![\w.-])" % re.escape(name), code), (str(path), number, name)
