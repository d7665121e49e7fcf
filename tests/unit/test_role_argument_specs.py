# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each role's meta/argument_specs.yml mirrors its defaults/main.yml: same variables, matching types."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES = REPO / "roles"
GENERATOR = REPO / "scripts" / "argument-specs.py"
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
        if not (role_dir / "defaults" / "main.yml").exists():
            continue
        for name in load(role_dir / "defaults" / "main.yml"):
            assert name.startswith(prefix), "%s in role %s" % (name, role_dir.name)


def test_argument_specs_are_generated_from_defaults():
    """meta/argument_specs.yml is what scripts/argument-specs.py writes: rerun it after editing defaults."""
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def generator():
    spec = importlib.util.spec_from_file_location("argument_specs", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "defaults",
    [
        "---\n# Described.\nexample_one: 1\nexample_two: x\n",
        "---\n# Described.\nexample_one: 1\n\n# A comment a blank line away does not count.\n\nexample_two: x\n",
    ],
)
def test_a_variable_without_its_comment_is_named(generator, tmp_path, defaults):
    (tmp_path / "defaults").mkdir()
    (tmp_path / "defaults" / "main.yml").write_text(defaults, encoding="utf-8")
    with pytest.raises(generator.SpecError, match="example_two has no comment"):
        generator.options(tmp_path)


def test_descriptions_types_and_defaults_come_from_defaults(generator, tmp_path):
    (tmp_path / "defaults").mkdir()
    (tmp_path / "defaults" / "main.yml").write_text(
        "---\n# Section comment.\n\n# Port of the thing,\n# in TCP.\nexample_port: 80\n"
        "# Names.\nexample_names: [a, b]\n# Mixed.\nexample_mixed: [a, 1]\n# Flag.\nexample_flag: false\n",
        encoding="utf-8",
    )
    assert generator.options(tmp_path) == {
        "example_port": {"description": "Port of the thing, in TCP.", "type": "int", "default": 80},
        "example_names": {"description": "Names.", "type": "list", "elements": "str", "default": ["a", "b"]},
        "example_mixed": {"description": "Mixed.", "type": "list", "default": ["a", 1]},
        "example_flag": {"description": "Flag.", "type": "bool", "default": False},
    }
