# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Persian guide (docs/fa) names only what exists: playbooks, make targets, variables and files."""

from __future__ import annotations

import glob
import os
import re
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = sorted(glob.glob(os.path.join(REPO, "docs", "fa", "*.md")))
VARIABLE = re.compile(r"\b((?:plusptt|supabase|livekit|backend|frontend|nginx|docker|secrets|backup|firewall)"
                      r"_[a-z0-9_]+)\b")


def text(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def known_variables():
    names = set()
    for path in glob.glob(os.path.join(REPO, "roles", "*", "defaults", "main.yml")):
        names.update(re.findall(r"^([a-z][a-z0-9_]*):", text(path), re.MULTILINE))
    for path in glob.glob(os.path.join(REPO, "playbooks", "*.yml")):  # playbook inputs, e.g. rotate
        names.update(re.findall(r"^\s{4}([a-z][a-z0-9_]*):", text(path), re.MULTILINE))
    return names


def command_lines(path):
    lines, inside = [], False
    for line in text(path).splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def make_targets():
    """The targets make itself reads from the Makefile, those of pattern and variable rules among them."""
    database = subprocess.run(["make", "-pRrq", "-f", os.path.join(REPO, "Makefile"), ":"], cwd=REPO,
                              capture_output=True, text=True, check=False).stdout
    return set(re.findall(r"^([a-z][a-z0-9-]*):", database, re.MULTILINE))


def existing(path):
    # The guide's own inventory is a copy of the example one.
    path = re.sub(r"^inventories/prod(/|$)", r"inventories/example\1", path)
    return os.path.exists(os.path.join(REPO, path))


def test_there_is_a_persian_guide_linked_from_the_readme():
    assert DOCS, "docs/fa holds no guide"
    assert "docs/fa/README.md" in text(os.path.join(REPO, "README.md"))
    assert all('dir="rtl"' in text(path) for path in DOCS)


@pytest.mark.parametrize("path", DOCS, ids=os.path.basename)
def test_every_command_line_names_what_exists(path):
    targets, variables = make_targets(), known_variables()
    lines = command_lines(path)
    assert lines
    for line in lines:
        words = line.split()
        assert words[0] in ("make", "ansible-playbook", "cp", "bash"), line
        if words[0] == "make":
            assert words[1] in targets, line
        for name in re.findall(r"(?:playbooks|inventories|scripts)/[\w./-]+", line):
            assert existing(name.rstrip(".")), "%s: %s does not exist" % (line, name)
        for name in re.findall(r"-e\s+([a-z_]+)=", line):
            assert name in variables, "%s: no variable %s" % (line, name)


@pytest.mark.parametrize("path", DOCS, ids=os.path.basename)
def test_every_variable_and_file_the_prose_names_exists(path):
    variables = known_variables()
    body = text(path)
    for code in re.findall(r"`([^`]+)`", body):
        for name in VARIABLE.findall(code):
            if not name.endswith("_"):
                assert name in variables, "%s names %s, which no role or playbook has" % (path, code)
        for name in re.findall(r"(?:playbooks|inventories)/[\w./-]+", code):
            assert existing(name), "%s names %s, which does not exist" % (path, name)
