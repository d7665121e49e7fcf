# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every template of the roles is valid Jinja: a shell template with bash's ${#array[@]} opens a Jinja comment
and fails only when a playbook renders it, which for a restore script is the day it is needed."""

from __future__ import annotations

import pathlib

import jinja2
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
TEMPLATES = sorted(REPO.glob("roles/*/templates/**/*.j2"))


def test_the_roles_have_templates():
    assert len(TEMPLATES) > 10


@pytest.mark.parametrize("template", TEMPLATES, ids=[str(path.relative_to(REPO)) for path in TEMPLATES])
def test_the_template_parses(template):
    environment = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    try:
        environment.parse(template.read_text(encoding="utf-8"))
    except jinja2.TemplateSyntaxError as error:
        pytest.fail("%s:%s: %s" % (template.relative_to(REPO), error.lineno, error.message))
