# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""doctor.yml over SSH on every lab host: all checks pass. A media port closed in one node's firewall, named on
that node alone, is checked in test_fast_rerun.py, where that one drift also serves the re-run that heals it."""

from __future__ import annotations

from conftest import ok, play

HOSTS = ("plusptt-lab-db", "plusptt-lab-app", "plusptt-lab-media1", "plusptt-lab-media2")


def test_every_check_passes_on_every_host():
    output = " ".join(ok(play("playbooks/doctor.yml")).stdout.split())
    assert " FAIL " not in output, output[-4000:]
    for host in HOSTS:
        assert "host clock within 5 s of the controller (%s)" % host in output
    for node in ("plusptt-lab-media1", "plusptt-lab-media2"):
        for check in ("media ports open in the host firewall", "Redis reachable from the node",
                      "the node accepts a token of the backend's key (/rtc/validate)"):
            assert "%s (%s)" % (check, node) in output, check
