#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_state
short_description: Record what a completed deploy left of each unit on a host, and tell which units still are that way
version_added: 1.0.0
description:
  - A host runs units (P(plusptt.deploy.deploy_units#filter)), such as the Docker engine, the firewall and each
    service.
  - With O(state=recorded), writes a record (JSON, mode 0600) of each unit as a completed deploy left it, namely
    the digest of its inputs, the content, mode and owner of every file under its paths, its containers (id and
    image, found by their compose project label), its Docker networks, its loaded firewall table and the time its
    next certificate renewal is due. Nothing in it changes between runs that change nothing.
  - With O(state=checked), compares each unit with that record and returns, per unit, the RV(units) reasons it
    is not. A unit found as recorded has nothing to do.
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
  units:
    description:
      - The units of this host, as P(plusptt.deploy.deploy_units#filter) describes them; each value's keys
        C(paths) (files and folders, walked), C(projects) (compose projects whose containers it owns),
        C(networks) (Docker networks that must exist), C(firewall_table) (C(family name), or empty) and
        C(renewals) (whether O(renewals) belong to it) are read, others are ignored.
    type: dict
    required: true
  digests:
    description:
      - Unit to the digest of its inputs (P(plusptt.deploy.unit_inputs_digests#filter)); a different one is a reason.
    type: dict
    required: true
  exclude:
    description: Files and folders under the units' paths left out (files a run rewrites by design).
    type: list
    elements: path
    default: []
  container_label:
    description: The label whose value names a container's compose project.
    type: str
    default: plusptt.project
  deployed:
    description:
      - With O(state=recorded), the units this run deployed; the others keep the renewal time of their last record
        (their state was found as recorded when the run started). Unset, every unit was deployed.
    type: list
    elements: str
  keep:
    description:
      - With O(state=recorded), units whose last record stays as it is, such as those a run limited by C(--tags) did
        not run completely; a unit without a record stays without one, so the next check finds it differs.
    type: list
    elements: str
    default: []
    version_added: 2.0.0
  renewals:
    description:
      - Certificates and revocation lists (PEM or DER) a run renews O(renewals[].days) days before they expire or are
        due. The record of the deployed unit they belong to keeps the earliest such time; a check from then on finds
        it due.
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
  - The docker CLI on the host; nft when a unit has a firewall table.
"""

EXAMPLES = r"""
- name: Compare each unit of this host with the last completed run
  plusptt.deploy.deploy_state:
    path: /opt/plusptt/.deploy-state.json
    units: >-
      {{ groups | plusptt.deploy.deploy_units | dict2items
         | selectattr('value.hosts', 'contains', inventory_hostname) | items2dict }}
    digests: "{{ unit_digests }}"
  register: state

- name: Say which units differ, and why
  ansible.builtin.debug:
    msg: "{{ state.units | dict2items | selectattr('value') | items2dict }}"
  when: not state.converged
"""

RETURN = r"""
converged:
  description: Whether every unit is as the recorded run left it (always false with O(state=recorded)).
  returned: always
  type: bool
units:
  description: Unit to what differs from its record, one sentence each; an empty list when it is as recorded.
  returned: always
  type: dict
  sample: {"nginx": ["changed on the host: /opt/plusptt/nginx/conf.d/plusptt.conf"], "supabase": []}
reasons:
  description: "Every unit's reasons, each as C(<unit>: <reason>); empty when converged."
  returned: always
  type: list
  elements: str
  sample: ["livekit: containers not running: livekit"]
containers:
  description: Names of the containers of the units' projects, found by this call.
  returned: always
  type: list
  elements: str
  sample: [livekit, plusptt-backend]
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
    return state_record.container_states(inspected, image_ids, label)


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


def current_units(module, params):
    """unit -> its state now: digest, files, containers (by project), networks and firewall."""
    exclude = params["exclude"] + [params["path"]]
    found = containers(module, params["container_label"])
    units = {}
    for name, unit in params["units"].items():
        if not isinstance(unit, dict) or name not in params["digests"]:
            module.fail_json(msg="unit %s: give its deploy_units entry in units and its digest in digests" % name)
        projects = set(unit.get("projects") or [])
        units[name] = {
            "digest": str(params["digests"][name]),
            "files": state_record.tree_states(unit.get("paths") or [], exclude),
            "containers": {n: c for n, c in found.items() if c["project"] in projects},
            "networks": networks(module, unit.get("networks") or []),
            "firewall": firewall(module, unit.get("firewall_table") or ""),
        }
    return units


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["checked", "recorded"], default="checked"),
            path=dict(type="path", required=True),
            units=dict(type="dict", required=True),
            digests=dict(type="dict", required=True),
            exclude=dict(type="list", elements="path", default=[]),
            deployed=dict(type="list", elements="str"),
            keep=dict(type="list", elements="str", default=[]),
            container_label=dict(type="str", default="plusptt.project"),
            renewals=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                days=dict(type="int", required=True),
            )),
        ),
        supports_check_mode=True,
    )
    params = module.params
    units = current_units(module, params)
    names = sorted(c for unit in units.values() for c in unit["containers"])
    if params["state"] == "checked":
        reasons = state_record.unit_reasons(read_record(params["path"]), units,
                                            datetime.datetime.now(datetime.timezone.utc))
        flat = ["%s: %s" % (unit, reason) for unit in units for reason in reasons[unit]]
        module.exit_json(changed=False, converged=not flat, units=reasons, reasons=flat, containers=names)

    due = renewal_due(module, params["renewals"])
    previous = read_record(params["path"])
    kept = previous.get("units") or {} if previous.get("format") == state_record.FORMAT else {}
    deployed = list(units) if params["deployed"] is None else params["deployed"]
    text = state_record.dumps(state_record.record(units, {
        name: due if name in deployed else (kept.get(name) or {}).get("renewal_due", "")
        for name, unit in params["units"].items() if unit.get("renewals")}, kept, params["keep"]))
    try:
        with open(params["path"], encoding="utf-8") as handle:
            unchanged = handle.read() == text and (os.stat(params["path"]).st_mode & 0o777) == 0o600
    except OSError:
        unchanged = False
    if not unchanged and not module.check_mode:
        write_record(params["path"], text)
    module.exit_json(changed=not unchanged, converged=False, units={}, reasons=[], containers=names)


if __name__ == "__main__":
    main()
