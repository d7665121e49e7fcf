# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Over several servers, a re-run with nothing to change only probes every host; one firewall drift on media2
serves doctor.yml, which names it there alone, and the re-run that heals it, which deploys the firewall unit of
media2 alone."""

from __future__ import annotations

import re

from conftest import DEPLOYED, converged_hosts, ok, play, recap, ssh

FIREWALL_CHECK = "Live communication: media ports open in the host firewall"


def test_a_rerun_with_nothing_to_change_only_probes_every_host():
    ok(play("playbooks/site.yml"))  # recorded as this inventory deploys it, whatever ran before
    result = ok(play("playbooks/site.yml"))
    assert converged_hosts(result) == set(DEPLOYED), result.stdout[-3000:]
    assert all(changed == 0 for _done, changed in recap(result).values())


def test_a_media_port_closed_on_one_node_is_named_there_and_only_that_node_is_deployed_again():
    """Goes on from the run the test above recorded: doctor.yml names the drift on media2 alone, and the re-run
    that heals it finds only media2 differing from the last completed run (the others are probed only)."""
    rules = ssh("plusptt-lab-media2", "nft -a list chain inet plusptt input").stdout
    handle = re.search(r"^\s*udp dport .* accept # handle (\d+)$", rules, re.M).group(1)
    ssh("plusptt-lab-media2", "nft delete rule inet plusptt input handle %s" % handle)
    try:
        result = play("playbooks/doctor.yml")
    finally:
        healed = ok(play("playbooks/site.yml"))  # the re-run finds the loaded rules changed and loads them again
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output[-3000:]
    report = output[output.index("checks failed."):]
    assert "%s (plusptt-lab-media2)" % FIREWALL_CHECK in report, report
    assert "%s (plusptt-lab-media1)" % FIREWALL_CHECK not in report
    assert "does not let in 50000-50010/udp, 3478/udp" in report
    assert "firewall_extra_rules" in report

    assert converged_hosts(healed) == set(DEPLOYED) - {"plusptt-lab-media2"}, healed.stdout[-3000:]
    healed_text = " ".join(healed.stdout.split())
    # The firewall unit alone: its rules differ, and nothing else on media2 does.
    # The message ends where the next host's result, task or play begins.
    deploying = re.search(r"ok: \[plusptt-lab-media2\] => msg: '?Deploying, because: (.*?)'? "
                          r"(?:ok: \[|TASK \[|PLAY \[)", healed_text)
    assert deploying and deploying.group(1) == "firewall (the loaded firewall rules differ)", healed_text[-3000:]
    counts = recap(healed)
    assert counts["plusptt-lab-media2"][1] > 0
    assert all(counts[host][1] == 0 for host in DEPLOYED if host != "plusptt-lab-media2"), counts
    assert re.search(r"udp dport .* accept", ssh("plusptt-lab-media2", "nft list chain inet plusptt input").stdout)
    assert " FAIL " not in " ".join(ok(play("playbooks/doctor.yml")).stdout.split())
