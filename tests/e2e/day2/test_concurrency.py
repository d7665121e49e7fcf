# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two playbook runs against one host never interleave: the host lock makes the second wait or fail clearly."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import tempfile
import time

from conftest import REPO, playbook_command

LOCK = "/run/plusptt/deploy.lock"
# Every task, so the first run holds the lock long enough for a second one to meet it.
FULL_RUN = ("-e", "plusptt_full_run=true")


def start(playbook, *args):
    argv, env = playbook_command(playbook, *args)
    # A file, not a pipe: a run must never block on output nobody reads yet.
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    run = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    run.log = log
    return run


def finish(run):
    """Return code and output, with the callback's line wrapping undone."""
    run.wait(timeout=1500)
    run.log.seek(0)
    output = run.log.read()
    run.log.close()
    return run.returncode, " ".join(output.split())


def wait_for_lock(run, seconds=300):
    deadline = time.monotonic() + seconds
    while not os.path.exists(LOCK):
        assert run.poll() is None, "the first run ended before it took the lock:\n" + finish(run)[1][-3000:]
        assert time.monotonic() < deadline, "no lock after %ss" % seconds
        time.sleep(0.2)
    with open(LOCK, encoding="utf-8") as handle:
        return json.loads(handle.read() or "{}")


def recap(output):
    return output.rsplit("PLAY RECAP", 1)[1]


def write_lock(holder):
    os.makedirs(os.path.dirname(LOCK), mode=0o700, exist_ok=True)
    with open(LOCK, "w", encoding="utf-8") as handle:
        json.dump(holder, handle)


def test_a_second_run_fails_clearly_while_the_first_holds_the_lock():
    # Recorded as this inventory deploys it, so the first run below has nothing at all to change.
    assert finish(start("playbooks/site.yml"))[0] == 0
    first = start("playbooks/site.yml", *FULL_RUN)
    holder = wait_for_lock(first)
    assert holder["purpose"] == "deploy (playbooks/site.yml)"
    rc, second = finish(start("playbooks/site.yml", "-e", "plusptt_lock_timeout=0"))
    assert rc != 0
    assert "Another PlusPTT run holds the lock %s on localhost: deploy (playbooks/site.yml)" % LOCK in second
    assert "PLAY [Docker engine and network]" not in second, "the second run went on"
    rc, output = finish(first)
    assert rc == 0, output[-4000:]
    assert "changed=0" in recap(output) and "failed=0" in recap(output)
    assert not os.path.exists(LOCK)


def test_a_second_run_waits_for_the_first_then_runs():
    first = start("playbooks/site.yml", *FULL_RUN)
    wait_for_lock(first)
    second = start("playbooks/backup.yml")
    rc, first_output = finish(first)
    first_end = time.monotonic()
    assert rc == 0, first_output[-4000:]
    rc, second_output = finish(second)
    assert rc == 0, second_output[-4000:]
    assert "waiting up to 600s for the host lock held by deploy (playbooks/site.yml)" in second_output
    assert time.monotonic() >= first_end and not os.path.exists(LOCK)


def this_machine():
    """The controller identity a run records beside its host name (plugins/action/host_lock.py)."""
    spec = importlib.util.spec_from_file_location("host_lock_action", os.path.join(REPO, "plugins", "action",
                                                                                   "host_lock.py"))
    action = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(action)
    return action.machine()


def test_the_lock_of_an_ended_run_from_this_controller_is_taken_over():
    ended = subprocess.Popen(["true"])
    ended.wait()
    controller, machine = socket.gethostname(), this_machine()
    write_lock({"id": "%s/%s/%d/1" % (controller, machine, ended.pid), "controller": controller,
                "machine": machine, "pid": ended.pid, "user": "root", "purpose": "deploy (playbooks/site.yml)",
                "since": "2026-01-01T00:00:00Z"})
    rc, output = finish(start("playbooks/backup.yml", "-e", "plusptt_lock_timeout=0"))
    assert rc == 0, output[-4000:]
    assert "took over the host lock of a run that ended without releasing it" in output
    assert not os.path.exists(LOCK)


def test_a_lock_from_another_controller_is_never_broken():
    write_lock({"id": "ops-laptop/4242/99", "controller": "ops-laptop", "pid": 4242, "user": "alice",
                "purpose": "upgrade (playbooks/upgrade.yml)", "since": "2026-01-01T00:00:00Z"})
    try:
        started = time.monotonic()
        rc, output = finish(start("playbooks/backup.yml", "-e", "plusptt_lock_timeout=3"))
        assert rc != 0 and time.monotonic() - started >= 3
        assert "upgrade (playbooks/upgrade.yml) by alice on ops-laptop (process 4242)" in output
        assert "remove %s on localhost" % LOCK in output
        with open(LOCK, encoding="utf-8") as handle:
            assert json.load(handle)["controller"] == "ops-laptop"
    finally:
        os.unlink(LOCK)
