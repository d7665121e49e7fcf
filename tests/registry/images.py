# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print "<local image> <official reference>" for every image the roles pin by default.

The local image is what tests/images/build.sh built for that variable (tests/images/offline.yml); the
official reference is the role default, with Docker Hub's implicit library/ namespace made explicit, as a
registry mirror serves it.
"""

from __future__ import annotations

import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]


def role_defaults():
    values = {}
    for path in sorted((REPO / "roles").glob("*/defaults/main.yml")):
        values.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return values


def mirror_path(reference):
    """'redis:7' -> 'library/redis:7'; a reference with a namespace is kept."""
    name = reference.split("@", 1)[0].rsplit(":", 1)[0]
    return reference if "/" in name else "library/" + reference


def pairs():
    local = yaml.safe_load((REPO / "tests" / "images" / "offline.yml").read_text(encoding="utf-8"))
    defaults = role_defaults()
    for variable, image in sorted(local.items()):
        official = defaults.get(variable)
        if re.search(r"_image$", variable) and isinstance(official, str) and official:
            yield image, mirror_path(official)


if __name__ == "__main__":
    for image, official in pairs():
        print(image, official)
