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
SITE = "deploy (playbooks/site.yml)"


def start(playbook, *args):
    argv, env = playbook_command(playbook, *args)
    # A file, not a pipe: a run must never block on output nobody reads yet.
    log = tempfile.NamedTemporaryFile(mode="w+", encoding="utf-8")
    run = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    run.log = log
    return run


def output_so_far(run):
    with open(run.log.name, encoding="utf-8") as handle:
        return " ".join(handle.read().split())


def finish(run):
    """Return code and output, with the callback's line wrapping undone."""
    run.wait(timeout=1500)
    output = output_so_far(run)
    run.log.close()
    return run.returncode, output


def wait_until(run, condition, what, seconds=300):
    deadline = time.monotonic() + seconds
    while not condition():
        assert run.poll() is None, "the run ended before %s:\n%s" % (what, finish(run)[1][-3000:])
        assert time.monotonic() < deadline, "no %s after %ss" % (what, seconds)
        time.sleep(0.2)


def read_lock():
    """The holder in the lock file, or {} when no run holds it (it is replaced whole, by a rename)."""
    try:
        with open(LOCK, encoding="utf-8") as handle:
            return json.loads(handle.read() or "{}")
    except FileNotFoundError:
        return {}


def hold(release, purpose):
    """A run that holds the lock with the role's lock tasks until the file release is created."""
    holder = start("tests/playbooks/hold_lock.yml", "-e",
                   json.dumps({"hold_purpose": purpose, "release_file": str(release)}))
    wait_until(holder, read_lock, "lock")
    assert read_lock()["purpose"] == purpose
    return holder


def recap(output):
    return output.rsplit("PLAY RECAP", 1)[1]


def write_lock(holder):
    os.makedirs(os.path.dirname(LOCK), mode=0o700, exist_ok=True)
    with open(LOCK, "w", encoding="utf-8") as handle:
        json.dump(holder, handle)


def test_a_second_run_fails_clearly_while_the_first_holds_the_lock(tmp_path):
    release = tmp_path / "release"
    holder = hold(release, SITE)
    try:
        rc, second = finish(start("playbooks/site.yml", "-e", "plusptt_lock_timeout=0"))
        assert rc != 0
        assert "Another PlusPTT run holds the lock %s on localhost: %s" % (LOCK, SITE) in second
        assert "PLAY [Docker engine and network]" not in second, "the second run went on"
        assert read_lock()["purpose"] == SITE, "the refused run touched the lock it did not hold"
    finally:
        release.touch()
    rc, output = finish(holder)
    assert rc == 0, output[-4000:]
    assert not os.path.exists(LOCK)


def test_a_second_run_waits_for_the_first_then_runs(tmp_path):
    """site.yml meets the lock a backup holds, waits, then deploys (nothing to change) and releases it."""
    release = tmp_path / "release"
    holder = hold(release, "backup (playbooks/backup.yml)")
    try:
        second = start("playbooks/site.yml")
        waiting = "waiting up to 600s for the host lock held by backup (playbooks/backup.yml)"
        wait_until(second, lambda: waiting in output_so_far(second), "wait for the lock")
        assert read_lock()["purpose"] == "backup (playbooks/backup.yml)"
    finally:
        release.touch()
    # Once the holder released it, site.yml holds the lock for its own run.
    wait_until(second, lambda: read_lock().get("purpose") == SITE, "lock of site.yml")
    rc, holder_output = finish(holder)
    assert rc == 0, holder_output[-4000:]
    rc, second_output = finish(second)
    assert rc == 0, second_output[-4000:]
    assert "failed=0" in recap(second_output)
    assert not os.path.exists(LOCK)


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
