# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Values in the .env files Docker Compose reads, written so Compose reads them back exactly as given.

Compose (compose-go's dotenv parser) expands $ and cuts at " #" in unquoted values, trims their spaces, and
reads escapes in double-quoted ones. dotenv_quote leaves plain values as they are and double-quotes the rest
with \\ \" \\$ \\n escapes; dotenv_values reads such a file back (for checks that compare its values).
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Read the same quoted or not: no $, #, quote, backslash, space or control character.
PLAIN = re.compile(r"[A-Za-z0-9_.,:/@%+=~^*!?&()\[\]{}<>|;-]*")
ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$", "\n": "\\n", "\r": "\\r"}
UNESCAPES = {"\\": "\\", '"': '"', "$": "$", "n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "f": "\f",
             "v": "\v"}


def dotenv_quote(value):
    """The value as a .env file must hold it for Compose to read it back unchanged."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise AnsibleFilterError("dotenv_quote: a .env value is a string or a number, not %s" % type(value).__name__)
    text = str(value)
    if PLAIN.fullmatch(text):
        return text
    return '"%s"' % "".join(ESCAPES.get(char, char) for char in text)


def _double_quoted(text, start):
    """Value and end index of the double-quoted value starting after text[start] (compose-go's rules)."""
    chars = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            chars.append(UNESCAPES.get(following, "\\" + following))
            index += 2
            continue
        if char == '"':
            return "".join(chars), index + 1
        if char == "$" and text[index + 1:index + 2] == "$":
            index += 1  # $$ is a literal $
        chars.append(char)
        index += 1
    raise AnsibleFilterError("dotenv_values: an unterminated quoted value")


def dotenv_values(text):
    """The variables of a .env file: {name: value}, values as Compose reads them (without variable expansion)."""
    values = {}
    for line in str(text).splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export "):].lstrip()
        name, raw = stripped.split("=", 1)
        raw = raw.lstrip()
        if raw.startswith('"'):
            values[name.strip()] = _double_quoted(raw, 0)[0]
        elif raw.startswith("'") and raw.rstrip().endswith("'") and len(raw.rstrip()) > 1:
            values[name.strip()] = raw.rstrip()[1:-1].replace("\\'", "'")
        else:
            values[name.strip()] = raw.split(" #", 1)[0].rstrip()
    return values


def compose_literal(value):
    """A string (or every string value of a mapping) written into a compose file as itself: $ as $$, so
    Compose does not read it as a variable."""
    if isinstance(value, dict):
        return {key: compose_literal(item) for key, item in value.items()}
    if isinstance(value, str):
        return value.replace("$", "$$")
    return value


class FilterModule:
    """PlusPTT filters."""

    def filters(self):
        return {"dotenv_quote": dotenv_quote, "dotenv_values": dotenv_values, "compose_literal": compose_literal}
