# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""App builds behind package mirrors: an index that cannot be reached fails the build naming its variable,
shows no password of its URL, and leaves the running containers in place; a build through an index with a
login in its URL keeps the login out of the output and out of the image."""

from __future__ import annotations

import os
import stat

import pytest

from conftest import ROOT, containers, deploy, docker, ok, play

SECRET = "s3cret"
BUILT = []  # images the tests built, removed once the stack runs the inventory's again


@pytest.fixture(scope="module", autouse=True)
def deployed_as_the_inventory_says():
    """Leave the stack as the inventory deploys it (the failed runs left their index settings in the build
    folders, so this run deploys again; the images are already built). It starts so: test_acme.py, before it,
    ends with the inventory's deploy."""
    yield
    ok(deploy())
    for image in BUILT:
        docker("rmi", image)


def app_container_ids():
    """The backend and frontend containers, which a failed build of their images must leave running."""
    return {name: info["Id"] for name, info in containers().items()
            if info["Config"]["Labels"].get("com.docker.compose.project") in ("backend", "frontend")}


@pytest.mark.parametrize("variable, url, tool, settings_file, build_tag", [
    ("plusptt_pip_index_url", "https://user:%s@pypi.unreachable.invalid/simple/" % SECRET, "pip",
     "backend/src/extra-pip.conf", "backend_install"),
    ("plusptt_npm_registry", "https://user:%s@npm.unreachable.invalid/" % SECRET, "npm",
     "frontend/src/extra.npmrc", "frontend_install"),
], ids=["pip", "npm"])
def test_an_unreachable_index_fails_the_build_naming_its_variable(variable, url, tool, settings_file, build_tag):
    before = app_container_ids()
    # Only the image build runs (its tag): the rest of the deploy does not take part in it.
    result = play("playbooks/site.yml", "--tags", build_tag, "-e", "%s=%s" % (variable, url))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert SECRET not in output
    failure = output[output.index("fatal:"):] if "fatal:" in output else output
    assert "image build failed; %s could not reach its package index" % tool in failure, failure[-3000:]
    assert variable in failure and "unreachable.invalid" in failure, failure[-3000:]
    assert len(before) >= 2 and app_container_ids() == before, "a running app container was replaced"
    # The setting reached the build as a file only root reads.
    path = os.path.join(ROOT, settings_file)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, encoding="utf-8") as handle:
        assert "unreachable.invalid" in handle.read()


def test_a_login_in_the_index_url_stays_out_of_the_output_and_the_image():
    # PyPI itself (the one index this machine reaches) takes the request and ignores the login.
    result = ok(play("playbooks/site.yml", "--tags", "backend_install,backend_run",
                     "-e", "plusptt_pip_index_url=https://user:%s@pypi.org/simple/" % SECRET))
    assert SECRET not in result.stdout + result.stderr
    image = docker("inspect", "--format", "{{.Config.Image}}", "plusptt-backend").strip()
    BUILT.append(image)
    assert SECRET not in docker("history", "--no-trunc", image)
    assert SECRET not in docker("image", "inspect", image)
    assert docker("inspect", "--format", "{{.State.Health.Status}}", "plusptt-backend").strip() == "healthy"
