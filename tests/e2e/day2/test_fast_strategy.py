# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The opt-in mitogen strategy (ANSIBLE_STRATEGY=mitogen_linear, README "Performance") on the converged stack."""

from __future__ import annotations

import re
import subprocess

from conftest import REPO, playbook_command


def test_a_mitogen_re_run_of_site_yml_succeeds_and_changes_nothing():
    # An unknown strategy fails the run, so success means mitogen ran it; every task runs.
    argv, env = playbook_command("playbooks/site.yml", "-e", "plusptt_full_run=true")
    env["ANSIBLE_STRATEGY"] = "mitogen_linear"
    result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=1500)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    recap = result.stdout.split("PLAY RECAP", 1)[1]
    counts = re.search(r"ok=(\d+)\s+changed=(\d+)", recap)
    assert int(counts.group(1)) > 100 and int(counts.group(2)) == 0, recap
