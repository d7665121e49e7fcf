# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Digest of everything a deploy run is made from, computed on the controller."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
from collections.abc import Mapping

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.plusptt.deploy.plugins.filter.wiring import SHARED_INPUTS

# Left out of app sources, as the copy to the host leaves them out (roles/compose/vars/main.yml,
# __compose_source_excludes): what a build makes or the role writes into the copy.
SOURCE_EXCLUDES = (".git", "node_modules", "dist", "__pycache__", ".venv", "extra-ca.crt", "extra-pip.conf",
                   "extra.npmrc", "staticfiles", "*.sqlite3", "*.pyc")
# The parts of the collection a deploy runs.
COLLECTION_PARTS = ("roles", "plugins", "playbooks", "meta")


def _layout_group(name):
    """The inventory's groups of the collection, not the ones a run sorts its hosts into (plusptt_deploy_*)."""
    return name.startswith("plusptt") and not name.startswith("plusptt_deploy_")


def tree_digest(top, excludes=()):
    """sha256 over the relative paths, kinds and contents of every file under top ('' when top is missing)."""
    if os.path.isfile(top):
        with open(top, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    if not os.path.isdir(top):
        return ""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not any(fnmatch.fnmatch(d, p) for p in excludes))
        # Folders count too (an empty one is copied); a link to a folder counts by its target, not entered.
        for name in dirs:
            path = os.path.join(folder, name)
            target = ("link:" + os.readlink(path)) if os.path.islink(path) else ""
            digest.update(os.path.relpath(path, top).encode() + b"/\0" + target.encode() + b"\0")
        for name in sorted(files):
            if any(fnmatch.fnmatch(name, p) for p in excludes):
                continue
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, top).encode() + b"\0")
            if os.path.islink(path):
                digest.update(b"link:" + os.readlink(path).encode())
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
            digest.update(b"\0")
    return digest.hexdigest()


def _value(host_vars, name):
    try:
        return host_vars[name]
    except (AnsibleError, KeyError) as error:
        # A value that cannot be templated here still counts, by its text.
        return "unresolved: %s" % error


def controller_digests(value, fallback=""):
    """Digest of the controller file or folder a variable names: a path (empty: the fallback, e.g. the sample
    app a role builds then), or a mapping of names to paths (each digested)."""
    if isinstance(value, Mapping):
        return {str(key): controller_digests(path) for key, path in value.items()}
    if isinstance(value, str) and not value and fallback:
        value = fallback
    if isinstance(value, str) and value:
        return tree_digest(os.path.abspath(value), SOURCE_EXCLUDES)
    return ""


def deploy_inputs_digest(hostvars, hosts, groups, names, controller_paths=(), collection_root="", ignore=(),
                         fallbacks=None):
    """sha256 of the layout, the matching variables of every host, the controller files they name and the collection.

    controller_paths names the variables that hold controller paths (or mappings of them); fallbacks gives the
    path a role reads when such a variable is empty."""
    if not isinstance(names, str) or not names:
        raise AnsibleFilterError("deploy_inputs_digest: names must be a regular expression of variable names")
    pattern = re.compile(names)
    inputs = {
        "groups": {g: sorted(members) for g, members in sorted(groups.items()) if _layout_group(g)},
        "hosts": {},
        "collection": {part: tree_digest(os.path.join(collection_root, part), ("__pycache__", "*.pyc"))
                       for part in COLLECTION_PARTS} if collection_root else {},
    }
    for host in sorted(hosts):
        host_vars = hostvars[host]
        chosen = sorted(k for k in host_vars.keys() if pattern.match(k) and k not in ignore)
        values = {k: _value(host_vars, k) for k in chosen}
        files = {name: controller_digests(_value(host_vars, name) if name in host_vars else "",
                                          (fallbacks or {}).get(name, ""))
                 for name in controller_paths}
        inputs["hosts"][host] = {"vars": values, "files": files}
    try:
        text = json.dumps(inputs, sort_keys=True, default=str)
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError("deploy_inputs_digest: %s" % error) from error
    return hashlib.sha256(text.encode()).hexdigest()


def _matches(name, patterns):
    """A pattern ending in '_' is a prefix (followed by a letter); any other is a whole name."""
    return any(name.startswith(p) and name[len(p):len(p) + 1].isalpha() if p.endswith("_") else name == p
               for p in patterns)


def _host_inputs(host_vars, patterns, ignore, controller_paths, fallbacks):
    chosen = sorted(k for k in host_vars.keys() if _matches(k, patterns) and k not in ignore)
    files = {name: controller_digests(_value(host_vars, name) if name in host_vars else "", fallbacks.get(name, ""))
             for name in controller_paths if _matches(name, patterns)}
    return {"vars": {k: _value(host_vars, k) for k in chosen}, "files": files}


def unit_inputs_digests(hostvars, hosts, groups, units, controller_paths=(), collection_root="", shared_roles=(),
                        ignore=(), fallbacks=None, secrets_dir=""):
    """unit -> sha256 of what it is made from: the layout, every host's shared variables (SHARED_INPUTS) and its
    own (the unit's ``inputs`` prefixes), the controller files they name, the secrets, the collection's shared
    parts and shared roles, and the folders of the roles whose code it runs (``code``). units:
    plusptt.deploy.deploy_units' result."""
    if not isinstance(units, Mapping):
        raise AnsibleFilterError("unit_inputs_digests: units must be the result of plusptt.deploy.deploy_units")
    fallbacks = fallbacks or {}

    def tree(path):
        return tree_digest(os.path.join(collection_root, path), ("__pycache__", "*.pyc")) if collection_root else ""

    common = {
        "groups": {g: sorted(members) for g, members in sorted(groups.items()) if _layout_group(g)},
        "hosts": {host: _host_inputs(hostvars[host], SHARED_INPUTS, ignore, controller_paths, fallbacks)
                  for host in sorted(hosts)},
        "secrets": tree_digest(secrets_dir) if secrets_dir else "",
        "collection": {part: tree(part) for part in COLLECTION_PARTS if part != "roles"},
        "roles": {role: tree(os.path.join("roles", role)) for role in shared_roles},
    }
    digests = {}
    for name, unit in units.items():
        own = {"inputs": unit["inputs"],
               "hosts": {host: _host_inputs(hostvars[host], unit["inputs"], ignore, controller_paths, fallbacks)
                         for host in sorted(hosts)},
               "roles": {role: tree(os.path.join("roles", role)) for role in unit.get("code") or [unit["role"]]}}
        try:
            text = json.dumps({"common": common, "unit": own}, sort_keys=True, default=str)
        except (TypeError, ValueError) as error:
            raise AnsibleFilterError("unit_inputs_digests: %s" % error) from error
        digests[name] = hashlib.sha256(text.encode()).hexdigest()
    return digests


def controller_tree_digest(path, source=False):
    """sha256 of a controller file or folder's content ('' when missing); source=True leaves out what the copy of an
    app source to a host leaves out (SOURCE_EXCLUDES)."""
    return tree_digest(path, SOURCE_EXCLUDES if source else ())


class FilterModule:
    """PlusPTT filters."""

    def filters(self):
        return {"deploy_inputs_digest": deploy_inputs_digest, "unit_inputs_digests": unit_inputs_digests,
                "tree_digest": controller_tree_digest}
