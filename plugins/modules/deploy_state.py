#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_state
short_description: Record what a completed deploy left on a host, and tell whether the host still is that way
version_added: 1.0.0
description:
  - With O(state=recorded), writes a record (JSON, mode 0600) of the host as a completed deploy left it, namely the
    digest of the run's inputs, the content, mode and owner of every file under O(paths), the PlusPTT
    containers (id and image), the Docker networks, the loaded firewall table and the time the next
    certificate renewal is due. Nothing in it changes between runs that change nothing.
  - With O(state=checked), compares the host with that record and returns RV(converged) and the
    RV(reasons) it is not. A run that finds the host converged has nothing to do but probe it.
  - One call reads every file, container and rule, so the check costs one module call on the host.
author:
  - PlusPTT operations team (@plusptt)
attributes:
  check_mode:
    support: full
    description: A check never changes anything; a record in check mode says whether it would be written.
  diff_mode:
    support: none
    description: The record is a list of checksums; RV(reasons) says what differs.
  idempotent:
    support: full
    description: Recording the same host state again leaves the file as it is.
options:
  state:
    description: V(checked) compares the host with the record, V(recorded) writes the record.
    type: str
    choices: [checked, recorded]
    default: checked
  path:
    description: The record file on the host.
    type: path
    required: true
  digest:
    description: Digest of the run's inputs (plusptt.deploy.deploy_inputs_digest); a different one is a reason.
    type: str
    required: true
  paths:
    description: Files and folders whose content, mode and owner are recorded; folders are walked.
    type: list
    elements: path
    default: []
  exclude:
    description: Files and folders under O(paths) left out (the record itself, files a run rewrites by design).
    type: list
    elements: path
    default: []
  container_label:
    description: Label that marks the containers to record (C(docker ps --filter label=...)).
    type: str
    default: plusptt.project
  networks:
    description: Docker networks that must exist.
    type: list
    elements: str
    default: []
  firewall_table:
    description: The nftables table whose rules are recorded (C(family name)); empty records none.
    type: str
    default: ""
  renewals:
    description:
      - Certificates and revocation lists (PEM or DER) a run renews O(renewals[].days) days before they expire or are
        due. The record keeps the earliest such time; a check from then on is not converged.
      - Only with O(state=recorded).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file on the host; a missing file is left out.
        type: path
        required: true
      days:
        description: Days before the end of its validity (or its next update) that a run renews it.
        type: int
        required: true
requirements:
  - The docker CLI on the host; nft when O(firewall_table) is set.
"""

EXAMPLES = r"""
- name: Compare the host with the last completed run
  plusptt.deploy.deploy_state:
    path: /opt/plusptt/.deploy-state.json
    digest: "{{ inputs_digest }}"
    paths: [/opt/plusptt, /etc/docker/daemon.json]
    exclude: [/opt/plusptt/.deploy-state.json]
    networks: [plusptt]
    firewall_table: inet plusptt
  register: state

- name: Say why a full run is needed
  ansible.builtin.debug:
    msg: "{{ state.reasons }}"
  when: not state.converged
"""

RETURN = r"""
converged:
  description: Whether the host is as the recorded run left it (always false with O(state=recorded)).
  returned: always
  type: bool
containers:
  description: Names of the containers that carry O(container_label), found by this call.
  returned: always
  type: list
  elements: str
  sample: [livekit, plusptt-backend]
reasons:
  description: What differs from the record, one sentence each; empty when converged.
  returned: always
  type: list
  elements: str
  sample: ["changed on the host: /opt/plusptt/nginx/conf.d/plusptt.conf", "containers not running: livekit"]
"""

import datetime
import hashlib
import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plusptt.deploy.plugins.module_utils import _deploy_state as state_record


def run(module, argv, check=True):
    rc, out, err = module.run_command(argv)
    if rc != 0 and check:
        module.fail_json(msg="%s failed (rc %d): %s" % (" ".join(argv), rc, (err or out).strip()))
    return rc, out


def containers(module, label):
    docker = module.get_bin_path("docker", required=True)
    _rc, out = run(module, [docker, "ps", "--all", "--no-trunc", "--quiet", "--filter", "label=" + label])
    ids = out.split()
    if not ids:
        return {}
    _rc, out = run(module, [docker, "inspect"] + ids)
    inspected = json.loads(out)
    references = sorted(set(item.get("Config", {}).get("Image", "") for item in inspected) - {""})
    image_ids = {}
    for reference in references:
        rc, out = run(module, [docker, "image", "inspect", "--format", "{{.Id}}", reference], check=False)
        if rc == 0:
            image_ids[reference] = out.strip()
    return state_record.container_states(inspected, image_ids)


def networks(module, names):
    docker = module.get_bin_path("docker", required=True)
    return [name for name in names if run(module, [docker, "network", "inspect", name], check=False)[0] == 0]


def firewall(module, table):
    if not table:
        return ""
    nft = module.get_bin_path("nft")
    if nft is None:
        return "nft is missing"
    rc, out = run(module, [nft, "--stateless", "list", "table"] + table.split(), check=False)
    return hashlib.sha256(out.encode()).hexdigest() if rc == 0 else "table missing"


def expiry(module, path):
    """notAfter of a certificate or nextUpdate of a revocation list (PEM or DER), as a UTC datetime."""
    with open(path, "rb") as handle:
        data = handle.read()
    pem = b"-----BEGIN" in data
    try:
        from cryptography import x509
    except ImportError:
        return expiry_by_openssl(module, path, pem)
    load_certificate = x509.load_pem_x509_certificate if pem else x509.load_der_x509_certificate
    load_crl = x509.load_pem_x509_crl if pem else x509.load_der_x509_crl
    try:
        cert = load_certificate(data)
        return getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        crl = load_crl(data)
        return getattr(crl, "next_update_utc", None) or crl.next_update.replace(tzinfo=datetime.timezone.utc)


def expiry_by_openssl(module, path, pem):
    openssl = module.get_bin_path("openssl", required=True)
    form = ["-inform", "PEM" if pem else "DER"]
    rc, out = run(module, [openssl, "x509", "-enddate", "-noout", "-in", path] + form, check=False)
    if rc != 0:
        _rc, out = run(module, [openssl, "crl", "-nextupdate", "-noout", "-in", path] + form)
    value = out.strip().split("=", 1)[1]
    return datetime.datetime.strptime(value, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=datetime.timezone.utc)


def renewal_due(module, renewals):
    """The earliest time a listed certificate or revocation list needs renewing, '' when none is listed."""
    times = [expiry(module, item["path"]) - datetime.timedelta(days=item["days"])
             for item in renewals if os.path.exists(item["path"])]
    return min(times).strftime("%Y-%m-%dT%H:%M:%SZ") if times else ""


def read_record(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def write_record(path, text):
    folder = os.path.dirname(path)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".deploy-state.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.rename(temporary, path)
    except OSError:
        os.unlink(temporary)
        raise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["checked", "recorded"], default="checked"),
            path=dict(type="path", required=True),
            digest=dict(type="str", required=True),
            paths=dict(type="list", elements="path", default=[]),
            exclude=dict(type="list", elements="path", default=[]),
            container_label=dict(type="str", default="plusptt.project"),
            networks=dict(type="list", elements="str", default=[]),
            firewall_table=dict(type="str", default=""),
            renewals=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                days=dict(type="int", required=True),
            )),
        ),
        supports_check_mode=True,
    )
    params = module.params
    exclude = params["exclude"] + [params["path"]]
    current = {
        "digest": params["digest"],
        "files": state_record.tree_states(params["paths"], exclude),
        "containers": containers(module, params["container_label"]),
        "networks": networks(module, params["networks"]),
        "firewall": firewall(module, params["firewall_table"]),
    }
    if params["state"] == "checked":
        reasons = state_record.differences(read_record(params["path"]), current,
                                           datetime.datetime.now(datetime.timezone.utc))
        module.exit_json(changed=False, converged=not reasons, reasons=reasons,
                         containers=sorted(current["containers"]))

    text = state_record.dumps(state_record.record(params["digest"], current["files"], current["containers"],
                                                  current["networks"], current["firewall"],
                                                  renewal_due(module, params["renewals"])))
    try:
        with open(params["path"], encoding="utf-8") as handle:
            unchanged = handle.read() == text and (os.stat(params["path"]).st_mode & 0o777) == 0o600
    except OSError:
        unchanged = False
    if not unchanged and not module.check_mode:
        write_record(params["path"], text)
    module.exit_json(changed=not unchanged, converged=False, reasons=[], containers=sorted(current["containers"]))


if __name__ == "__main__":
    main()
