# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A collection built from a checkout that deployed (make deploy) carries none of what the deploy wrote."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WRITTEN_BY_A_DEPLOY = [
    "inventories/local/credentials/postgres_password",
    "inventories/example/credentials/jwt_secret",
    "inventories/local/group_vars/all/local_images.yml",
]


def test_the_built_artifact_holds_no_credentials_or_machine_settings(tmp_path):
    source = tmp_path / "checkout"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if os.path.isfile(os.path.join(REPO, name)):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.join(REPO, name), source / name)
    for name in WRITTEN_BY_A_DEPLOY:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("---\nwritten: by a deploy\n", encoding="utf-8")
    galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--force", "--output-path", str(tmp_path), str(source)],
                   capture_output=True, text=True, check=True)
    artifact, = tmp_path.glob("plusptt-deploy-*.tar.gz")
    with tarfile.open(artifact) as archive:
        names = archive.getnames()
    assert "roles/secrets/tasks/main.yml" in names
    assert not [name for name in names if name in WRITTEN_BY_A_DEPLOY or "credentials" in name.split("/")]
