# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release the build stage packs is the one the changelog describes: galaxy.yml's version is the newest
release of changelogs/changelog.yaml, CHANGELOG.rst has its section, and no plugin was added in a later one
(but the next release, major or minor as the changelog fragments that wait for it say).
  python scripts/check-release.py [ARTIFACT.tar.gz]   (also: the artifact carries that version and CHANGELOG.rst)"""

from __future__ import annotations

import json
import pathlib
import re
import sys
import tarfile

import yaml
from ansible.module_utils.compat.version import LooseVersion

REPO = pathlib.Path(__file__).resolve().parents[1]


def problems(artifact=None):
    found = []
    version = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["version"]
    releases = yaml.safe_load((REPO / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))["releases"] or {}
    newest = max(releases, key=LooseVersion) if releases else None
    if newest != version:
        found.append("galaxy.yml says %s, the newest release of changelogs/changelog.yaml is %s: run "
                     "antsibull-changelog release --version %s" % (version, newest, version))
    if not re.search(r"^v%s\n=+$" % re.escape(version), (REPO / "CHANGELOG.rst").read_text(encoding="utf-8"),
                     re.MULTILINE):
        found.append("CHANGELOG.rst has no section v%s: run antsibull-changelog generate" % version)
    # Plugins added since the release carry the next release's version while fragments wait for it: the next
    # major when a fragment breaks or removes something (semantic versioning), else the next minor.
    major, minor = (int(part) for part in version.split(".")[:2])
    fragments = [yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                 for path in (REPO / "changelogs" / "fragments").glob("*.yml")]
    breaking = any(set(fragment) & {"breaking_changes", "removed_features"} for fragment in fragments)
    upcoming = ("%d.0.0" % (major + 1) if breaking else "%d.%d.0" % (major, minor + 1)) if fragments else None
    for path in sorted((REPO / "plugins").rglob("*")):
        if path.suffix not in (".py", ".yml"):
            continue
        for added in re.findall(r"version_added: *['\"]?([0-9][0-9.]*)", path.read_text(encoding="utf-8")):
            if LooseVersion(added) > LooseVersion(version) and added != upcoming:
                found.append("%s: version_added %s is later than the release %s"
                             % (path.relative_to(REPO), added, version))
    if artifact:
        with tarfile.open(artifact) as archive:
            names = archive.getnames()
            manifest = json.load(archive.extractfile("MANIFEST.json"))
        if manifest["collection_info"]["version"] != version:
            found.append("%s is version %s, galaxy.yml says %s"
                         % (artifact, manifest["collection_info"]["version"], version))
        if "CHANGELOG.rst" not in names:
            found.append("%s holds no CHANGELOG.rst" % artifact)
    return found


if __name__ == "__main__":
    issues = problems(sys.argv[1] if len(sys.argv) > 1 else None)
    for issue in issues:
        print("release: " + issue, file=sys.stderr)
    sys.exit(1 if issues else 0)
