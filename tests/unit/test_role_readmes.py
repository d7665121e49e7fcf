# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role has a README whose variables part is what aar-doc writes from its argument specs today (make
role-docs), and whose example uses the role by its full name with variables the role has."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(path.name for path in (REPO / "roles").iterdir() if (path / "meta").is_dir())


def test_every_role_readme_is_up_to_date():
    result = subprocess.run(["bash", str(REPO / "scripts" / "role-readmes.sh"), "--check"], capture_output=True,
                            text=True, check=False,
                            env=dict(os.environ, AAR_DOC=str(pathlib.Path(sys.executable).parent / "aar-doc")))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("role", ROLES)
def test_the_example_uses_the_role_and_its_variables(role):
    readme = (REPO / "roles" / role / "README.md").read_text(encoding="utf-8")
    specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    known = {name for entry in specs["argument_specs"].values() for name in entry.get("options", {})}
    for block in re.findall(r"^```yaml\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL):
        for play in yaml.safe_load(block):
            # A play using the role, or (an internal role) a task including one of its entry points.
            if "ansible.builtin.include_role" in play:
                assert play["ansible.builtin.include_role"]["name"] == "plusptt.deploy." + role
                assert play["ansible.builtin.include_role"]["tasks_from"] in specs["argument_specs"]
                assert set(play.get("vars", {})) <= known, set(play.get("vars", {})) - known
                continue
            # The role itself, with only its own variables; a role it needs before it (docker) as it is.
            assert "plusptt.deploy." + role in [entry["role"] for entry in play["roles"]]
            for entry in play["roles"]:
                if entry["role"] != "plusptt.deploy." + role:
                    assert entry["role"].startswith("plusptt.deploy.") and not entry.get("vars"), entry
                    continue
                assert set(entry.get("vars", {})) <= known, set(entry.get("vars", {})) - known


@pytest.mark.parametrize("role", [role for role in ROLES if (REPO / "molecule" / role / "converge.yml").exists()])
def test_the_example_is_what_the_role_s_own_scenario_runs(role):
    """A role with its own molecule scenario shows in its README exactly the playbook that scenario converges."""
    readme = (REPO / "roles" / role / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL)
    examples = [yaml.safe_load(block) for block in blocks]
    converge = yaml.safe_load((REPO / "molecule" / role / "converge.yml").read_text(encoding="utf-8"))
    assert converge in examples


def test_the_readme_s_own_playbook_example_is_one_a_role_scenario_runs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    plays = [yaml.safe_load(block) for block in re.findall(r"^```yaml\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL)]
    plays = [play for play in plays if isinstance(play, list) and play and "roles" in play[0]]
    scenarios = [yaml.safe_load(path.read_text(encoding="utf-8"))
                 for path in (REPO / "molecule").glob("*/converge.yml")]
    assert plays and all(play in scenarios for play in plays)
