# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the end-to-end tests: they talk to the stack converged from tests/e2e/inventory."""

from __future__ import annotations

import json
import os
import sys
import subprocess
import time

import jwt
import pytest
import requests
import yaml

# Probes both suites share (tests/turn_probe.py), and the collection from the checkout's .collections link.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".collections"))
from ansible_collections.plusptt.deploy.plugins.filter.dotenv import dotenv_values  # noqa: E402

ROOT = os.environ.get("PLUSPTT_ROOT", "/opt/plusptt")
CREDENTIALS = os.environ.get(
    "PLUSPTT_E2E_CREDENTIALS", os.path.join(os.path.dirname(__file__), "inventory", "credentials")
)
HTTPS = "https://localhost:8443"
HTTP = "http://localhost:8080"


def read_env_file(path):
    """The variables of a deployed .env file, read as Compose reads them (quoted values unescaped)."""
    with open(path, encoding="utf-8") as handle:
        return dotenv_values(handle.read())


@pytest.fixture(scope="session")
def supabase_env():
    return read_env_file(os.path.join(ROOT, "supabase", ".env"))


@pytest.fixture(scope="session")
def livekit_keys():
    with open(os.path.join(ROOT, "livekit", "keys.yaml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def ca_cert():
    return os.path.join(ROOT, "nginx", "ca", "ca.crt")


@pytest.fixture(scope="session")
def https(ca_cert):
    session = requests.Session()
    session.trust_env = False  # environment CA bundles and proxies must not override the test CA
    session.verify = ca_cert
    return session


@pytest.fixture(scope="session")
def dashboard_credentials(supabase_env):
    return supabase_env["DASHBOARD_USERNAME"], supabase_env["DASHBOARD_PASSWORD"]


def user_jwt(secret, sub="8d0f6a3e-5c1b-4f0e-9a51-3f2b7c9d1e42", lifetime=600):
    now = int(time.time())
    claims = {"sub": sub, "aud": "authenticated", "role": "authenticated", "iss": "supabase",
              "iat": now, "exp": now + lifetime, "email": "dispatcher@example.org"}
    return jwt.encode(claims, secret, algorithm="HS256")


def docker(*args):
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def psql(database, sql):
    return docker("exec", "supabase-db", "psql", "-U", "postgres", "-d", database, "-tAc", sql).strip()


def containers():
    names = docker("ps", "-a", "--filter", "label=plusptt.project", "--format", "{{.Names}}").split()
    return {name: json.loads(docker("inspect", name))[0] for name in names}


REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def playbook_command(playbook, *args):
    """Command line and environment of a playbook run against the test stack (what `make e2e-play` does)."""
    binary = os.path.join(os.path.dirname(os.path.realpath(__import__("sys").executable)), "ansible-playbook")
    if not os.path.exists(binary):
        binary = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               PLUSPTT_SECRETS_DIR=CREDENTIALS)
    argv = [binary, "-i", os.path.join(REPO, "tests", "e2e", "inventory", "hosts.yml"), os.path.join(REPO, playbook),
            *args]
    return argv, env


def play(playbook, *args, env=None):
    """Run a playbook of the collection against the test stack and wait for it (env: variables to add)."""
    argv, environment = playbook_command(playbook, *args)
    environment.update(env or {})
    return subprocess.run(argv, cwd=REPO, env=environment, capture_output=True, text=True, check=False, timeout=1500)


MITOGEN = {"ANSIBLE_STRATEGY": "mitogen_linear"}


def play_fast(playbook, *args, env=None):
    """A playbook run under the collection's opt-in mitogen strategy (about half the time of the default one),
    for tests whose assertion is the playbook's, not the strategy's. The default strategy runs every playbook
    elsewhere: site.yml in molecule's converge, idempotence and check steps, secret-scan and the fast re-run
    tests; doctor, health and backup in the local-deploy stage; doctor, backup, restore, upgrade, health and
    the rotations on the lab; renew-certificates.yml as the daily schedule runs it (test_acme.py).
    tests/e2e/day2/test_fast_strategy.py checks that a mitogen re-run of site.yml changes nothing."""
    return play(playbook, *args, env=dict(MITOGEN, **(env or {})))


def deploy(*args):
    """site.yml run whose purpose is to bring the stack where a test needs it, under mitogen (play_fast)."""
    return play_fast("playbooks/site.yml", *args)


def ok(result):
    """Assert that a play() run succeeded, showing the end of its output when it did not."""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result
