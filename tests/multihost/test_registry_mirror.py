# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Servers that cannot reach Docker Hub: every lab host pulled its images through the registry mirror.

Nothing was preloaded on the hosts (scripts/lab.sh); the docker role wrote the mirror into daemon.json and
the mirror's CA into /etc/docker/certs.d, and compose pulled the official references the roles pin.
"""

from __future__ import annotations

import json
import os

import pytest
import requests
from conftest import ROOT, ssh

MIRROR = "172.30.77.1:5443"
CA = os.path.join(ROOT, "tests", "registry", ".run", "tls", "ca.crt")
HOSTS = ("plusptt-lab-db", "plusptt-lab-app", "plusptt-lab-media1", "plusptt-lab-media2")
MANIFESTS = ", ".join(["application/vnd.docker.distribution.manifest.v2+json",
                       "application/vnd.oci.image.manifest.v1+json"])


def mirror_digest(reference):
    """The manifest digest the mirror serves for an official reference (library/ for Docker Hub's own)."""
    name, tag = reference.rsplit(":", 1)
    path = name if "/" in name else "library/" + name
    answer = requests.head("https://%s/v2/%s/manifests/%s" % (MIRROR, path, tag), headers={"Accept": MANIFESTS},
                           verify=CA, timeout=10)
    assert answer.status_code == 200, (reference, answer.status_code)
    return answer.headers["Docker-Content-Digest"]


@pytest.mark.parametrize("host", HOSTS)
def test_the_engine_uses_the_mirror_and_trusts_its_ca(host):
    mirrors = json.loads(ssh(host, "docker info --format '{{json .RegistryConfig.Mirrors}}'").stdout)
    assert mirrors == ["https://%s/" % MIRROR]
    with open(CA, encoding="utf-8") as handle:
        assert ssh(host, "cat /etc/docker/certs.d/%s/ca.crt" % MIRROR).stdout == handle.read()


@pytest.mark.parametrize("host", HOSTS)
def test_every_pulled_image_is_the_mirror_s_under_its_official_name(host):
    listing = ssh(host, "docker ps --format '{{.Image}}'").stdout.split()
    pulled = sorted(set(image for image in listing if not image.startswith("plusptt/")))
    assert pulled, "no container runs a pulled image"
    assert not [image for image in pulled if image.startswith("plusptt-test/")]
    for reference in pulled:
        digests = json.loads(ssh(host, "docker image inspect --format '{{json .RepoDigests}}' " + reference).stdout)
        name = reference.rsplit(":", 1)[0]
        assert "%s@%s" % (name, mirror_digest(reference)) in digests, (reference, digests)


def test_the_app_images_were_built_on_base_images_from_the_mirror():
    for variable, role in (("backend_python_image", "backend"), ("frontend_node_image", "frontend")):
        with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml"), encoding="utf-8") as handle:
            reference = next(line.split(":", 1)[1].strip() for line in handle if line.startswith(variable + ":"))
        digests = json.loads(ssh("plusptt-lab-app",
                                 "docker image inspect --format '{{json .RepoDigests}}' " + reference).stdout)
        assert "%s@%s" % (reference.rsplit(":", 1)[0], mirror_digest(reference)) in digests, (reference, digests)
