# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the N slowest tests of each pytest stage from its JUnit XML (scripts/test.sh writes one per stage)."""

from __future__ import annotations

import pathlib
import sys
from xml.etree import ElementTree


def slowest(path, count):
    cases = []
    # The files are the ones pytest wrote in this run, not outside input.
    for case in ElementTree.parse(path).getroot().iter("testcase"):  # noqa: S314
        name = "%s::%s" % (case.get("classname", ""), case.get("name", ""))
        cases.append((float(case.get("time") or 0), name))
    return sorted(cases, reverse=True)[:count]


def main(folder, count):
    for path in sorted(pathlib.Path(folder).glob("*.xml"), key=lambda item: item.stat().st_mtime):
        try:
            cases = slowest(path, count)
        except ElementTree.ParseError:
            print("\n%s: unreadable JUnit XML" % path.stem)
            continue
        print("\nslowest tests of %s:" % path.stem)
        for seconds, name in cases:
            print("%8.1f s  %s" % (seconds, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10))
