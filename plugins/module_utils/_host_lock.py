# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host side of plusptt.deploy.host_lock: the lock file, guarded by a flock, taken and given back.

Private to this collection; the interface may change without notice.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time

from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError

# Options of plusptt.deploy.host_lock; owner and takeover are set by its action plugin.
ARGUMENT_SPEC = dict(
    path=dict(type="path", default="/run/plusptt/deploy.lock"),
    state=dict(type="str", default="held", choices=["held", "released"]),
    purpose=dict(type="str", default=""),
    timeout=dict(type="int", default=600),
    owner=dict(type="dict"),
    takeover=dict(type="str"),
)


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


def ensure(params, check_mode=False, diff=False):
    """Take (state=held) or give back (state=released) the lock for params["owner"]. Raises ModuleError; a lock
    another run holds fails with lock_busy=True and its holder."""
    owner = params["owner"]
    if not owner or not owner.get("id"):
        raise ModuleError("owner is set by the action plugin: call the module as plusptt.deploy.host_lock")
    path = params["path"]
    try:
        if params["state"] == "released":
            removed, holder = give_back(path, owner)
            result = dict(changed=removed, held=False)
            if holder is not None and not removed:
                result["holder"] = holder
            return result
        state, holder, replaced = take(path, owner, params["purpose"], params["takeover"])
    except OSError as exc:
        raise ModuleError("Cannot use the host lock %s: %s" % (path, exc)) from exc
    if state == "taken":
        result = dict(changed=True, held=True, holder=holder)
        if replaced is not None:
            result["took_over"] = replaced
        return result
    if state == "ours":
        return dict(changed=False, held=True, holder=holder)
    raise ModuleError("The host lock %s is held by another run." % path, held=False, holder=holder, lock_busy=True)
