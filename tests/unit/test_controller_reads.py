# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fast path digests everything a deploy reads from the controller: every task that sends a controller file
or folder to a host (copy, synchronize, unarchive without remote_src) names it through variables that end in
the digested ones (roles/plusptt/vars/main.yml), or in the collection's own files, which are digested whole."""

from __future__ import annotations

import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
PLUSPTT_VARS = yaml.safe_load((REPO / "roles" / "plusptt" / "vars" / "main.yml").read_text(encoding="utf-8"))
DIGESTED = set(PLUSPTT_VARS["_plusptt_state_controller_paths"])
FALLBACKS = PLUSPTT_VARS["_plusptt_state_controller_fallbacks"]
# Modules whose src is read on the controller (unless remote_src).
CONTROLLER_READERS = ("ansible.builtin.copy", "ansible.posix.synchronize", "ansible.builtin.unarchive")
# Names in templates that are no controller input: Jinja words, the role's own folder (in the collection).
NOT_INPUTS = {"role_path", "if", "else", "or", "and", "not", "default", "omit", "length", "true", "false", "item",
              "in", "is", "none"}
ROLE_FOLDER = re.compile(r"\{\{\s*role_path\s*\}\}/\.\./\.\./tests/apps/(backend|frontend)")


def definitions():
    """Every variable the roles define in vars/ and in the vars: of include tasks, name -> [template texts]."""
    found = {}
    for path in REPO.glob("roles/*/vars/main.yml"):
        for name, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            found.setdefault(name, []).append(str(value))
    for task in tasks():
        for name, value in (task.get("vars") or {}).items():
            found.setdefault(name, []).append(str(value))
    return found


def tasks():
    for path in REPO.glob("roles/*/tasks/*.yml"):
        yield from walk(yaml.safe_load(path.read_text(encoding="utf-8")) or [])


def walk(items):
    for task in items:
        if isinstance(task, dict):
            yield task
            for key in ("block", "rescue", "always"):
                yield from walk(task.get(key) or [])


def names_in(text):
    expressions = re.findall(r"\{\{(.*?)\}\}", text, re.S)
    words = set()
    for expression in expressions:
        without_strings = re.sub(r"'[^']*'|\"[^\"]*\"", "", expression)
        without_strings = re.sub(r"\|\s*[a-z_][a-z0-9_.]*", "", without_strings)  # filters
        words.update(re.findall(r"(?<![.\w])([a-z_][a-z0-9_]*)(?![\w(])", without_strings))
    return words - NOT_INPUTS


def roots(name, known, seen=None):
    """The inventory variables a role variable comes from; a sample app of the collection is named by its role."""
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    if name not in known:
        return {name}
    found = set()
    for text in known[name]:
        sample = ROLE_FOLDER.search(text)
        if sample:
            found.add("sample:" + sample.group(1))
        for word in names_in(text):
            found |= roots(word, known, seen)
    return found


def controller_reads():
    """(task name, src text, loop text) of every task that sends a controller file to a host."""
    for task in tasks():
        for module in CONTROLLER_READERS:
            args = task.get(module)
            if isinstance(args, dict) and "src" in args and not args.get("remote_src") and args.get("mode") != "pull":
                yield task.get("name", "?"), str(args["src"]), str(task.get("loop", ""))


def test_every_controller_file_a_deploy_reads_is_digested():
    known = definitions()
    reads = list(controller_reads())
    assert reads, "no task reading the controller was found: the search is broken"
    undigested = {}
    for name, src, loop in reads:
        if "{{" not in src:
            continue  # a file of the role itself, digested with the collection
        inputs = set()
        for word in names_in(src) | (names_in(loop) if "item" in src else set()):
            inputs |= roots(word, known)
        fallbacks = {"sample:" + key.split("_")[0] for key in FALLBACKS}
        missing = {word for word in inputs if word not in DIGESTED and word not in fallbacks}
        # Host-side values (facts, the roles' folders on the host) are no controller input.
        missing -= {"plusptt_root", "build_dir", "build_name", "ansible_facts", "inventory_hostname"}
        if missing:
            undigested[name] = sorted(missing)
    assert undigested == {}


def test_the_fallbacks_are_the_sample_apps_the_roles_build():
    for variable, path in FALLBACKS.items():
        app = variable.split("_")[0]
        role_vars = (REPO / "roles" / app / "vars" / "main.yml").read_text(encoding="utf-8")
        assert "{{ role_path }}/../../tests/apps/%s" % app in role_vars and path.endswith("/tests/apps/" + app)
