# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a completed deploy left on a host, and what differs from it now (plusptt.deploy.deploy_state)."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import stat

# 2: one entry per unit (plusptt.deploy.deploy_units).
FORMAT = 2
# How many differences a reason list names before it sums up the rest.
MAX_NAMED = 8


def file_state(path):
    """'sha256:mode:uid:gid' of a file, 'link:target' of a symbolic link, 'dir:mode:uid:gid' of a folder."""
    info = os.lstat(path)
    owner = "%o:%d:%d" % (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
    if stat.S_ISLNK(info.st_mode):
        return "link:" + os.readlink(path)
    if stat.S_ISDIR(info.st_mode):
        return "dir:" + owner
    if not stat.S_ISREG(info.st_mode):
        return "special:" + owner
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() + ":" + owner


def tree_states(paths, exclude=()):
    """{path: state} of every file and folder under paths (folders walked), 'absent' for a missing path."""
    excluded = set(os.path.normpath(p) for p in exclude)
    states = {}
    for top in paths:
        top = os.path.normpath(top)
        if top in excluded:
            continue
        if not os.path.lexists(top):
            states[top] = "absent"
            continue
        states[top] = file_state(top)
        if not os.path.isdir(top) or os.path.islink(top):
            continue
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if os.path.join(folder, d) not in excluded)
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(folder, name)
                if path not in excluded:
                    states[path] = file_state(path)
    return states


def container_states(inspected, image_ids, label="plusptt.project"):
    """{name: {id, image, running, health, current, project}} from `docker inspect` output and {reference: image id};
    project is the value of ``label``."""
    states = {}
    for item in inspected:
        health = (item.get("State", {}).get("Health") or {}).get("Status", "none")
        reference = item.get("Config", {}).get("Image", "")
        states[item["Name"].lstrip("/")] = {
            "id": item["Id"],
            "image": item["Image"],
            "running": bool(item.get("State", {}).get("Running")),
            "health": health,
            # The image its reference names now: a container of an older image would be recreated by compose.
            "current": image_ids.get(reference, "") == item["Image"],
            "project": (item.get("Config", {}).get("Labels") or {}).get(label, ""),
        }
    return states


def parse_time(text):
    """A UTC datetime from ISO 8601 ('2027-01-01T00:00:00Z'), or None for an empty text."""
    if not text:
        return None
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def _named(kind, names):
    names = sorted(names)
    shown = ", ".join(names[:MAX_NAMED])
    more = " and %d more" % (len(names) - MAX_NAMED) if len(names) > MAX_NAMED else ""
    return "%s: %s%s" % (kind, shown, more)


def unit_reasons(recorded, current, now):
    """unit -> the reasons it is not as the last completed run left it (empty when it is).

    recorded: the host's record; current: unit -> its state now (digest, files, containers, networks, firewall)."""
    if not recorded:
        return {unit: ["no completed run is recorded on this host"] for unit in current}
    if recorded.get("format") != FORMAT:
        return {unit: ["the record was written by another version of the collection"] for unit in current}
    units = recorded.get("units") or {}
    return {unit: differences(units[unit], state, now) if unit in units else
            ["no completed run of this unit is recorded on this host"] for unit, state in current.items()}


def differences(recorded, current, now):
    """Reasons why a unit is not as the last completed run left it; empty when it is."""
    reasons = []
    if recorded.get("digest") != current["digest"]:
        reasons.append("the inputs changed (variables, secrets, controller files or the collection's code it runs)")
    due = parse_time(recorded.get("renewal_due", ""))
    if due is not None and now >= due:
        reasons.append("a certificate or revocation list is due for renewal since %s" % recorded["renewal_due"])
    old_files, new_files = recorded.get("files", {}), current["files"]
    changed = [p for p in new_files if p in old_files and old_files[p] != new_files[p]]
    if changed:
        reasons.append(_named("changed on the host", changed))
    added = [p for p in new_files if p not in old_files]
    if added:
        reasons.append(_named("new on the host", added))
    removed = [p for p in old_files if p not in new_files]
    if removed:
        reasons.append(_named("removed from the host", removed))
    old_containers, new_containers = recorded.get("containers", {}), current["containers"]
    gone = [n for n in old_containers if n not in new_containers or new_containers[n]["id"] != old_containers[n]["id"]]
    if gone:
        reasons.append(_named("containers removed or recreated", gone))
    extra = [n for n in new_containers if n not in old_containers]
    if extra:
        reasons.append(_named("containers not made by the last run", extra))
    stopped = [n for n, c in new_containers.items() if n in old_containers and not c["running"]]
    if stopped:
        reasons.append(_named("containers not running", stopped))
    unhealthy = [n for n, c in new_containers.items()
                 if n in old_containers and c["running"] and c["health"] not in ("healthy", "none")]
    if unhealthy:
        reasons.append(_named("containers not healthy", unhealthy))
    outdated = [n for n, c in new_containers.items() if n in old_containers and not c["current"]]
    if outdated:
        reasons.append(_named("containers whose image tag now names another image", outdated))
    missing = [n for n in recorded.get("networks", []) if n not in current["networks"]]
    if missing:
        reasons.append(_named("Docker networks missing", missing))
    if recorded.get("firewall") != current["firewall"]:
        reasons.append("the loaded firewall rules differ")
    return reasons


def unit_record(state, renewal_due=""):
    """What a completed run leaves of one unit: stable across runs that change nothing (no time stamps)."""
    return {
        "digest": state["digest"],
        "renewal_due": renewal_due,
        "files": state["files"],
        "containers": {n: {"id": c["id"], "image": c["image"]} for n, c in state["containers"].items()},
        "networks": sorted(state["networks"]),
        "firewall": state["firewall"],
    }


def record(units, renewal_due=None, previous=None, keep=()):
    """The host's record: unit -> unit_record; renewal_due: unit -> its earliest renewal time. The units in keep
    keep their entry of previous (the last record's units), or have none when it has none."""
    recorded = {unit: unit_record(state, (renewal_due or {}).get(unit, "")) for unit, state in units.items()}
    for unit in keep:
        if unit in (previous or {}):
            recorded[unit] = previous[unit]
        else:
            recorded.pop(unit, None)
    return {"format": FORMAT, "units": recorded}


def dumps(data):
    return json.dumps(data, sort_keys=True, indent=1) + "\n"
