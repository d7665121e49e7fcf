# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of plusptt.deploy.host_lock: who this run is, waiting, and dead holders."""

from __future__ import annotations

import getpass
import json
import os
import socket
import time

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.plusptt.deploy.plugins.module_utils import _host_lock
from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError

POLL_SECONDS = 3


def process_start(pid):
    """Start time of a process in clock ticks since boot (Linux), or "" where /proc has no answer."""
    try:
        with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
            # The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def machine():
    """What tells this controller apart from another with the same host name: its machine id and PID namespace
    (containers made from one image share a machine id, not a PID namespace)."""
    parts = []
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path, encoding="utf-8") as handle:
                parts.append(handle.read().strip())
            break
        except OSError:
            continue
    try:
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        pass
    return "/".join(part.replace("/", "_") for part in parts if part) or "unknown"


def run_owner():
    """This run: tasks execute in workers forked from ansible-playbook, whose process is the parent."""
    pid = os.getppid()
    controller = socket.gethostname()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    start = process_start(pid)
    where = machine()
    return dict(id="%s/%s/%d/%s" % (controller, where, pid, start), controller=controller, machine=where, pid=pid,
                user=user)


def holder_has_ended(holder, owner):
    """True only when the holder started from this controller and its ansible-playbook process is gone."""
    if not holder or not isinstance(holder.get("pid"), int):
        return False
    if (holder.get("controller"), holder.get("machine")) != (owner["controller"], owner["machine"]):
        return False
    pid = holder["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    start = str(holder.get("id", "")).rsplit("/", 1)[-1]
    return bool(start) and process_start(pid) not in ("", start)  # the pid now belongs to another process


def summary(holder):
    return "%s by %s on %s (process %s), since %s" % (
        holder.get("purpose") or "a run",
        holder.get("user"),
        holder.get("controller"),
        holder.get("pid"),
        holder.get("since"),
    )


def busy_message(holder, path, host):
    if not holder.get("id"):
        return "The lock file %s on %s is being written or is not PlusPTT's; remove it if no run is active." % (
            path,
            host,
        )
    return (
        "Another PlusPTT run holds the lock %s on %s: %s. Wait for it to finish and run again"
        " (plusptt_lock_timeout sets how long a run waits). If that run has ended without releasing the lock"
        " (interrupted, or its controller went away), remove %s on %s." % (path, host, summary(holder), path, host)
    )


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def answer(self, args, task_vars):
        """The module's answer: from the host, or from this process where the task runs on the controller (the
        local connection without become; plugin_utils/_in_process.py says why)."""
        if self._connection.transport != "local" or self._play_context.become or self._play_context.check_mode:
            return self._execute_module(module_name="plusptt.deploy.host_lock", module_args=args, task_vars=task_vars)
        validated = ArgumentSpecValidator(_host_lock.ARGUMENT_SPEC).validate(args)
        if validated.error_messages:
            return dict(failed=True, msg="; ".join(validated.error_messages))
        try:
            # Plain values, as the module receives them (the lock file is JSON).
            return _host_lock.ensure(json.loads(json.dumps(validated.validated_parameters)))
        except ModuleError as exc:
            return dict(exc.details, failed=True, msg=str(exc))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        owner = run_owner()
        args["owner"] = owner
        args.pop("takeover", None)
        timeout = int(args.get("timeout", 600))
        deadline = time.monotonic() + max(timeout, 0)
        waited = False
        host = task_vars.get("inventory_hostname")
        while True:
            answer = self.answer(args, task_vars)
            if not answer.get("lock_busy"):
                result.update(answer)
                if answer.get("took_over"):
                    self._display.warning(
                        "%s: took over the host lock of a run that ended without releasing it: %s"
                        % (host, summary(answer["took_over"]))
                    )
                result["waited"] = waited
                return result
            holder = answer.get("holder") or {}
            if holder_has_ended(holder, owner):
                args["takeover"] = holder["id"]
                continue
            if time.monotonic() >= deadline:
                result.update(answer)
                result["failed"] = True
                result["msg"] = busy_message(holder, args.get("path", "/run/plusptt/deploy.lock"), host)
                return result
            if not waited:
                self._display.display(
                    "%s: waiting up to %ss for the host lock held by %s" % (host, timeout, summary(holder))
                )
                waited = True
            time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.1)))
