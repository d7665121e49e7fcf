# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS of the entry point: testssl.sh (the Debian package) on 127.0.0.1:8443, and the private CA it serves."""

from __future__ import annotations

import datetime
import json
import shutil
import socket
import ssl
import subprocess

import pytest
import requests
from conftest import HTTP
from cryptography import x509
from turn_probe import binding_over_tls


# Every section of testssl's default scan but client simulation (-c), which only lists what each browser
# would negotiate (INFO findings; about 40 % of the scan's time): protocols, cipher categories, forward
# secrecy, server preferences, server defaults (the certificate), HTTP headers and the vulnerabilities.
SECTIONS = ["-p", "-s", "-f", "-P", "-S", "-h", "-U"]


def run_testssl(binary, ca_cert, report):
    run = subprocess.run(
        [binary, "--quiet", "--color", "0", "--warnings", "off", "--add-ca", ca_cert, "--ip", "127.0.0.1", *SECTIONS,
         "--jsonfile", str(report), "https://localhost:8443"],
        capture_output=True, text=True, timeout=900, check=False)
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(report.read_text(encoding="utf-8"))


# testssl's resumption probes keep a TLS 1.3 session only when the server's post-handshake ticket reaches
# s_client before it quits; on a busy machine they lose that race and report a "connect problem".
# test_tls_sessions_resume checks resumption itself, with a client that waits for the ticket.
RACY_PROBES = {"sessionresumption_ticket", "sessionresumption_ID"}


def probe_failures(findings):
    """Checks testssl could not complete (its own connection trouble), not findings about the server."""
    return [f for f in findings
            if (f["severity"] in ("FATAL", "WARN") or f["id"] == "scanProblem") and f["id"] not in RACY_PROBES]


@pytest.fixture(scope="module")
def testssl_findings(tmp_path_factory, ca_cert):
    binary = shutil.which("testssl") or shutil.which("testssl.sh")
    assert binary, "testssl.sh is not installed (scripts/test.sh bootstrap installs the Debian package)"
    folder = tmp_path_factory.mktemp("testssl")
    findings = run_testssl(binary, ca_cert, folder / "findings.json")
    if probe_failures(findings):  # one more scan when a probe lost its connection; a second failure counts
        findings = run_testssl(binary, ca_cert, folder / "findings-again.json")
    return findings


def test_testssl_finds_nothing_high_or_critical(testssl_findings):
    severe = [f for f in testssl_findings if f["severity"] in ("HIGH", "CRITICAL")]
    assert not severe, json.dumps(severe, indent=1)
    problems = probe_failures(testssl_findings)
    assert not problems, json.dumps(problems, indent=1)


def test_testssl_sees_modern_tls_and_hsts(testssl_findings):
    findings = {f["id"]: f for f in testssl_findings}
    for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert findings[old]["finding"].startswith("not offered"), findings[old]
    assert findings["TLS1_2"]["finding"].startswith("offered")
    assert findings["TLS1_3"]["finding"].startswith("offered")
    assert findings["HSTS_time"]["severity"] == "OK"
    assert findings["cert_chain_of_trust"]["severity"] == "OK", findings["cert_chain_of_trust"]


def test_tls_sessions_resume(ca_cert):
    context = ssl.create_default_context(cafile=ca_cert)

    def fetch_root(session=None):
        with socket.create_connection(("127.0.0.1", 8443), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            response = b""
            while chunk := tls.recv(65536):
                response += chunk
            assert response.startswith(b"HTTP/1.1 200"), response[:200]
            return tls.session, tls.session_reused

    session, reused = fetch_root()
    assert not reused
    reused = fetch_root(session)[1]
    assert reused, "a second connection with the first one's session did a full handshake"


def test_the_private_ca_publishes_its_certificate_and_a_signed_revocation_list(ca_cert):
    with open(ca_cert, "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    session = requests.Session()
    session.trust_env = False
    published = session.get(HTTP + "/.well-known/plusptt-ca.crt", timeout=10)
    assert published.status_code == 200 and x509.load_pem_x509_certificate(published.content) == ca
    served = x509.load_der_x509_certificate(ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", 8443))))
    served.verify_directly_issued_by(ca)
    points = served.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    url = points[0].full_name[0].value
    assert url == HTTP + "/.well-known/plusptt-ca.crl"
    response = session.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    assert crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())
    assert crl.next_update_utc > datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    assert served.serial_number not in [revoked.serial_number for revoked in crl]


def test_turn_over_tls_serves_the_certificate_of_the_entry_point(ca_cert):
    served_by_nginx = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(("127.0.0.1", 8443)))
    certificate, client_address = binding_over_tls("127.0.0.1", 5349, ca_cert, "localhost")
    assert certificate == served_by_nginx
    assert client_address.count(".") == 3
