# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup script dumps the databases the deployment really uses: backup_databases follows supabase_db_name
and backend_db_name as the inventory sets them (a fixed list backed up an empty postgres beside appdb)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "backup"
PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars_files: [{defaults}, {vars}]
  tasks:
    - ansible.builtin.template:
        src: {template}
        dest: "{{{{ out }}}}"
        mode: "0600"
"""


def rendered_databases(tmp_path, inventory_vars, template="plusptt-backup.sh.j2"):
    playbook = tmp_path / "render.yml"
    playbook.write_text(PLAY.format(defaults=ROLE / "defaults" / "main.yml", vars=ROLE / "vars" / "main.yml",
                                    template=ROLE / "templates" / template), encoding="utf-8")
    out = tmp_path / "plusptt-backup"
    extra = dict(inventory_vars, out=str(out), backup_dir="/var/backups/plusptt",
                 ansible_python_interpreter=sys.executable)
    binary = pathlib.Path(sys.executable).parent / "ansible-playbook"
    result = subprocess.run([str(binary), "-i", "localhost,", str(playbook), "-e", json.dumps(extra)],
                            capture_output=True, text=True, check=False,
                            env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg")))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    text = out.read_text(encoding="utf-8")
    subprocess.run(["bash", "-n", str(out)], check=True)
    return re.search(r"^databases=\((.*)\)$", text, re.M).group(1).split()


@pytest.mark.parametrize(
    ("inventory_vars", "databases"),
    [
        ({}, ["postgres", "plusptt"]),
        ({"supabase_db_name": "appdb"}, ["appdb", "plusptt"]),
        ({"supabase_db_name": "appdb", "backend_db_name": "dispatch"}, ["appdb", "dispatch"]),
        ({"backend_db_name": "postgres"}, ["postgres"]),
        ({"backup_databases": ["only_this"]}, ["only_this"]),
    ],
    ids=["defaults", "supabase database renamed", "both renamed", "one database for both", "given list"],
)
def test_the_script_dumps_the_databases_the_inventory_names(tmp_path, inventory_vars, databases):
    assert rendered_databases(tmp_path, inventory_vars) == databases


@pytest.mark.parametrize("inventory_vars", [{}, {"supabase_db_name": "appdb", "backend_db_name": "dispatch"}],
                         ids=["defaults", "both renamed"])
def test_the_restore_script_restores_the_databases_the_backup_has(tmp_path, inventory_vars):
    backed_up = rendered_databases(tmp_path, inventory_vars)
    assert rendered_databases(tmp_path, inventory_vars, template="restore.sh.j2") == backed_up
