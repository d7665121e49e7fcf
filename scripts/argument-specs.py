# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write each role's meta/argument_specs.yml from its defaults/main.yml.

Every top-level variable of defaults/main.yml needs its own comment block on the line(s) directly above
it (no blank line in between): it becomes the variable's description. The type comes from the value
(bool, int, str, list, dict; a list of strings gets elements: str) and the default is the value itself.
The entry point's short_description (and description, if any) are kept from the existing file.

    python scripts/argument-specs.py            rewrite every role's meta/argument_specs.yml
    python scripts/argument-specs.py --check    exit 1 naming each role whose file would change
    python scripts/argument-specs.py ROLE ...   only these roles

Exit status: 0 done (or up to date), 1 a file is out of date (--check), 2 a defaults file cannot be
turned into a spec (e.g. a variable without its comment).
"""

from __future__ import annotations

import argparse
import difflib
import pathlib
import re
import sys

import yaml

ROLES = pathlib.Path(__file__).resolve().parents[1] / "roles"
HEADER = (
    "---\n"
    "# Mirrors defaults/main.yml; generated from it by scripts/argument-specs.py (each description is the\n"
    "# comment above the variable there). Edit defaults/main.yml and rerun the script:\n"
    "# tests/unit/test_role_argument_specs.py fails when they drift.\n"
)
# bool before int: True is an int too.
TYPES = ((bool, "bool"), (int, "int"), (str, "str"), (list, "list"), (dict, "dict"))
TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)[ \t]*:(?:[ \t]|$)")
WIDTH = 120


class SpecError(Exception):
    """A defaults file that cannot be turned into an argument spec."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def _relative(path):
    try:
        return str(path.relative_to(ROLES.parent))
    except ValueError:
        return str(path)


def describe(defaults_path):
    """Return {variable: description} from the comment block directly above each top-level variable."""
    lines = defaults_path.read_text(encoding="utf-8").splitlines()
    descriptions = {}
    for number, line in enumerate(lines):
        match = TOP_LEVEL_KEY.match(line)
        if not match:
            continue
        block = []
        above = number - 1
        while above >= 0 and lines[above].startswith("#"):
            block.insert(0, re.sub(r"^#+ ?", "", lines[above]).strip())
            above -= 1
        description = " ".join(text for text in block if text)
        if not description:
            raise SpecError(
                "%s:%d: variable %s has no comment directly above it; describe it in '# ' lines right above"
                " the variable (no blank line in between)" % (_relative(defaults_path), number + 1, match.group(1))
            )
        descriptions[match.group(1)] = description
    return descriptions


def spec_type(name, value):
    for python_type, spec_name in TYPES:
        if isinstance(value, python_type):
            return spec_name
    raise SpecError("variable %s: unsupported type %s of its default %r" % (name, type(value).__name__, value))


def options(role_dir):
    """The argument spec options of a role, in the order of its defaults/main.yml."""
    defaults_path = role_dir / "defaults" / "main.yml"
    defaults = yaml.safe_load(defaults_path.read_text(encoding="utf-8")) or {}
    if not isinstance(defaults, dict):
        raise SpecError("%s is not a mapping of variables" % _relative(defaults_path))
    descriptions = describe(defaults_path)
    unmatched = sorted(set(defaults) - set(descriptions))
    if unmatched:
        raise SpecError(
            "%s: variable(s) %s not found as 'name:' at the start of a line; write each variable as a plain"
            " top-level key" % (_relative(defaults_path), ", ".join(unmatched))
        )
    result = {}
    for name, value in defaults.items():
        spec = {"description": descriptions[name], "type": spec_type(name, value)}
        if spec["type"] == "list" and all(isinstance(item, str) for item in value):
            spec["elements"] = "str"
        spec["default"] = value
        result[name] = spec
    return result


def render(role_dir):
    """The text meta/argument_specs.yml of a role should have."""
    specs_path = role_dir / "meta" / "argument_specs.yml"
    if not specs_path.exists():
        raise SpecError(
            "%s is missing: create it with argument_specs.main.short_description first" % _relative(specs_path)
        )
    current = yaml.safe_load(specs_path.read_text(encoding="utf-8")) or {}
    entry_points = current.get("argument_specs") or {}
    main = entry_points.get("main") or {}
    if not main.get("short_description"):
        raise SpecError("%s has no argument_specs.main.short_description" % _relative(specs_path))
    entry = {key: value for key, value in main.items() if key != "options"}
    entry["options"] = options(role_dir)
    specs = {"argument_specs": {"main": entry}}
    specs["argument_specs"].update((key, value) for key, value in entry_points.items() if key != "main")
    body = yaml.dump(specs, Dumper=_Dumper, sort_keys=False, width=WIDTH, allow_unicode=True, default_flow_style=False)
    return HEADER + body


def roles(names):
    found = sorted(path for path in ROLES.iterdir() if (path / "defaults" / "main.yml").exists())
    if not names:
        return found
    unknown = sorted(set(names) - {path.name for path in found})
    if unknown:
        raise SpecError("no role with a defaults/main.yml named %s" % ", ".join(unknown))
    return [ROLES / name for name in names]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file is out of date")
    parser.add_argument("roles", nargs="*", metavar="ROLE", help="role names (default: every role with defaults)")
    args = parser.parse_args(argv)

    stale = []
    try:
        for role_dir in roles(args.roles):
            specs_path = role_dir / "meta" / "argument_specs.yml"
            wanted = render(role_dir)
            existing = specs_path.read_text(encoding="utf-8")
            if existing == wanted:
                continue
            if args.check:
                stale.append(role_dir.name)
                sys.stdout.writelines(
                    difflib.unified_diff(
                        existing.splitlines(True),
                        wanted.splitlines(True),
                        _relative(specs_path),
                        _relative(specs_path) + " (from defaults/main.yml)",
                    )
                )
            else:
                specs_path.write_text(wanted, encoding="utf-8")
                print("wrote %s" % _relative(specs_path))
    except (SpecError, OSError, yaml.YAMLError) as exc:
        print("argument-specs: %s" % exc, file=sys.stderr)
        return 2
    if stale:
        print(
            "argument-specs: out of date for role(s) %s: run python scripts/argument-specs.py" % ", ".join(stale),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
