#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: host_lock
short_description: Hold a lock on a host so two playbook runs never interleave
version_added: 1.0.0
description:
  - Takes a lock file on the managed host for the playbook run, or releases it. A second run that asks for
    the lock while another holds it waits up to O(timeout) seconds, then fails with a message naming the
    holder (controller, user, process, purpose, since when).
  - The lock file holds the owner as JSON and is written whole (a new file renamed over the path). Every
    change of it happens under an exclusive C(flock) of the guard file beside it (O(path) with C(.guard)), so
    reading the holder and replacing it is one step; of several runs taking over the same dead holder,
    exactly one gets the lock.
  - The owner of a run is found by the action plugin on the controller (host name, machine id, PID namespace,
    process id of C(ansible-playbook) and its start time), so every task of one run is the same owner, taking
    the lock again is a no-op, and two controllers with the same host name are told apart.
  - When the holder was started from the same controller and its C(ansible-playbook) process no longer
    exists (an interrupted or failed run), the lock is taken over with a warning.
  - A holder on another controller cannot be checked; the failure message says how to remove its lock
    when that run has ended.
author:
  - PlusPTT operations team (@plusptt)
attributes:
  action:
    support: full
    description: The action plugin adds the owner, waits and takes over dead holders on the controller.
  check_mode:
    support: none
    description: Runs in check mode with C(check_mode=false) so a check run does not read a half-changed host.
  diff_mode:
    support: none
    description: There is nothing to show.
  idempotent:
    support: full
    description: Holding a lock the run already holds, or releasing a lock nobody holds, changes nothing.
options:
  path:
    description: The lock file on the host. Its folder is created (mode 0700) when missing.
    type: path
    default: /run/plusptt/deploy.lock
  state:
    description: V(held) takes the lock (waiting for another holder), V(released) removes it if this run holds it.
    type: str
    choices: [held, released]
    default: held
  purpose:
    description: What the run does, shown to a run that finds the lock held.
    type: str
    default: ""
  timeout:
    description: Seconds to wait for another run's lock before failing; V(0) fails at once.
    type: int
    default: 600
  owner:
    description:
      - Set by the action plugin; do not set it. Identifies the run (RV(holder) shows its fields).
    type: dict
  takeover:
    description:
      - Set by the action plugin; do not set it. The id of a holder known to be dead, replaced if it still holds
        the lock.
    type: str
notes:
  - Under C(/run) the lock does not survive a reboot, which also ends any run that held it.
seealso:
  - name: flock(1)
    description: The same guarantee for shell scripts on one machine.
    link: https://man7.org/linux/man-pages/man1/flock.1.html
"""

EXAMPLES = r"""
- name: Hold the host lock for this run
  plusptt.deploy.host_lock:
    purpose: deploy (playbooks/site.yml)
    timeout: 600
  check_mode: false
  changed_when: false  # the lock is gone when the run ends

- name: Release the host lock
  plusptt.deploy.host_lock:
    state: released
  check_mode: false
  changed_when: false
"""

RETURN = r"""
held:
  description: Whether this run holds the lock after the task.
  returned: always
  type: bool
holder:
  description: The owner recorded in the lock file (this run's, or the other run's on failure).
  returned: when the lock is held by anyone
  type: dict
  contains:
    id:
      description: Controller identity, process id and start time of the run's ansible-playbook process.
      type: str
    controller:
      description: Host name of the controller the run started from.
      type: str
    machine:
      description: Machine id and PID namespace of that controller (host names alone can repeat).
      type: str
    pid:
      description: Process id of the run's ansible-playbook on that controller.
      type: int
    user:
      description: User who started the run.
      type: str
    purpose:
      description: What the run does.
      type: str
    since:
      description: When the lock was taken (UTC, ISO 8601).
      type: str
took_over:
  description: The holder this run replaced because its process had ended.
  returned: when a dead holder was replaced
  type: dict
"""

import contextlib
import errno
import fcntl
import json
import os
import time

from ansible.module_utils.basic import AnsibleModule


def read_holder(path):
    """The owner recorded in the lock file, {} when it is not PlusPTT's, None when there is no lock."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise
    try:
        holder = json.loads(text)
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


@contextlib.contextmanager
def guarded(path):
    """Hold the guard file's flock: the holder a run reads cannot change before it acts on it."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path + ".guard", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the flock


def write(path, owner, purpose):
    """Write the lock file whole: readers see the old holder or the new one, never a part."""
    record = dict(owner, purpose=purpose, since=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    partial = "%s.%d.new" % (path, os.getpid())
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.rename(partial, path)
    return record


def take(path, owner, purpose, takeover=None):
    """Take the lock for owner: ("taken", record, replaced holder or None), ("ours", holder, None) when owner
    holds it already, ("busy", holder, None) when another run does. takeover is the id of a holder known to have
    ended; it is replaced only if it still holds the lock when the guard is held."""
    with guarded(path):
        holder = read_holder(path)
        if holder is not None and holder.get("id") == owner["id"]:
            return "ours", holder, None
        if holder is None or (takeover and holder.get("id") == takeover):
            return "taken", write(path, owner, purpose), holder
        return "busy", holder, None


def give_back(path, owner):
    """Remove the lock if owner holds it: (removed, holder found)."""
    with guarded(path):
        holder = read_holder(path)
        if holder is None or holder.get("id") != owner["id"]:
            # No lock, or another run's (this run never got it, or it was taken since): not ours to remove.
            return False, holder
        os.unlink(path)
        return True, holder


def hold(module, path, owner):
    state, holder, replaced = take(path, owner, module.params["purpose"], module.params["takeover"])
    if state == "taken":
        result = dict(changed=True, held=True, holder=holder)
        if replaced is not None:
            result["took_over"] = replaced
        module.exit_json(**result)
    if state == "ours":
        module.exit_json(changed=False, held=True, holder=holder)
    module.fail_json(msg="The host lock %s is held by another run." % path, held=False, holder=holder, lock_busy=True)


def release(module, path, owner):
    removed, holder = give_back(path, owner)
    result = dict(changed=removed, held=False)
    if holder is not None and not removed:
        result["holder"] = holder
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/run/plusptt/deploy.lock"),
            state=dict(type="str", default="held", choices=["held", "released"]),
            purpose=dict(type="str", default=""),
            timeout=dict(type="int", default=600),
            owner=dict(type="dict"),
            takeover=dict(type="str"),
        ),
        supports_check_mode=False,
    )
    owner = module.params["owner"]
    if not owner or not owner.get("id"):
        module.fail_json(msg="owner is set by the action plugin: call the module as plusptt.deploy.host_lock")
    path = module.params["path"]
    try:
        if module.params["state"] == "held":
            hold(module, path, owner)
        else:
            release(module, path, owner)
    except OSError as exc:
        module.fail_json(msg="Cannot use the host lock %s: %s" % (path, exc))


if __name__ == "__main__":
    main()
