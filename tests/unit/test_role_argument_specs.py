# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each role's meta/argument_specs.yml mirrors its defaults/main.yml: same variables, matching types."""

from __future__ import annotations

import pathlib

import pytest
import yaml

ROLES = pathlib.Path(__file__).resolve().parents[2] / "roles"
TYPES = {bool: "bool", int: "int", str: "str", list: "list", dict: "dict"}


def load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


@pytest.mark.parametrize("role", sorted(p.name for p in ROLES.iterdir() if (p / "defaults" / "main.yml").exists()))
def test_argument_specs_mirror_defaults(role):
    defaults = load(ROLES / role / "defaults" / "main.yml")
    options = load(ROLES / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert sorted(options) == sorted(defaults), "argument_specs.yml and defaults/main.yml name different variables"
    for name, value in defaults.items():
        spec = options[name]
        assert spec.get("description"), "%s has no description" % name
        assert spec["type"] == TYPES[type(value)], "%s: type %s, default is %s" % (name, spec["type"], type(value))
        assert spec.get("default") == value, "%s: the spec's default differs from defaults/main.yml" % name


def test_public_variables_carry_their_role_prefix():
    for role_dir in ROLES.iterdir():
        prefix = role_dir.name + "_"
        for name in load(role_dir / "defaults" / "main.yml"):
            assert name.startswith(prefix), "%s in role %s" % (name, role_dir.name)
