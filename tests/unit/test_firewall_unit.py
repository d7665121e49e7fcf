# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall's boot unit: systemd accepts it, and it is ordered before the network without the default
dependencies (with them, After=basic.target closes an ordering cycle on cloud-init hosts and systemd drops the
unit, so the host boots with no firewall)."""

from __future__ import annotations

import configparser
import pathlib
import subprocess

import jinja2

ROLE = pathlib.Path(__file__).resolve().parents[2] / "roles" / "firewall"
TEMPLATE = ROLE / "templates" / "plusptt-firewall.service.j2"


def rendered(tmp_path):
    text = jinja2.Template(TEMPLATE.read_text(encoding="utf-8")).render(firewall_rules_file="/etc/plusptt/firewall.nft")
    unit = tmp_path / "plusptt-firewall.service"
    unit.write_text(text, encoding="utf-8")
    return unit


def test_systemd_verifies_the_unit(tmp_path):
    result = subprocess.run(["systemd-analyze", "verify", str(rendered(tmp_path))], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and "plusptt-firewall" not in result.stderr, result.stderr


def test_the_unit_runs_before_the_network_without_default_dependencies(tmp_path):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(rendered(tmp_path))
    unit = parser["Unit"]
    assert "network-pre.target" in unit["Before"].split() and "network-pre.target" in unit["Wants"].split()
    assert unit["DefaultDependencies"] == "no"
    assert "shutdown.target" in unit["Conflicts"].split() and "shutdown.target" in unit["Before"].split()
    assert parser["Service"]["ExecStart"] == "/usr/sbin/nft -f /etc/plusptt/firewall.nft"
