# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline bundles: playbooks/images.yml saves on the controller and loads into a host that has no image.

The controller pulls the media host's image from the test registry (plusptt_image_registry, the registry's
own name: its loopback instance, which this machine's engine reaches without a CA in /etc/docker), saves it,
and the host, emptied of every image and container, gets it from the bundle alone and is deployed with
plusptt_image_pull: never. Then the inventory's deploy brings the host back.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

import pytest
from conftest import ok, play, ssh

REGISTRY = "127.0.0.1:5445"
HOST = "plusptt-lab-media2"
ON_REGISTRY = ("-e", "plusptt_image_registry=" + REGISTRY)


def changed(result):
    recap = result.stdout.split("PLAY RECAP", 1)[1]
    return {host: int(count) for host, count in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", recap, re.MULTILINE)}


def images(bundle, *args):
    return play("playbooks/images.yml", "--limit", HOST, *ON_REGISTRY, "-e", "images_bundle_dir=%s" % bundle, *args)


def host_images():
    return ssh(HOST, "docker image ls --format '{{.Repository}}:{{.Tag}}'").stdout.split()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle") / "image-bundle"
    ok(images(folder, "-e", "images_action=save"))
    return folder


def test_save_writes_each_needed_image_with_its_id_and_checksum(bundle):
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["reference"] for entry in manifest] == [REGISTRY + "/livekit/livekit-server:v1.13.7"]
    entry = manifest[0]
    local_id = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", entry["reference"]],
                              capture_output=True, text=True, check=True).stdout.strip()
    assert entry["id"] == local_id and entry["size"] > 0
    sums = dict(reversed(line.split("  ", 1)) for line in (bundle / "SHA256SUMS").read_text().splitlines())
    assert sums == {entry["file"]: hashlib.sha256((bundle / entry["file"]).read_bytes()).hexdigest()}


def test_a_second_save_changes_nothing(bundle):
    assert changed(ok(images(bundle, "-e", "images_action=save"))) == {HOST: 0}


def test_a_damaged_archive_is_refused_before_the_host_changes(bundle, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(bundle, damaged)
    archive = next((damaged / "images").iterdir())
    with open(archive, "r+b") as handle:
        handle.seek(archive.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    result = images(damaged, "-e", "images_action=load")
    assert result.returncode != 0
    assert "images/" + archive.name in result.stdout and "corrupt" in result.stdout, result.stdout[-2000:]
    assert ssh(HOST, "test -e /var/tmp/plusptt-images", check=False).returncode != 0
    archive.unlink()
    result = images(damaged, "-e", "images_action=load")
    assert result.returncode != 0 and "images/" + archive.name in result.stdout, result.stdout[-2000:]


def test_a_host_without_images_is_loaded_from_the_bundle_and_deployed_without_pulling(bundle):
    ssh(HOST, "docker ps -aq | xargs -r docker rm -f >/dev/null; docker image prune -af >/dev/null")
    assert host_images() == []
    first = ok(images(bundle, "-e", "images_action=load"))
    assert changed(first)[HOST] > 0
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert host_images() == [manifest[0]["reference"]]
    assert ssh(HOST, "docker image inspect --format '{{.Id}}' " + manifest[0]["reference"]).stdout.strip() \
        == manifest[0]["id"]
    assert changed(ok(images(bundle, "-e", "images_action=load"))) == {HOST: 0}
    ok(play("playbooks/site.yml", "--limit", HOST, *ON_REGISTRY, "-e", "plusptt_image_pull=never"))
    running = ssh(HOST, "docker ps --filter label=plusptt.project --format '{{.Image}} {{.Status}}'").stdout
    assert running.startswith(manifest[0]["reference"] + " ") and "(healthy)" in running, running
    assert host_images() == [manifest[0]["reference"]]


def test_the_inventory_deploy_brings_the_host_back():
    ok(play("playbooks/site.yml", "--limit", HOST))
    running = ssh(HOST, "docker ps --filter label=plusptt.project --format '{{.Image}}'").stdout.split()
    assert running == ["livekit/livekit-server:v1.13.7"]
