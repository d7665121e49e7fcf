# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SSH port the firewall keeps open: the one this run's session came in on, read as the login user (sudo
clears SSH_CONNECTION, and a host with sshd on 2222 was shut out behind become), else ansible_port, else 22;
firewall_ssh_port adds a port and never replaces the session's."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = pathlib.Path(__file__).resolve().parents[2] / "roles" / "firewall"


def public_tcp_ports(**host):
    variables = dict(inventory_hostname="db", plusptt_layout={"plusptt_nginx": ["web"]}, plusptt_http_port=80,
                     plusptt_https_port=443, plusptt_ssl_enabled=True, plusptt_wiring={"services": [], "allow": []},
                     firewall_public_ports={"tcp": [], "udp": []}, firewall_extra_rules=[], firewall_ssh_port="")
    variables.update(host)
    text = (ROLE / "templates" / "firewall.nft.j2").read_text(encoding="utf-8")
    rules = Templar(loader=DataLoader(), variables=variables).template(trust_as_template(text))
    return [int(port) for port in re.search(r"^\s*tcp dport \{ ([\d, ]+) \} accept$", rules, re.M).group(1).split(", ")]


@pytest.mark.parametrize(("host", "ports"), [
    ({"__firewall_ssh_connection": {"stdout": "192.0.2.7 50022 198.51.100.4 2222"}}, [2222]),
    ({"__firewall_ssh_connection": {"stdout": "192.0.2.7 50022 198.51.100.4 2222"}, "firewall_ssh_port": "22"},
     [2222, 22]),
    ({"__firewall_ssh_connection": {"stdout": "192.0.2.7 50022 198.51.100.4 2222"}, "firewall_ssh_port": 2222},
     [2222]),
    ({"__firewall_ssh_connection": {"stdout": ""}, "ansible_port": 2200}, [2200]),
    ({"__firewall_ssh_connection": {"stdout": ""}}, [22]),
    ({}, [22]),
], ids=["the session's port", "one more port", "the same port once", "ansible_port without SSH_CONNECTION",
        "22 without either", "no session read"])
def test_the_open_ssh_ports(host, ports):
    assert public_tcp_ports(**host) == ports


def test_the_session_is_read_as_the_login_user():
    tasks = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text(encoding="utf-8"))
    block = next(task for task in tasks if task.get("name") == "Apply the firewall")["block"]
    read = next(task for task in block if "SSH_CONNECTION" in task.get("ansible.builtin.command", {}).get("argv", []))
    assert read["become"] is False and "when" not in read


def test_the_public_ports_given_are_open_to_everyone():
    ports = public_tcp_ports(inventory_hostname="media", firewall_public_ports={"tcp": [7881, 5349], "udp": []})
    assert ports == [22, 7881, 5349]
