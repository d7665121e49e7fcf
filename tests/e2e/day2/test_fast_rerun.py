# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A re-run of site.yml on a host as the last completed run left it only probes; a difference deploys the units
it touches (and the units that go with them), and the run says which and why."""

from __future__ import annotations

import hashlib
import json
import os
import re

from conftest import HTTPS, ROOT, deploy, docker, ok, play

RECORD = os.path.join(ROOT, ".deploy-state.json")
NGINX_CONF = os.path.join(ROOT, "nginx", "conf.d", "plusptt.conf")
CONVERGED = "As the last completed run left it: only the health report runs"
DATABASE_STEP = r"TASK \[plusptt.deploy.backend : Check the backend can log in to its database\] \**\n"


def counts(result):
    recap = result.stdout.split("PLAY RECAP", 1)[1]
    match = re.search(r"ok=(\d+)\s+changed=(\d+)", recap)
    return int(match.group(1)), int(match.group(2))


def flat(result):
    return " ".join(result.stdout.split())


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def test_a_rerun_with_nothing_to_change_only_probes(https):
    ok(deploy())  # whatever ran before, the host is recorded now
    assert os.stat(RECORD).st_mode & 0o777 == 0o600
    result = ok(play("playbooks/site.yml"))
    tasks, changed = counts(result)
    assert CONVERGED in flat(result) and changed == 0
    assert "Write the compose file" not in result.stdout and "Report the health of every service" in result.stdout
    assert tasks < 120, "the deploy plays ran: %d tasks" % tasks
    checked = ok(play("playbooks/site.yml", "--check", "--diff"))
    assert CONVERGED in flat(checked) and counts(checked)[1] == 0
    assert https.get(HTTPS + "/api/health/", timeout=10).status_code == 200


def test_a_changed_file_and_a_stopped_container_are_found_and_repaired():
    expected = sha256(NGINX_CONF)
    with open(NGINX_CONF, "a", encoding="utf-8") as handle:
        handle.write("# edited by hand\n")
    docker("stop", "livekit")
    result = ok(play("playbooks/site.yml"))
    output = flat(result)
    assert "Deploying, because:" in output
    assert "changed on the host: %s" % NGINX_CONF in output and "containers not running: livekit" in output
    assert sha256(NGINX_CONF) == expected
    assert docker("inspect", "--format", "{{.State.Running}}", "livekit").strip() == "true"
    again = ok(play("playbooks/site.yml"))
    assert CONVERGED in flat(again) and counts(again)[1] == 0


def container_ids():
    listing = docker("ps", "-a", "--no-trunc", "--filter", "label=plusptt.project", "--format", "{{.Names}} {{.ID}}")
    return dict(line.split() for line in listing.splitlines() if line.strip())


def test_a_changed_backend_setting_deploys_the_backend_alone_and_says_why():
    """Goes on from the recorded host of the tests above; the last run here deploys the inventory's setting again."""
    before = container_ids()
    result = ok(play("playbooks/site.yml", "-e", "backend_gunicorn_workers=4"))
    output = flat(result)
    try:
        assert "Deploying, because: backend (the inputs changed" in output, output[-3000:]
        for unit in ("docker", "firewall", "supabase", "livekit", "frontend", "nginx", "turn"):
            assert re.search(r"Deploying, because: .*\b%s \(" % unit, output) is None, unit
        plays = {part.split("]", 1)[0]: part for part in result.stdout.split("PLAY [")[1:]}
        for play_name in ("Docker engine and network", "Host firewall", "Supabase", "LiveKit", "Frontend",
                          "Entry point", "TURN over TLS"):
            assert "skipping: no hosts matched" in plays[play_name], play_name
        assert "skipping: no hosts matched" not in plays["Backend"]
        after = container_ids()
        assert {name for name in after if before.get(name) != after[name]} == {"plusptt-backend"}
        assert "GUNICORN_WORKERS=4" in json.loads(docker("inspect", "-f", "{{json .Config.Env}}", "plusptt-backend"))
        # The image of this source is on the host: no copy, no build.
        assert re.search(r"TASK \[plusptt.deploy.compose : Build the image of backend\] \**\nskipping: ", result.stdout)
    finally:
        back = ok(play("playbooks/site.yml"))
    assert "Deploying, because: backend (the inputs changed" in flat(back)
    again = ok(play("playbooks/site.yml"))
    assert CONVERGED in flat(again) and counts(again)[1] == 0


def test_a_database_that_deploys_runs_the_backend_database_step_again():
    # A database that deploys may be new (a wiped volume): the backend's database and role are checked again.
    docker("stop", "supabase-db")
    result = ok(play("playbooks/site.yml"))
    output = flat(result)
    assert "containers not running: supabase-db" in output, output[-3000:]
    assert re.search(r"Deploying, because: .*\bbackend \(", output), output[-3000:]
    assert re.search(DATABASE_STEP + "ok: ", result.stdout), result.stdout[-3000:]
    again = ok(play("playbooks/site.yml"))
    assert CONVERGED in flat(again) and counts(again)[1] == 0


def test_a_changed_setting_runs_every_play():
    # The default value, given on the command line: the inputs differ, the deployed result does not, so the
    # new record is the run's one change. The test before left the host recorded as the inventory deploys it.
    with open(RECORD, encoding="utf-8") as handle:
        as_the_inventory_deploys = handle.read()
    try:
        result = ok(play("playbooks/site.yml", "-e", "plusptt_log_max_file=5"))
    finally:
        # The deployed result is the inventory's, so its record stands for the tests after this one.
        with open(RECORD, "w", encoding="utf-8") as handle:
            handle.write(as_the_inventory_deploys)
    assert "the inputs changed" in flat(result) and "Write the compose file" in result.stdout
    assert counts(result)[1] == 1
    assert re.search(r"TASK \[plusptt.deploy.plusptt : Record the host as this run left it\] \**\nchanged: ",
                     result.stdout), result.stdout[-3000:]
    again = ok(play("playbooks/site.yml"))
    assert CONVERGED in flat(again) and counts(again)[1] == 0


def test_a_certificate_due_for_renewal_runs_the_deploy():
    with open(RECORD, encoding="utf-8") as handle:
        text = handle.read()
    record = json.loads(text)
    assert record["units"]["nginx"]["renewal_due"] > "2027", "the server certificate's renewal is not recorded"
    due = dict(record["units"]["nginx"], renewal_due="2026-01-01T00:00:00Z")
    try:
        with open(RECORD, "w", encoding="utf-8") as handle:
            json.dump(dict(record, units=dict(record["units"], nginx=due)), handle)
        result = ok(play("playbooks/site.yml", "--check"))
        assert "a certificate or revocation list is due for renewal since 2026-01-01T00:00:00Z" in flat(result)
    finally:
        with open(RECORD, "w", encoding="utf-8") as handle:
            handle.write(text)
