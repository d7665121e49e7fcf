# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every setting a unit's code reads is among the unit's declared inputs (plugins/filter/wiring.py, UNITS), so a
changed setting always changes the digest of each unit that reads it and the run deploys that unit again.

The code of a unit is its role, the roles it names in ``code`` and the shared roles; a setting is a variable
named like the collection's public ones (<role>_<name>), read anywhere in those roles' tasks, handlers,
templates, defaults and vars. Facts the roles set or register are no settings."""

from __future__ import annotations

import pathlib
import re

import jinja2
import pytest
import yaml
from jinja2 import meta

from ansible_collections.plusptt.deploy.plugins.filter.deploy_inputs_digest import _matches
from ansible_collections.plusptt.deploy.plugins.filter.wiring import SHARED_INPUTS, UNITS

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(path.name for path in (REPO / "roles").iterdir() if path.is_dir())
SETTING = re.compile(r"^(%s)_[a-z][a-z0-9_]*$" % "|".join(ROLES))
SHARED_ROLES = yaml.safe_load((REPO / "roles" / "plusptt" / "vars" / "main.yml").read_text(encoding="utf-8"))[
    "_plusptt_state_shared_roles"]


class AnyName(dict):
    """Filters and tests of Ansible and the collections: only their names matter to the parse."""

    def __contains__(self, name):
        return True

    def __getitem__(self, name):
        return lambda *args, **kwargs: None

    def get(self, name, default=None):
        return self[name]


JINJA = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
JINJA.filters, JINJA.tests = AnyName(), AnyName()
# Task keys whose value Ansible templates as a bare expression.
CONDITIONALS = ("when", "that", "changed_when", "failed_when", "until")


def texts(node, key=None):
    """Every templated text in a YAML document: bare conditionals wrapped in {{ }}."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from texts(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from texts(value, key)
    elif isinstance(node, str):
        yield "{{ %s }}" % node if key in CONDITIONALS else node


def names(text):
    return meta.find_undeclared_variables(JINJA.parse(text))


def set_facts(node):
    """Names a task list sets or registers at run time, and loop variables."""
    found = set()
    if isinstance(node, dict):
        for key in ("ansible.builtin.set_fact", "set_fact"):
            if isinstance(node.get(key), dict):
                found |= set(node[key])
        if isinstance(node.get("register"), str):
            found.add(node["register"])
        if isinstance(node.get("loop_control"), dict) and "loop_var" in node["loop_control"]:
            found.add(node["loop_control"]["loop_var"])
        for value in node.values():
            found |= set_facts(value)
    elif isinstance(node, list):
        for value in node:
            found |= set_facts(value)
    return found


def role_reads(role):
    """(names read, names the role sets at run time) of a role's files."""
    read, defined = set(), set()
    for path in sorted((REPO / "roles" / role).rglob("*")):
        if path.is_dir() or path.name == "README.md" or "meta" in path.relative_to(REPO / "roles" / role).parts:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yml", ".yaml") and "templates" not in path.parts:
            document = yaml.safe_load(text)
            for value in texts(document):
                read |= names(value)
            defined |= set_facts(document)
        else:
            read |= names(text)
    return read, defined


def entry_point_parameters():
    """Options of the entry points a role includes by name (tasks_from): the includer passes them, so they are
    its code, not settings."""
    found = set()
    for path in (REPO / "roles").glob("*/meta/argument_specs.yml"):
        for entry, spec in yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"].items():
            if entry != "main":
                found |= set(spec.get("options") or {})
    return found


READS = {role: role_reads(role) for role in ROLES}
PARAMETERS = entry_point_parameters()
DEFINED_AT_RUN_TIME = set().union(*(defined for _read, defined in READS.values()))


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_every_setting_a_unit_reads_is_a_declared_input(unit):
    spec = UNITS[unit]
    code = {spec["role"], *spec.get("code", []), *SHARED_ROLES}
    read = set().union(*(READS[role][0] for role in code))
    settings = {name for name in read
                if SETTING.match(name) and name not in DEFINED_AT_RUN_TIME and name not in PARAMETERS}
    undeclared = sorted(name for name in settings
                        if not _matches(name, list(spec["inputs"]) + list(SHARED_INPUTS)))
    assert not undeclared, "unit %s reads %s: add them (or their prefix) to its inputs in UNITS" % (unit, undeclared)


def test_the_reads_of_a_unit_include_the_code_it_runs_of_other_roles():
    # The firewall's allow list opens LiveKit's ports, which LiveKit's tasks work out from LiveKit's settings.
    assert "livekit_rtc_tcp_port" not in READS["firewall"][0] and "livekit_rtc_tcp_port" in READS["livekit"][0]
    assert "livekit" in UNITS["firewall"]["code"] and _matches("livekit_rtc_tcp_port", UNITS["firewall"]["inputs"])
    # Facts are no settings: the public ports are set at run time.
    assert "livekit_public_ports" in DEFINED_AT_RUN_TIME
