# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rolling update of a scaled service on the lab's app host: two backend replicas get a new image one at a time
while the entry host's nginx keeps answering /api/health/ from the other. Only the backend's run tasks are
played (--tags backend_run), with its image named, so the test converges nothing else."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import requests
from conftest import ENTRY, ok, play, ssh, ssh_argv

APP = "plusptt-lab-app"
BACKEND_ONLY = ("--tags", "backend_run")
BACKEND_PROJECT = "label=com.docker.compose.project=backend"


def backend_containers():
    """Running containers of the backend project on the app host: name -> (id, image)."""
    out = ssh(APP, "docker ps --filter %s --format '{{.Names}} {{.ID}} {{.Image}}'" % BACKEND_PROJECT).stdout
    return {name: (cid, image) for name, cid, image in (line.split() for line in out.splitlines())}


def backend_image():
    return json.loads(ssh(APP, "docker inspect plusptt-backend").stdout)[0]["Config"]["Image"]


class Prober(threading.Thread):
    """Asks /api/health/ through the entry host's nginx every 20 ms and keeps every failure."""

    def __init__(self, ca_cert):
        super().__init__(daemon=True)
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = ca_cert
        self.sent = 0
        self.failures = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            self.sent += 1
            try:
                response = self.session.get(ENTRY + "/api/health/", timeout=10)
                if response.status_code != 200:
                    self.failures.append(f"HTTP {response.status_code}")
            except requests.RequestException as error:
                self.failures.append(repr(error))
            time.sleep(0.02)


def fewest_running(events, start_count):
    """Fewest backend containers running at any moment of a docker events stream."""
    running = lowest = start_count
    for event in events:
        running += {"start": 1, "die": -1}.get(event["Action"], 0)
        lowest = min(lowest, running)
    return lowest


def test_two_backend_replicas_are_replaced_one_at_a_time_while_the_other_serves(entry):
    image = backend_image()
    try:
        ok(play("playbooks/site.yml", *BACKEND_ONLY, "-e", "backend_replicas=2", "-e", f"backend_image={image}"))
        before = backend_containers()
        assert len(before) == 2 and all(name.startswith("backend-backend-") for name in before), before

        ssh(APP, "docker tag %s plusptt-test/backend-rolling:2" % image)
        # Streamed from the app host while it happens: the daemon keeps too few past events for --since.
        watcher = subprocess.Popen(
            ssh_argv(APP, "docker events --filter type=container --filter %s --format '{{json .}}'" % BACKEND_PROJECT),
            stdout=subprocess.PIPE, text=True)
        prober = Prober(entry.ca_path)
        prober.start()
        time.sleep(2)
        ok(play("playbooks/site.yml", *BACKEND_ONLY, "-e", "backend_replicas=2",
                "-e", "backend_image=plusptt-test/backend-rolling:2"))
        time.sleep(1)
        prober.stopping.set()
        prober.join()
        watcher.terminate()
        events = [json.loads(line) for line in watcher.communicate(timeout=30)[0].splitlines()]

        after = backend_containers()
        assert len(after) == 2 and {pair[1] for pair in after.values()} == {"plusptt-test/backend-rolling:2"}
        assert not {pair[0] for pair in before.values()} & {pair[0] for pair in after.values()}, "a replica was kept"
        assert any(event["Action"] == "start" for event in events), "no container start was seen"
        assert fewest_running(events, len(before)) >= 2, "an old replica stopped before its successor started"
        assert prober.sent > 50 and not prober.failures, (prober.sent, prober.failures[:10])
    finally:
        ok(play("playbooks/site.yml", *BACKEND_ONLY, "-e", f"backend_image={image}"))
    assert list(backend_containers()) == ["plusptt-backend"]
    assert backend_image() == image
