# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The compose engine is internal: run on its own it fails saying how to use it, and Ansible checks the options of
each entry point a service role includes (meta/argument_specs.yml) before any task of it runs."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    # The shared settings' checks (the inventory layout among them) are not what this tests.
    __plusptt_shared_checked: true
  tasks:
    - name: Use the compose engine
      ansible.builtin.include_role:
        name: plusptt.deploy.compose
        {tasks_from}
      vars: {vars}
"""


def run(tmp_path, tasks_from="", variables="{}"):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY.format(tasks_from=tasks_from, vars=variables), encoding="utf-8")
    binary = pathlib.Path(sys.executable).parent / "ansible-playbook"
    return subprocess.run([str(binary), "-i", "localhost,", str(playbook),
                           "-e", "ansible_python_interpreter=%s" % sys.executable],
                          capture_output=True, text=True, check=False, cwd=REPO,
                          env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STRATEGY="linear"))


def test_run_on_its_own_it_refuses_and_names_the_entry_points(tmp_path):
    result = run(tmp_path)
    assert result.returncode != 0
    assert "plusptt.deploy.compose is the internal engine" in result.stdout
    assert "tasks_from (project, build_image, wait_healthy" in result.stdout


@pytest.mark.parametrize("tasks_from, variables, missing", [
    ("project", "{compose_services: {}}", "compose_project"),
    ("build_image", "{build_name: backend, build_dir: /tmp/x}", "build_source"),
    ("wait_healthy", "{}", "health_containers"),
], ids=["project", "build_image", "wait_healthy"])
def test_an_entry_point_without_a_required_option_stops_before_its_tasks(tmp_path, tasks_from, variables, missing):
    result = run(tmp_path, "tasks_from: " + tasks_from, variables)
    assert result.returncode != 0
    assert "missing required arguments: %s" % missing in result.stdout
    # Nothing of the entry point ran: the validation is its only task shown.
    shown = re.findall(r"^TASK \[plusptt\.deploy\.compose : (.*?)\]", result.stdout, re.M)
    assert len(shown) == 1 and shown[0].startswith("Validating arguments against arg spec '%s'" % tasks_from), shown
