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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plusptt.deploy.plugins.module_utils import _deploy_state_host
from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError


def main():
    # Where the task runs on the controller, plugins/action/deploy_state.py does this work in Ansible's own
    # process; the module runs it anywhere else.
    module = AnsibleModule(argument_spec=_deploy_state_host.ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = _deploy_state_host.ensure(module.params, check_mode=module.check_mode, commands=module)
    except ModuleError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
