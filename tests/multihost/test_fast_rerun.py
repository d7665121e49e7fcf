# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Over several servers, a re-run deploys only to the hosts that differ from the last completed run."""

from __future__ import annotations

import re

from conftest import ok, play, ssh

CONVERGED = "As the last completed run left it: only the health report runs"
HOSTS = ("plusptt-lab-db", "plusptt-lab-app", "plusptt-lab-media1", "plusptt-lab-media2")


def recap(result):
    """{host: (ok, changed)} of the run's PLAY RECAP."""
    lines = result.stdout.split("PLAY RECAP", 1)[1]
    return {host: (int(done), int(changed))
            for host, done, changed in re.findall(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)", lines, re.MULTILINE)}


def converged_hosts(result):
    text = " ".join(result.stdout.split())
    return {host for host in HOSTS if re.search(r"ok: \[%s\] => msg: '?%s" % (re.escape(host), CONVERGED), text)}


def test_a_rerun_with_nothing_to_change_only_probes_every_host():
    ok(play("playbooks/site.yml"))  # recorded as this inventory deploys it, whatever ran before
    result = ok(play("playbooks/site.yml"))
    assert converged_hosts(result) == set(HOSTS), result.stdout[-3000:]
    assert all(changed == 0 for _done, changed in recap(result).values())


def test_only_the_host_whose_firewall_rules_were_flushed_is_deployed_again():
    ssh("plusptt-lab-media2", "nft delete table inet plusptt")
    result = ok(play("playbooks/site.yml"))
    assert converged_hosts(result) == set(HOSTS) - {"plusptt-lab-media2"}, result.stdout[-3000:]
    assert "the loaded firewall rules differ" in " ".join(result.stdout.split())
    counts = recap(result)
    assert counts["plusptt-lab-media2"][1] > 0
    assert all(counts[host][1] == 0 for host in HOSTS if host != "plusptt-lab-media2"), counts
    assert "table inet plusptt" in ssh("plusptt-lab-media2", "nft list tables").stdout
    assert converged_hosts(ok(play("playbooks/site.yml"))) == set(HOSTS)
