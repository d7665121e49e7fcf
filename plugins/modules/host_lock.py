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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plusptt.deploy.plugins.module_utils import _host_lock
from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError


def main():
    # Where the task runs on the controller, plugins/action/host_lock.py does this work in Ansible's own process.
    module = AnsibleModule(argument_spec=_host_lock.ARGUMENT_SPEC, supports_check_mode=False)
    try:
        result = _host_lock.ensure(module.params)
    except ModuleError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
