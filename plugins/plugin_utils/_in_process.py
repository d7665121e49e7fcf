# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugins that run a module's work in Ansible's own process when the task runs on the controller.

Starting a module costs a new Python process, a module archive and its imports on every call. Where the task
runs on the controller itself (the local connection, without become: the key modules delegated to localhost,
every module of a deploy onto this machine), the module's work (module_utils) runs in Ansible's worker process
instead. Anywhere else the module runs as usual.

Private to this collection; the interface may change without notice.
"""

from __future__ import annotations

import json
import os
import subprocess

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.process import get_bin_path
from ansible.plugins.action import ActionBase

from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError


class LocalCommands:
    """What the module's work asks of AnsibleModule, for the controller: run_command and get_bin_path."""

    @staticmethod
    def run_command(argv):
        # As AnsibleModule.run_command: no shell, the C locale, text output.
        completed = subprocess.run(argv, capture_output=True, text=True, check=False,  # noqa: S603 an argv, no shell
                                   env=dict(os.environ, LANG="C", LC_ALL="C", LC_MESSAGES="C"))
        return completed.returncode, completed.stdout, completed.stderr

    @staticmethod
    def get_bin_path(name):
        try:
            return get_bin_path(name)  # PATH and the sbin folders, as AnsibleModule looks
        except ValueError:
            return None


class InProcessAction(ActionBase):
    """Set ARGUMENT_SPEC (the module's) and RUN: staticmethod(params, check_mode, diff) -> result, raising
    ModuleError, which the module's main() calls too. COMMANDS: RUN also takes commands=LocalCommands()."""

    TRANSFERS_FILES = False
    ARGUMENT_SPEC: dict = {}
    RUN = None
    COMMANDS = False

    def runs_in_this_process(self):
        return self._connection.transport == "local" and not self._play_context.become

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if not self.runs_in_this_process():
            result.update(self._execute_module(task_vars=task_vars))
            return result
        try:
            # Plain values, as a module receives them: templated task arguments are Ansible's own str and dict
            # types, which YAML and JSON writers of the module's work may refuse.
            params = json.loads(json.dumps(self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)[1]))
        except AnsibleActionFail as exc:  # a failed result, as the module's would be (failed_when applies)
            result.update(exc.result)
            return result
        check_mode = self._task.check_mode if self._task.check_mode is not None else self._play_context.check_mode
        diff = self._task.diff if self._task.diff is not None else self._play_context.diff
        try:
            extra = {"commands": LocalCommands()} if self.COMMANDS else {}
            result.update(self.RUN(params, check_mode=bool(check_mode), diff=bool(diff), **extra))
        except ModuleError as exc:
            result.update(exc.details, failed=True, msg=str(exc))
        return result
