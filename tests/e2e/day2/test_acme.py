# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ACME certificates from pebble (scripts/pebble.sh), a real RFC 8555 CA on loopback.

The entry point of the running stack is moved to an ACME certificate for ptt.plusptt.test (pebble's DNS
answers every name with 127.0.0.1 and it checks HTTP-01 challenges on 8080, where nginx listens). Only the
nginx role runs (its tags), so the rest of the stack stays as it is; the last test deploys the inventory again.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest
import requests
from conftest import REPO, ROOT, deploy, docker, ok, play, play_fast
from cryptography import x509
from turn_probe import binding_over_tls

DOMAIN = "ptt.plusptt.test"
PEBBLE = os.path.join(REPO, "scripts", "pebble.sh")
DNS = "http://127.0.0.1:8055"  # pebble-challtestsrv's management API
DIRECTORY_CA = os.path.join(REPO, "tests", "acme", ".run", "tls", "ca.crt")
ACME_VARS = {
    "plusptt_domain": DOMAIN, "plusptt_ssl_acme": True, "nginx_acme_email": "ops@plusptt.test",
    "nginx_acme_directory": "https://127.0.0.1:14000/dir", "nginx_acme_ca_bundle": DIRECTORY_CA,
    "nginx_acme_http_port_override": "pebble checks the challenge on port 8080 in the tests",
}
# Pebble's certificates last 40 days: a 45-day window makes the run renew.
DUE = {"nginx_acme_renew_days": 45}


def pebble(action):
    return subprocess.run(["bash", PEBBLE, action], capture_output=True, text=True, check=True, timeout=60).stdout


def acme_run(*extra):
    return play_fast("playbooks/site.yml", "--tags", "nginx_configure,nginx_run", "-e", json.dumps(ACME_VARS),
                     *[arg for item in extra for arg in ("-e", json.dumps(item))])


def served_leaf():
    """The certificate nginx sends for DOMAIN on 127.0.0.1:8443."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", 8443), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=DOMAIN) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def verified_get(cafile):
    """GET / over TLS checked against cafile for DOMAIN; returns the status line and the leaf's serial."""
    context = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", 8443), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=DOMAIN) as tls:
            serial = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number
            tls.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % DOMAIN).encode())
            status = tls.recv(64).split(b"\r\n", 1)[0].decode()
    return status, serial


def nginx_container():
    return docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", "plusptt-nginx").strip()


@pytest.fixture(scope="module")
def pebble_root(tmp_path_factory):
    pebble("up")
    path = tmp_path_factory.mktemp("pebble") / "root.pem"
    path.write_text(pebble("root"), encoding="utf-8")
    yield str(path)
    pebble("down")


@pytest.fixture(scope="module")
def first_run(pebble_root):
    ok(deploy())  # the inventory's private CA (quick when earlier tests left it so)
    return ok(acme_run())


def test_the_first_run_serves_a_certificate_that_chains_to_pebble(first_run, pebble_root):
    leaf = served_leaf()
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [DOMAIN]
    assert "Pebble" in leaf.issuer.rfc4514_string()
    status, _serial = verified_get(pebble_root)  # raises unless the chain verifies up to pebble's root
    assert status.startswith("HTTP/1.1 ")
    for path in ("acme/account.key", "ssl/key.pem"):
        assert os.stat(os.path.join(ROOT, "nginx", path)).st_mode & 0o777 == 0o600


def test_challenges_are_answered_on_http_not_redirected(first_run):
    with socket.create_connection(("127.0.0.1", 8080), timeout=5) as plain:
        plain.sendall(("GET /.well-known/acme-challenge/none HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                       % DOMAIN).encode())
        assert plain.recv(64).startswith(b"HTTP/1.1 404"), "the challenge path must not redirect to HTTPS"
    assert os.listdir(os.path.join(ROOT, "nginx", "public", "acme", ".well-known", "acme-challenge")) == []


def test_a_second_run_changes_nothing(first_run):
    result = ok(acme_run())
    recap = result.stdout.split("PLAY RECAP", 1)[1]
    changed_tasks = [block.split("]", 1)[0] for block in result.stdout.split("TASK [")[1:] if "\nchanged:" in block]
    assert " changed=0 " in recap, changed_tasks


def test_a_due_certificate_is_renewed_by_a_reload_without_a_failed_request(first_run, pebble_root):
    before_serial = served_leaf().serial_number
    before_container = nginx_container()
    seen, failures, stop = set(), [], threading.Event()

    def requests_loop():
        while not stop.is_set():
            try:
                status, serial = verified_get(pebble_root)
                seen.add(serial)
                if not status.startswith("HTTP/1.1 2") and not status.startswith("HTTP/1.1 3"):
                    failures.append(status)
            except OSError as error:  # ssl.SSLError is an OSError
                failures.append(repr(error))
            time.sleep(0.02)

    loop = threading.Thread(target=requests_loop)
    loop.start()
    try:
        result = ok(acme_run(DUE))
        time.sleep(1)
    finally:
        stop.set()
        loop.join()
    assert "the certificate expires within 45 days" in " ".join(result.stdout.split())
    after_serial = served_leaf().serial_number
    assert after_serial != before_serial
    assert {before_serial, after_serial} <= seen, "the loop saw both certificates"
    assert not failures, failures[:5]
    assert nginx_container() == before_container, "nginx was restarted, not reloaded"


def test_a_refused_renewal_keeps_the_certificate_serving_and_says_why(first_run):
    before_serial = served_leaf().serial_number
    # Pebble's DNS points the name elsewhere: the challenge fails and pebble refuses the order.
    requests.post(DNS + "/add-a", json={"host": DOMAIN + ".", "addresses": ["127.0.0.2"]}, timeout=5).raise_for_status()
    try:
        result = ok(acme_run(DUE))
    finally:
        requests.post(DNS + "/clear-a", json={"host": DOMAIN + "."}, timeout=5).raise_for_status()
    text = " ".join(result.stdout.split())
    assert "WARNING: the ACME CA (https://127.0.0.1:14000/dir) gave no certificate for " + DOMAIN in text, text[-3000:]
    assert "nginx keeps serving the current certificate" in text
    assert served_leaf().serial_number == before_serial


def renewal(*extra, run=play_fast):
    return run("playbooks/renew-certificates.yml", "-e", json.dumps(ACME_VARS),
               *[arg for item in extra for arg in ("-e", json.dumps(item))])


def turn_leaf(pebble_root):
    """The certificate LiveKit's TURN/TLS listener sends, verified up to pebble's root for DOMAIN."""
    der, _client = binding_over_tls("127.0.0.1", 5349, pebble_root, DOMAIN)
    return x509.load_der_x509_certificate(der)


def test_the_renewal_playbook_renews_only_a_due_certificate_and_hands_it_to_turn(first_run, pebble_root):
    before_serial, before_container = served_leaf().serial_number, nginx_container()
    # Not due: nginx keeps its certificate; LiveKit, deployed with the private CA's, takes the ACME one.
    ok(renewal())
    assert served_leaf().serial_number == before_serial and nginx_container() == before_container
    assert turn_leaf(pebble_root).serial_number == before_serial
    recap = ok(renewal()).stdout.split("PLAY RECAP", 1)[1]
    assert " changed=0 " in recap, recap
    ok(renewal(DUE))
    renewed = served_leaf().serial_number
    assert renewed != before_serial and nginx_container() == before_container
    assert turn_leaf(pebble_root).serial_number == renewed


def scheduled_command():
    """The command the daily renewal runs, from root's crontab (no systemd runs this machine's init)."""
    listing = subprocess.run(["crontab", "-l"], capture_output=True, text=True, check=False).stdout.splitlines()
    marker = "#Ansible: plusptt-renew-certificates"
    entries = [line for before, line in zip(listing, listing[1:], strict=False) if before == marker]
    return entries[0].split(None, 5)[5] if entries else None


def test_the_daily_renewal_runs_the_same_playbook_from_cron(first_run):
    if os.path.isdir("/run/systemd/system"):
        pytest.fail("this test reads the crontab entry; under systemd the playbook writes a timer instead")
    # The default strategy: installing cron, the apt module runs itself again under a Python with apt's
    # bindings, which mitogen cannot do (docs/performance.md).
    ok(renewal({"renew_schedule": "daily"}, run=play))
    command = scheduled_command()
    assert command and "renew-certificates.yml" in command and "tests/e2e/inventory/hosts.yml" in command, command
    recap = ok(renewal({"renew_schedule": "daily"}, run=play)).stdout.split("PLAY RECAP", 1)[1]
    assert " changed=0 " in recap, recap
    # The scheduled command itself runs the playbook (its output goes to the system log).
    run = subprocess.run(["/bin/sh", "-c", command.split(" 2>&1 | logger")[0]], capture_output=True, text=True,
                         timeout=600, check=False)
    assert run.returncode == 0 and "PLAY RECAP" in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]
    ok(renewal({"renew_schedule": "none"}, run=play))
    assert scheduled_command() is None


def test_testssl_finds_nothing_high_on_the_acme_certificate(first_run, pebble_root, tmp_path):
    """The certificate checks of testssl (-S: chain of trust, key, validity, revocation data). Protocols and
    ciphers are nginx's settings, the same as with the private CA, which test_tls.py scans in full."""
    binary = shutil.which("testssl") or shutil.which("testssl.sh")
    assert binary, "testssl.sh is not installed (scripts/test.sh bootstrap installs the Debian package)"
    report = tmp_path / "findings.json"
    run = subprocess.run([binary, "--quiet", "--color", "0", "--warnings", "off", "--add-ca", pebble_root,
                          "--ip", "127.0.0.1", "--server-defaults", "--jsonfile", str(report),
                          "https://%s:8443" % DOMAIN], capture_output=True, text=True, timeout=900, check=False)
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    findings = {f["id"]: f for f in json.loads(report.read_text(encoding="utf-8"))}
    severe = [f for f in findings.values() if f["severity"] in ("HIGH", "CRITICAL")]
    assert not severe, json.dumps(severe, indent=1)
    assert findings["cert_chain_of_trust"]["severity"] == "OK", findings["cert_chain_of_trust"]


def test_the_inventory_deploy_brings_the_private_ca_back(first_run):
    ok(deploy())
    leaf = served_leaf()
    assert "PlusPTT private CA" in leaf.issuer.rfc4514_string()
