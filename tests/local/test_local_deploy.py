# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's deploy command on this machine, then the day-2 make targets with the same inventory: each
sees the settings the deploy used (the local images' ones, which scripts/deploy.sh keeps in the inventory
when no registry answers), so doctor, health and backup pass right after it. The stack is removed after."""

from __future__ import annotations

import os
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOCAL_IMAGES = os.path.join(REPO, "inventories", "local", "group_vars", "all", "local_images.yml")
BACKUPS = "/var/backups/plusptt"


def make(*args):
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PLUSPTT_", "MOLECULE_"))}
    result = subprocess.run(["make", "--no-print-directory", *args], cwd=REPO, env=dict(env, ANSIBLE_FORCE_COLOR="0"),
                            capture_output=True, text=True, check=False, timeout=2400)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 0, "make %s failed:\n%s" % (" ".join(args), output[-4000:])
    return output


def backups():
    return sorted(name for name in os.listdir(BACKUPS) if not name.startswith(".")) if os.path.isdir(BACKUPS) else []


@pytest.fixture(scope="module", autouse=True)
def deployed():
    try:
        yield make("deploy")
    finally:
        make("teardown", "ARGS=-e plusptt_teardown_purge=true")


def test_the_deploy_keeps_the_settings_of_the_images_it_used(deployed):
    if "No container registry answers" in deployed:
        with open(LOCAL_IMAGES, encoding="utf-8") as handle:
            kept = handle.read()
        assert "plusptt_image_pull: never" in kept and "livekit_port_range_end: 50010" in kept
    else:
        assert not os.path.exists(LOCAL_IMAGES)


def test_doctor_passes_right_after_the_deploy():
    output = make("doctor")
    assert " FAIL " not in output, output[-4000:]
    # The check that failed when only site.yml was given the local images' smaller media port range.
    assert "media ports published on the host" in output, output[-4000:]


def test_health_passes_right_after_the_deploy():
    make("health")


def test_backup_writes_a_checked_backup_right_after_the_deploy():
    before = backups()
    make("backup")
    made = sorted(set(backups()) - set(before))
    assert len(made) == 1, made
    subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=os.path.join(BACKUPS, made[0]),
                   check=True, capture_output=True)
