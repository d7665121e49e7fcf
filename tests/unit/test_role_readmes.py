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
            for entry in play["roles"]:
                assert entry["role"] == "plusptt.deploy." + role
                assert set(entry.get("vars", {})) <= known, set(entry.get("vars", {})) - known
