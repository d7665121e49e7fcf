# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark of deploy runs on the converged single-host test stack (make e2e-up first).

Measures in one run, each as seconds and as a ratio to the floor:
  floor     `docker compose up -d` of every PlusPTT project plus one request per public route
  no-op     a site.yml re-run that has nothing to change (median of --runs)
  setting   a site.yml run after one backend setting changed, and which containers it recreated
  first     site.yml on a host whose stack was removed (images and secrets kept), with --first-deploy
Prints a table and writes the figures as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

import requests
import urllib3

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_INVENTORY = REPO / "tests" / "e2e" / "inventory" / "hosts.yml"
PROJECTS = ("supabase", "livekit", "backend", "frontend", "nginx")
RECAP_RE = re.compile(r"ok=(\d+)\s+changed=(\d+)")


def env_file(path):
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value
    return values


def playbook(inventory, name, *extra):
    """Run a playbook; return (seconds, tasks, changed)."""
    command = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / name),
               *extra]
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    start = time.monotonic()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"{name} {' '.join(extra)} failed:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
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
    session = requests.Session()
    session.trust_env = False
    ca = root / "nginx" / "ca" / "ca.crt"  # the test stack's private CA
    session.verify = str(ca) if ca.exists() else False
    routes = (("/", {}), ("/api/health/", {}), ("/livekit/", {}), ("/auth/v1/health", {"apikey": anon_key}))
    for path, headers in routes:
        response = session.get(base_url + path, headers=headers, timeout=30)
        if response.status_code != 200:
            sys.exit(f"floor: {path} answered {response.status_code}")
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=str(DEFAULT_INVENTORY))
    parser.add_argument("--root", default="/opt/plusptt", help="plusptt_root of the stack")
    parser.add_argument("--url", default="https://localhost:8443", help="the stack's public URL from this host")
    parser.add_argument("--runs", type=int, default=3, help="no-op re-runs to take the median of")
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

    noop = [playbook(args.inventory, "site.yml") for run_index in range(args.runs)]
    figures["no-op re-run"] = {"seconds": statistics.median(run[0] for run in noop),
                               "tasks": noop[0][1], "changed": max(run[2] for run in noop)}

    before = container_ids()
    workers = str(int(role_default("backend", "backend_gunicorn_workers")) + 1)
    seconds, tasks, changed = playbook(args.inventory, "site.yml", "-e", "backend_gunicorn_workers=" + workers)
    after = container_ids()
    figures["one backend setting"] = {
        "seconds": seconds, "tasks": tasks, "changed": changed,
        "recreated": sorted(name for name, cid in after.items() if before.get(name) != cid)}
    playbook(args.inventory, "site.yml")  # back to the inventory's setting

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
