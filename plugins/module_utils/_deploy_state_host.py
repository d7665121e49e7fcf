# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The work of plusptt.deploy.deploy_state on a host: read each unit's state now, compare it with the record or
record it. Commands run through ``commands``: the AnsibleModule in the module, or the action plugin's runner where
the task runs on the controller (run_command(argv) -> (rc, out, err), get_bin_path(name)).

Private to this collection; the interface may change without notice.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile

from ansible_collections.plusptt.deploy.plugins.module_utils._deploy_state import (
    FORMAT, container_states, dumps, record, tree_states, unit_reasons)
from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError

# Options of plusptt.deploy.deploy_state, for the module and for its controller-side action plugin.
ARGUMENT_SPEC = dict(
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
)


def bin_path(commands, name):
    found = commands.get_bin_path(name)
    if not found:
        raise ModuleError("%s is not installed on the host (not found in PATH)" % name)
    return found


def run(commands, argv, check=True):
    rc, out, err = commands.run_command(argv)
    if rc != 0 and check:
        raise ModuleError("%s failed (rc %d): %s" % (" ".join(argv), rc, (err or out).strip()))
    return rc, out


def containers(commands, label):
    docker = bin_path(commands, "docker")
    _rc, out = run(commands, [docker, "ps", "--all", "--no-trunc", "--quiet", "--filter", "label=" + label])
    ids = out.split()
    if not ids:
        return {}
    _rc, out = run(commands, [docker, "inspect"] + ids)
    inspected = json.loads(out)
    references = sorted(set(item.get("Config", {}).get("Image", "") for item in inspected) - {""})
    image_ids = {}
    for reference in references:
        rc, out = run(commands, [docker, "image", "inspect", "--format", "{{.Id}}", reference], check=False)
        if rc == 0:
            image_ids[reference] = out.strip()
    return container_states(inspected, image_ids, label)


def networks(commands, names):
    docker = bin_path(commands, "docker")
    return [name for name in names if run(commands, [docker, "network", "inspect", name], check=False)[0] == 0]


def firewall(commands, table):
    if not table:
        return ""
    nft = commands.get_bin_path("nft")
    if nft is None:
        return "nft is missing"
    rc, out = run(commands, [nft, "--stateless", "list", "table"] + table.split(), check=False)
    return hashlib.sha256(out.encode()).hexdigest() if rc == 0 else "table missing"


def expiry(commands, path):
    """notAfter of a certificate or nextUpdate of a revocation list (PEM or DER), as a UTC datetime."""
    with open(path, "rb") as handle:
        data = handle.read()
    pem = b"-----BEGIN" in data
    try:
        from cryptography import x509
    except ImportError:
        return expiry_by_openssl(commands, path, pem)
    load_certificate = x509.load_pem_x509_certificate if pem else x509.load_der_x509_certificate
    load_crl = x509.load_pem_x509_crl if pem else x509.load_der_x509_crl
    try:
        cert = load_certificate(data)
        return getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        crl = load_crl(data)
        return getattr(crl, "next_update_utc", None) or crl.next_update.replace(tzinfo=datetime.timezone.utc)


def expiry_by_openssl(commands, path, pem):
    openssl = bin_path(commands, "openssl")
    form = ["-inform", "PEM" if pem else "DER"]
    rc, out = run(commands, [openssl, "x509", "-enddate", "-noout", "-in", path] + form, check=False)
    if rc != 0:
        _rc, out = run(commands, [openssl, "crl", "-nextupdate", "-noout", "-in", path] + form)
    value = out.strip().split("=", 1)[1]
    return datetime.datetime.strptime(value, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=datetime.timezone.utc)


def renewal_due(commands, renewals):
    """The earliest time a listed certificate or revocation list needs renewing, '' when none is listed."""
    times = [expiry(commands, item["path"]) - datetime.timedelta(days=item["days"])
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


def current_units(commands, params):
    """unit -> its state now: digest, files, containers (by project), networks and firewall."""
    exclude = params["exclude"] + [params["path"]]
    found = containers(commands, params["container_label"])
    units = {}
    for name, unit in params["units"].items():
        if not isinstance(unit, dict) or name not in params["digests"]:
            raise ModuleError("unit %s: give its deploy_units entry in units and its digest in digests" % name)
        projects = set(unit.get("projects") or [])
        units[name] = {
            "digest": str(params["digests"][name]),
            "files": tree_states(unit.get("paths") or [], exclude),
            "containers": {n: c for n, c in found.items() if c["project"] in projects},
            "networks": networks(commands, unit.get("networks") or []),
            "firewall": firewall(commands, unit.get("firewall_table") or ""),
        }
    return units


def ensure(params, check_mode=False, diff=False, commands=None):
    """Compare the host with its record (state=checked) or record it (state=recorded). Raises ModuleError."""
    units = current_units(commands, params)
    names = sorted(c for unit in units.values() for c in unit["containers"])
    if params["state"] == "checked":
        reasons = unit_reasons(read_record(params["path"]), units, datetime.datetime.now(datetime.timezone.utc))
        flat = ["%s: %s" % (unit, reason) for unit in units for reason in reasons[unit]]
        return dict(changed=False, converged=not flat, units=reasons, reasons=flat, containers=names)

    due = renewal_due(commands, params["renewals"])
    previous = read_record(params["path"])
    kept = previous.get("units") or {} if previous.get("format") == FORMAT else {}
    deployed = list(units) if params["deployed"] is None else params["deployed"]
    text = dumps(record(units, {
        name: due if name in deployed else (kept.get(name) or {}).get("renewal_due", "")
        for name, unit in params["units"].items() if unit.get("renewals")}, kept, params["keep"]))
    try:
        with open(params["path"], encoding="utf-8") as handle:
            unchanged = handle.read() == text and (os.stat(params["path"]).st_mode & 0o777) == 0o600
    except OSError:
        unchanged = False
    if not unchanged and not check_mode:
        write_record(params["path"], text)
    return dict(changed=not unchanged, converged=False, units={}, reasons=[], containers=names)
