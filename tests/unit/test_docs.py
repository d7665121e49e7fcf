# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every page of the documentation (README.md, docs/, each role's README) names only what exists: its links
lead to files, its commands' make targets, playbooks, files and -e variables exist, and every variable its
YAML examples and code spans name is one a role or a playbook has."""

from __future__ import annotations

import pathlib
import re

import pytest
from test_docs_fa import known_variables, make_targets

REPO = pathlib.Path(__file__).resolve().parents[2]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "docs" / "fa").glob("*.md"),
                *(REPO / "roles").glob("*/README.md")])
VARIABLE = re.compile(r"\b((?:plusptt|supabase|livekit|backend|frontend|nginx|docker|secrets|backup|firewall)"
                      r"_[a-z0-9_]+)\b(?![-.])")
IDS = [str(page.relative_to(REPO)) for page in PAGES]


def known_names():
    """Variables, and the other names of the same shape a page may show: inventory groups, plugins, the tags of the
    roles' tasks, and the facts the roles publish (plusptt_wiring, plusptt_secrets)."""
    names = set(known_variables())
    for inventory in (REPO / "inventories").glob("*/*.yml"):
        text = inventory.read_text(encoding="utf-8")
        groups = re.findall(r"^\s*(plusptt[a-z0-9_]*):\s*(?:#.*)?$", text, re.MULTILINE)
        names.update(groups)
    names.update(path.stem for path in (REPO / "plugins").glob("*/*.*"))
    # The old names of renamed settings, which migration notes name (a run refuses them, naming the new one).
    names.update(re.findall(r'^    "([a-z0-9_]+)": "[a-z0-9_]+",$',
                            (REPO / "plugins" / "filter" / "settings_problems.py").read_text(encoding="utf-8"), re.M))
    for tasks in (REPO / "roles").glob("*/tasks/*.yml"):
        for tags in re.findall(r"tags: \[([a-z_, ]+)\]", tasks.read_text(encoding="utf-8")):
            names.update(tag.strip() for tag in tags.split(","))
        for block in re.findall(r"set_fact:\n((?:\s{4,}.*\n)+)", tasks.read_text(encoding="utf-8")):
            names.update(re.findall(r"^\s{4,8}([a-z][a-z0-9_]*):", block, re.MULTILINE))
    return names


def fenced(text, language):
    return re.findall(r"^```%s\n(.*?)^```$" % language, text, re.MULTILINE | re.DOTALL)


def exists(name):
    # The pages' own inventory (prod, <name>) is a copy of the example one.
    name = re.sub(r"^inventories/(prod|<name>)(/|$)", r"inventories/example\2", name.rstrip(".,;:)"))
    return (REPO / name).exists() or "<" in name


def test_the_readme_is_short_and_links_every_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme) < 8000, len(readme)
    for page in (REPO / "docs").glob("*.md"):
        assert "docs/%s" % page.name in readme, page.name


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_links_lead_to_files(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
        if not re.match(r"^[a-z]+://", target):
            assert (page.parent / target).exists(), "%s links to %s" % (page.name, target)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_commands_name_what_exists(page):
    targets, variables = make_targets(), known_variables()
    for block in fenced(page.read_text(encoding="utf-8"), "(?:sh|bash)"):
        for line in block.splitlines():
            words = line.split()
            if words[:1] == ["make"]:
                assert words[1] in targets, line
            for name in re.findall(r"(?<![\w./-])(?:playbooks|inventories|scripts)/[\w./<>-]+", line):
                assert exists(name), "%s: %s does not exist" % (line, name)
            for name in re.findall(r"-e\s+['\"]?([a-z_]+)=", line):
                assert name in variables, "%s: no variable %s" % (line, name)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_variables_of_examples_and_code_exist(page):
    text, variables = page.read_text(encoding="utf-8"), known_names()
    names = set()
    for block in fenced(text, "yaml"):
        names.update(re.findall(r"^#? ?([a-z][a-z0-9_]*):", block, re.MULTILINE))
    for code in re.findall(r"`([^`\n]+)`", text):
        names.update(VARIABLE.findall(code))
    unknown = sorted(name for name in names if VARIABLE.fullmatch(name) and not name.endswith("_")
                     and name not in variables)
    assert not unknown, "%s names variables no role or playbook has: %s" % (page.name, ", ".join(unknown))
