# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of deploy runs on the converged single-host test stack (make e2e-up first).

Measures in one run, each as seconds and as a ratio to the floor:
  floor     `docker compose up -d` of every PlusPTT project plus one request per public route
  no-op     a site.yml re-run that has nothing to change (median of --runs): as users run it (a host as the last
            completed run left it is only probed), with every task (plusptt_full_run=true), and every task
            under the opt-in mitogen_linear; the same on the multi-host lab when it is up (make lab-up)
  setting   a site.yml run after one backend setting changed, and which containers it recreated; its own floor:
            `docker compose up -d --wait` of the backend project after that setting changed in its compose file,
            plus one request per public route
  rolling   upgrade.yml replacing the backend and web app images (two replicas each) while a load of
            --rate requests/s alternates /api/health/ and / through nginx: requests sent, failed, worst latency
  first     site.yml on a host whose stack was removed (images and secrets kept), with --first-deploy
Prints a table and writes the figures as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import pathlib
import re
import ssl
import statistics
import subprocess
import sys
import threading
import time

import aiohttp
import requests
import urllib3

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_INVENTORY = REPO / "tests" / "e2e" / "inventory" / "hosts.yml"
LAB_INVENTORY = REPO / "tests" / "lab" / "inventory" / "hosts.yml"
FULL_RUN = ("-e", "plusptt_full_run=true")
PROJECTS = ("supabase", "livekit", "backend", "frontend", "nginx")
RECAP_RE = re.compile(r"ok=(\d+)\s+changed=(\d+)")
DEPLOYING_RE = re.compile(r"Deploying, because: (.*?)'?\n\n", re.S)


def env_file(path):
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value
    return values


def playbook(inventory, name, *extra, strategy=None, env_extra=None, reasons=None):
    """Run a playbook; return (seconds, tasks, changed). reasons: a list that gets what each host deployed and why."""
    command = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / name),
               *extra]
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", **(env_extra or {}))
    if strategy:
        env["ANSIBLE_STRATEGY"] = strategy
    start = time.monotonic()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"{name} {' '.join(extra)} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    if reasons is not None:
        reasons.extend(" ".join(text.split()) for text in DEPLOYING_RE.findall(result.stdout))
    recap = result.stdout.split("PLAY RECAP", 1)[-1]
    counts = [tuple(int(n) for n in match) for match in RECAP_RE.findall(recap)]
    return seconds, sum(c[0] for c in counts), sum(c[1] for c in counts)


def role_default(role, name):
    text = (REPO / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8")
    return re.search(rf"^{name}: *(\S+)", text, re.MULTILINE).group(1)


def container_ids():
    out = subprocess.run(["docker", "ps", "--no-trunc", "--filter", "label=plusptt.project",
                          "--format", "{{.Names}} {{.ID}}"], capture_output=True, text=True, check=True).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


def floor(root, base_url, anon_key):
    """The work a no-op run cannot avoid: compose up of each project, one request per route."""
    start = time.monotonic()
    for project in PROJECTS:
        folder = root / project
        if (folder / "compose.yml").exists():
            subprocess.run(["docker", "compose", "up", "-d"], cwd=folder, capture_output=True, check=True)
    request_routes(root, base_url, anon_key)
    return time.monotonic() - start


def backend_setting_floor(root, base_url, anon_key, workers):
    """The work one changed backend setting needs: the backend recreated with it and healthy, one request per
    route. The compose file is put back after (untimed), and the next site.yml run finds it as recorded."""
    compose = root / "backend" / "compose.yml"
    original = compose.read_text(encoding="utf-8")
    changed, count = re.subn(r"(GUNICORN_WORKERS: )'?\d+'?", rf"\g<1>'{workers}'", original)
    if count != 1:
        sys.exit("backend floor: GUNICORN_WORKERS not found once in " + str(compose))
    compose.write_text(changed, encoding="utf-8")
    try:
        start = time.monotonic()
        subprocess.run(["docker", "compose", "up", "-d", "--wait"], cwd=compose.parent, capture_output=True,
                       check=True)
        request_routes(root, base_url, anon_key)
        return time.monotonic() - start
    finally:
        compose.write_text(original, encoding="utf-8")
        subprocess.run(["docker", "compose", "up", "-d", "--wait"], cwd=compose.parent, capture_output=True,
                       check=True)


def request_routes(root, base_url, anon_key):
    session = requests.Session()
    session.trust_env = False
    ca = root / "nginx" / "ca" / "ca.crt"  # the test stack's private CA
    session.verify = str(ca) if ca.exists() else False
    routes = (("/", {}), ("/api/health/", {}), ("/livekit/", {}), ("/auth/v1/health", {"apikey": anon_key}))
    for path, headers in routes:
        response = session.get(base_url + path, headers=headers, timeout=30)
        if response.status_code != 200:
            sys.exit(f"floor: {path} answered {response.status_code}")


class Load:
    """Open-loop HTTP load in a thread: a request every 1/rate s, whether or not earlier ones have answered."""

    def __init__(self, base_url, paths, rate, ca_file):
        self.base_url, self.paths, self.rate = base_url, paths, rate
        self.context = ssl.create_default_context(cafile=ca_file) if ca_file else False
        self.sent = self.failed = 0
        self.worst = 0.0
        self.errors = {}
        self.first_failures = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self.run()), daemon=True)

    async def one(self, session, path):
        start = time.monotonic()
        try:
            async with session.get(self.base_url + path) as response:
                await response.read()
                ok = 200 <= response.status < 300
                reason = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            ok, reason = False, type(error).__name__
        self.worst = max(self.worst, time.monotonic() - start)
        if not ok:
            self.failed += 1
            self.errors[reason] = self.errors.get(reason, 0) + 1
            if len(self.first_failures) < 5:
                self.first_failures.append(f"{path} at {start - self.started:.1f}s: {reason}")

    async def run(self):
        connector = aiohttp.TCPConnector(limit=200, ssl=self.context)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False) as session:
            pending = set()
            self.started = start = time.monotonic()
            while not self.stopping.is_set():
                due = start + self.sent / self.rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                task = asyncio.create_task(self.one(session, self.paths[self.sent % len(self.paths)]))
                pending.add(task)
                task.add_done_callback(pending.discard)
                self.sent += 1
            self.seconds = time.monotonic() - start
            await asyncio.gather(*pending)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()


def image_of(container):
    return subprocess.run(["docker", "inspect", "-f", "{{.Config.Image}}", container],
                          capture_output=True, text=True, check=True).stdout.strip()


def rolling_upgrade(inventory, base_url, rate, ca_file):
    """upgrade.yml replaces the backend and web app images, two replicas each, under load."""
    running = container_ids()
    images = {role: image_of(name) for role, name in (("backend", "plusptt-backend"), ("frontend", "supabase-nginx"))
              if name in running}
    if len(images) != 2:
        sys.exit("rolling: run the bench on the test stack with one plusptt-backend and one supabase-nginx")
    replicas = ["-e", "backend_replicas=2", "-e", "frontend_replicas=2"]
    pinned = [arg for role, image in images.items() for arg in ("-e", f"{role}_image={image}")]
    playbook(inventory, "site.yml", *replicas, *pinned)
    bumped = []
    for role, image in images.items():
        subprocess.run(["docker", "tag", image, f"plusptt-bench/{role}:2"], check=True)
        bumped += ["-e", f"{role}_image=plusptt-bench/{role}:2"]
    before = container_ids()
    with Load(base_url, ["/api/health/", "/"], rate, ca_file) as load:
        time.sleep(3)
        seconds = playbook(inventory, "upgrade.yml", *replicas, *bumped)[0]
        time.sleep(3)
    after = container_ids()
    playbook(inventory, "site.yml")  # back to the inventory's images and one replica each
    replaced = sorted(name for name in before if name.startswith(("backend-", "frontend-")) and name not in after)
    return {"seconds": seconds, "requests": load.sent, "failed": load.failed,
            "worst latency ms": round(load.worst * 1000), "rate": round(load.sent / load.seconds),
            "replaced": replaced,
            **({"errors": load.errors, "first failures": load.first_failures} if load.errors else {})}


def noop_runs(runs, inventory, *extra, **options):
    """Median of runs; tasks of the first, the most any changed, and what a run that was not a no-op deployed."""
    reasons = []
    results = [playbook(inventory, "site.yml", *extra, reasons=reasons, **options) for run_index in range(runs)]
    figure = {"seconds": statistics.median(run[0] for run in results), "tasks": results[0][1],
              "changed": max(run[2] for run in results)}
    if reasons and not extra:
        figure["deployed"] = sorted(set(reasons))
    return figure


def lab_is_up():
    """Whether the multi-host lab of tests/lab runs (scripts/lab.sh up)."""
    result = subprocess.run(["docker", "ps", "--quiet", "--filter", "name=^plusptt-lab-app$"],
                            capture_output=True, text=True, check=False)
    return bool(result.stdout.strip()) and (REPO / "tests" / "lab" / ".ssh" / "id_ed25519").exists()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=str(DEFAULT_INVENTORY))
    parser.add_argument("--root", default="/opt/plusptt", help="plusptt_root of the stack")
    parser.add_argument("--url", default="https://localhost:8443", help="the stack's public URL from this host")
    parser.add_argument("--runs", type=int, default=3, help="no-op re-runs to take the median of")
    parser.add_argument("--rate", type=int, default=250, help="requests/s of the load during the rolling upgrade")
    parser.add_argument("--first-deploy", action="store_true",
                        help="also remove the stack (data included) and time the deploy that brings it back")
    args = parser.parse_args()
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    root = pathlib.Path(args.root)
    if not (root / "supabase" / ".env").exists():
        sys.exit(f"no converged stack under {root}: run make e2e-up first")
    anon_key = env_file(root / "supabase" / ".env")["ANON_KEY"]

    figures = {}
    figures["floor"] = {"seconds": floor(root, args.url, anon_key)}

    # Not timed: the stack converged and recorded as a completed run left it, whatever ran before.
    playbook(args.inventory, "site.yml")
    figures["no-op re-run"] = noop_runs(args.runs, args.inventory)
    figures["no-op, every task"] = noop_runs(args.runs, args.inventory, *FULL_RUN)
    figures["no-op, every task, mitogen"] = noop_runs(args.runs, args.inventory, *FULL_RUN, strategy="mitogen_linear")
    if lab_is_up():
        lab_env = {"PLUSPTT_SECRETS_DIR": str(LAB_INVENTORY.parent / "credentials"),
                   "PLUSPTT_LAB_KEY": str(REPO / "tests" / "lab" / ".ssh" / "id_ed25519")}
        playbook(LAB_INVENTORY, "site.yml", env_extra=lab_env)
        figures["no-op re-run, lab"] = noop_runs(args.runs, LAB_INVENTORY, env_extra=lab_env)
        figures["no-op, every task, lab"] = noop_runs(args.runs, LAB_INVENTORY, *FULL_RUN, env_extra=lab_env)

    workers = str(int(role_default("backend", "backend_gunicorn_workers")) + 1)
    figures["one backend setting, floor"] = {"seconds": backend_setting_floor(root, args.url, anon_key, workers)}
    playbook(args.inventory, "site.yml")  # as recorded again, whatever the floor left
    before = container_ids()
    seconds, tasks, changed = playbook(args.inventory, "site.yml", "-e", "backend_gunicorn_workers=" + workers)
    after = container_ids()
    figures["one backend setting"] = {
        "seconds": seconds, "tasks": tasks, "changed": changed,
        "x its floor": round(seconds / figures["one backend setting, floor"]["seconds"], 1),
        "recreated": sorted(name for name, cid in after.items() if before.get(name) != cid)}
    playbook(args.inventory, "site.yml")  # back to the inventory's setting

    ca = root / "nginx" / "ca" / "ca.crt"
    figures["rolling upgrade under load"] = rolling_upgrade(args.inventory, args.url, args.rate,
                                                            str(ca) if ca.exists() else None)

    if args.first_deploy:
        playbook(args.inventory, "teardown.yml", "-e", "plusptt_teardown_purge=true")
        seconds, tasks, changed = playbook(args.inventory, "site.yml")
        figures["first deploy"] = {"seconds": seconds, "tasks": tasks, "changed": changed}

    base = figures["floor"]["seconds"]
    print(f"{'measure':<22} {'seconds':>8} {'x floor':>8}  notes")
    for name, figure in figures.items():
        notes = ", ".join(f"{key} {value}" for key, value in figure.items() if key != "seconds")
        print(f"{name:<22} {figure['seconds']:8.1f} {figure['seconds'] / base:8.1f}  {notes}")

    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = results / f"{stamp}.json"
    out.write_text(json.dumps({"taken": stamp, "figures": figures}, indent=2) + "\n", encoding="utf-8")
    print(f"written: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
