# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private registry with its own name and a login: plusptt_image_registry moves every image reference to it.

scripts/registry.sh serves the mirror's images read-only on a second port that asks for a login. One media
host is deployed from it, then from the mirror again as the inventory says.
"""

from __future__ import annotations

import json
import os

import pytest
import requests
from conftest import ROOT, ok, play, ssh

PRIVATE = "172.30.77.1:5444"
MIRROR = "172.30.77.1:5443"
RUN = os.path.join(ROOT, "tests", "registry", ".run")
CA = os.path.join(RUN, "tls", "ca.crt")
HOST = "plusptt-lab-media2"


def containers():
    """{container name: image reference} of the PlusPTT containers on the host."""
    listing = ssh(HOST, "docker ps --filter label=plusptt.project --format '{{.Names}} {{.Image}}'").stdout.split("\n")
    return dict(line.split(" ", 1) for line in listing if line.strip())


@pytest.fixture(scope="module")
def password():
    with open(os.path.join(RUN, "auth", "password"), encoding="utf-8") as handle:
        return handle.read().strip()


@pytest.fixture(scope="module")
def private_vars(tmp_path_factory, password):
    path = tmp_path_factory.mktemp("private-registry") / "vars.json"
    path.write_text(json.dumps({
        "plusptt_image_registry": PRIVATE,
        "docker_registry_ca_certs": {MIRROR: CA, PRIVATE: CA},
        "docker_registry_auth": [{"registry": PRIVATE, "username": "plusptt-deploy", "password": password}],
    }), encoding="utf-8")
    path.chmod(0o600)
    return "@" + str(path)


def test_the_private_registry_refuses_a_pull_without_login():
    answer = requests.get("https://%s/v2/livekit/livekit-server/tags/list" % PRIVATE, verify=CA, timeout=10)
    assert answer.status_code == 401


def test_every_image_comes_from_the_private_registry_after_a_login(private_vars, password):
    before = containers()
    assert before and not [image for image in before.values() if image.startswith(PRIVATE)]
    result = ok(play("playbooks/site.yml", "--limit", HOST, "-e", private_vars))
    assert password not in result.stdout + result.stderr
    after = containers()
    assert set(after) == set(before)
    for name, image in after.items():
        assert image.startswith(PRIVATE + "/"), (name, image)
        # The same path and tag as the official reference, the library/ path for Docker Hub's own images.
        official = before[name]
        assert image.split("/", 1)[1] in (official, "library/" + official), (official, image)
    config = ssh(HOST, "stat -c %a /root/.docker/config.json && cat /root/.docker/config.json").stdout
    mode, text = config.split("\n", 1)
    assert mode == "600" and PRIVATE in json.loads(text)["auths"]


def test_a_second_run_with_every_task_changes_nothing(private_vars):
    result = ok(play("playbooks/site.yml", "--limit", HOST, "-e", private_vars, "-e", "plusptt_full_run=true"))
    recap = result.stdout.split("PLAY RECAP", 1)[1]
    assert " changed=0 " in recap, recap


def test_the_inventory_deploy_brings_the_official_references_back():
    ok(play("playbooks/site.yml", "--limit", HOST))
    assert not [image for image in containers().values() if image.startswith(PRIVATE)]
