# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS of the entry point as testssl.sh (the Debian package) sees it on 127.0.0.1:8443."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest


@pytest.fixture(scope="module")
def testssl_findings(tmp_path_factory, ca_cert):
    binary = shutil.which("testssl") or shutil.which("testssl.sh")
    assert binary, "testssl.sh is not installed (scripts/test.sh bootstrap installs the Debian package)"
    report = tmp_path_factory.mktemp("testssl") / "findings.json"
    run = subprocess.run(
        [binary, "--quiet", "--color", "0", "--warnings", "off", "--add-ca", ca_cert, "--ip", "127.0.0.1",
         "--jsonfile", str(report), "https://localhost:8443"],
        capture_output=True, text=True, timeout=900, check=False)
    assert report.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(report.read_text(encoding="utf-8"))


def test_testssl_finds_nothing_high_or_critical(testssl_findings):
    severe = [f for f in testssl_findings if f["severity"] in ("HIGH", "CRITICAL")]
    assert not severe, json.dumps(severe, indent=1)
    problems = [f for f in testssl_findings if f["severity"] in ("FATAL", "WARN") or f["id"] == "scanProblem"]
    assert not problems, json.dumps(problems, indent=1)


def test_testssl_sees_modern_tls_and_hsts(testssl_findings):
    findings = {f["id"]: f for f in testssl_findings}
    for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        assert findings[old]["finding"].startswith("not offered"), findings[old]
    assert findings["TLS1_2"]["finding"].startswith("offered")
    assert findings["TLS1_3"]["finding"].startswith("offered")
    assert findings["HSTS_time"]["severity"] == "OK"
    assert findings["cert_chain_of_trust"]["severity"] == "OK", findings["cert_chain_of_trust"]
