# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A role's private variables (named __<name>) are its own: each one a role reads is set in that role (registered,
a fact, a task's or a file's vars, a loop variable) or by the playbooks (the flags site.yml's first play sets).
A role that reads another's private result breaks when that role's insides change; it reads what the other role
exports (documented in its meta/argument_specs.yml) instead."""

from __future__ import annotations

import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1].parent
ROLES = sorted(path.name for path in (REPO / "roles").iterdir() if path.is_dir())
# Not a dunder name such as __pycache__.
PRIVATE = re.compile(r"(?<![\w.=/-])(__[a-z][a-z0-9_]*[a-z0-9])(?!\w)")
# Where a name is set: a YAML key (set_fact, vars), register, or a loop variable.
SET = re.compile(r"^\s*(?:-\s+)?(__[a-z][a-z0-9_]*):|register:\s*(__[a-z][a-z0-9_]*)|loop_var:\s*(__[a-z][a-z0-9_]*)"
                 r"|\{%-?\s*set\s+(__[a-z][a-z0-9_]*)", re.M)


def names(paths, pattern):
    found = set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if pattern is PRIVATE:
            found |= set(pattern.findall("\n".join(line.split(" #", 1)[0] for line in text.splitlines())))
        else:
            found |= {name for groups in pattern.findall(text) for name in groups if name}
    return found


def files(root):
    return [path for path in root.rglob("*") if path.is_file() and path.suffix in (".yml", ".j2")]


PLAYBOOK_SET = names(files(REPO / "playbooks"), SET)


@pytest.mark.parametrize("role", ROLES)
def test_each_private_variable_a_role_reads_is_set_in_that_role(role):
    paths = files(REPO / "roles" / role)
    unset = sorted(names(paths, PRIVATE) - names(paths, SET) - PLAYBOOK_SET)
    assert not unset, "role %s reads private variables it never sets: %s" % (role, unset)
