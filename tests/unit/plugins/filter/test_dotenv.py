# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Values reach the containers exactly as given: the real Compose reads what dotenv_quote writes (and what
compose_literal puts into a compose file) back unchanged, and dotenv_values reads it back the same way."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.plusptt.deploy.plugins.filter.dotenv import compose_literal, dotenv_quote, dotenv_values

HOSTILE = {
    "SMTP_PASS": 'p$ss #1"x',
    "DOLLARS": "$$",
    "REFERENCE": "${HOME}",
    "BRACED_DEFAULT": "${HOME:-x}",
    "BACKSLASHES": "a\\b\\",
    "ESCAPED_LOOKING": "\\n\\$\\\"",
    "SPACES": "  padded  ",
    "HASH_AFTER_SPACE": "value # not a comment",
    "SINGLE_QUOTED": "'kept'",
    "DOUBLE_QUOTED": '"kept"',
    "NEWLINE": "line1\nline2",
    "TAB": "a\tb",
    "SITE_URL": "https://ptt.example.org/#/login",
    "UNICODE": "پی‌تی‌تی",
    "EMPTY": "",
}
PLAIN = ["abc123", "https://ptt.example.org:8443/auth/v1", "eyJhbGciOi.J9x-_y", "a=b,c", "https://*.example.org/**"]


def compose_binary():
    found = pathlib.Path(sys.executable).parent / "docker-compose"
    return str(found) if found.exists() else shutil.which("docker-compose")


def compose_environment(project):
    """The service's environment as Compose resolves it (its config output writes a $ as $$)."""
    result = subprocess.run([compose_binary(), "config", "--format", "json"], cwd=project, capture_output=True,
                            text=True, check=True, env=dict(os.environ, HOME="/home/not-this"))
    environment = json.loads(result.stdout)["services"]["app"]["environment"]
    return {name: (value or "").replace("$$", "$") for name, value in environment.items()}


def test_compose_reads_every_quoted_value_back_unchanged(tmp_path):
    (tmp_path / ".env").write_text("".join("%s=%s\n" % (name, dotenv_quote(value)) for name, value in HOSTILE.items()),
                                   encoding="utf-8")
    (tmp_path / "compose.yml").write_text(json.dumps({"services": {"app": {
        "image": "busybox", "environment": {name: "${%s}" % name for name in HOSTILE}}}}), encoding="utf-8")
    assert compose_environment(tmp_path) == HOSTILE


def test_dotenv_values_reads_the_file_as_compose_does():
    text = "# comment\n\n" + "".join("%s=%s\n" % (name, dotenv_quote(value)) for name, value in HOSTILE.items())
    assert dotenv_values(text) == HOSTILE


@pytest.mark.parametrize("value", PLAIN)
def test_plain_values_are_written_as_they_are(value):
    assert dotenv_quote(value) == value


@pytest.mark.parametrize("value", [None, ["a"], {"a": 1}, True])
def test_a_value_that_is_no_string_or_number_is_an_error(value):
    with pytest.raises(AnsibleFilterError, match="dotenv_quote"):
        dotenv_quote(value)


def test_a_literal_in_a_compose_file_is_not_read_as_a_variable(tmp_path):
    literal = {name: value for name, value in HOSTILE.items() if "\n" not in value}
    (tmp_path / "compose.yml").write_text(json.dumps({"services": {"app": {
        "image": "busybox", "environment": compose_literal(literal)}}}), encoding="utf-8")
    assert compose_environment(tmp_path) == literal
