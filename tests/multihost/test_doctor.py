# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""doctor.yml over SSH on every lab host: all checks pass, and a media port closed in one node's firewall is
named on that node alone, with the ports and the fix."""

from __future__ import annotations

import re

from conftest import ok, play, ssh

HOSTS = ("plusptt-lab-db", "plusptt-lab-app", "plusptt-lab-media1", "plusptt-lab-media2")
FIREWALL_CHECK = "Live communication: media ports open in the host firewall"


def test_every_check_passes_on_every_host():
    output = " ".join(ok(play("playbooks/doctor.yml")).stdout.split())
    assert " FAIL " not in output, output[-4000:]
    for host in HOSTS:
        assert "host clock within 5 s of the controller (%s)" % host in output
    for node in ("plusptt-lab-media1", "plusptt-lab-media2"):
        for check in ("media ports open in the host firewall", "Redis reachable from the node",
                      "the node accepts a token of the backend's key (/rtc/validate)"):
            assert "%s (%s)" % (check, node) in output, check


def test_a_media_port_closed_on_one_node_is_named_there():
    rules = ssh("plusptt-lab-media2", "nft -a list chain inet plusptt input").stdout
    handle = re.search(r"^\s*udp dport .* accept # handle (\d+)$", rules, re.M).group(1)
    ssh("plusptt-lab-media2", "nft delete rule inet plusptt input handle %s" % handle)
    try:
        result = play("playbooks/doctor.yml")
    finally:
        ok(play("playbooks/site.yml"))  # the re-run finds the loaded rules changed and loads them again
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    report = output[output.index("checks failed."):]
    assert "%s (plusptt-lab-media2)" % FIREWALL_CHECK in report, report
    assert "%s (plusptt-lab-media1)" % FIREWALL_CHECK not in report
    assert "does not let in 50000-50010/udp, 3478/udp" in report
    assert "firewall_extra_rules" in report
    assert " FAIL " not in " ".join(ok(play("playbooks/doctor.yml")).stdout.split())
