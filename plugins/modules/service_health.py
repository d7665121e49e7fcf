#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: service_health
short_description: Check the health of many services at once
version_added: 1.0.0
description:
  - Runs HTTP, TCP and Docker container health checks concurrently and reports each one's result.
    The total time tracks the slowest check, not the sum of all checks.
  - Each check is retried on its own until it is healthy or its attempts run out.
  - When a service is unhealthy and O(fail_on_unhealthy=true), the failure message names every unhealthy
    service and why (HTTP status, body mismatch, connection refused, timeout, container state and the last
    line of its health log).
author:
  - PlusPTT operations team (@plusptt)
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs its checks in check mode too.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
  idempotent:
    support: full
    description: The module never changes anything.
options:
  containers_labelled:
    description:
      - Also check every container, running or not, that carries this label (a key, or C(key=value)); they are
        listed in the same call, before the O(checks).
    type: str
  checks:
    description: The checks to run.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the service, used in results and messages. Unique.
          - Defaults to the container name, the URL, or C(host:port).
        type: str
      type:
        description:
          - V(http) requests O(checks[].url); V(tcp) opens a connection to O(checks[].host) and
            O(checks[].port); V(container) reads the state and health Docker records for
            O(checks[].container).
          - Defaults to V(container) when O(checks[].container) is set, V(tcp) when O(checks[].port) is set,
            otherwise V(http).
        type: str
        choices: [http, tcp, container]
      url:
        description: URL for V(http) checks. Redirects are not followed.
        type: str
      method:
        description: HTTP method for V(http) checks.
        type: str
        default: GET
      host:
        description: Host for V(tcp) checks.
        type: str
      port:
        description: Port for V(tcp) checks.
        type: int
      container:
        description: Container name or id for V(container) checks.
        type: str
      status_codes:
        description: HTTP status codes that count as healthy.
        type: list
        elements: int
        default: [200]
      body_contains:
        description: Text the HTTP response body must contain.
        type: str
      headers:
        description: HTTP request headers.
        type: dict
      timeout:
        description: Seconds one attempt may take.
        type: float
        default: 5
      validate_certs:
        description: Verify TLS certificates of V(https) URLs.
        type: bool
        default: true
  retries:
    description: Further attempts for a check that is not yet healthy.
    type: int
    default: 0
  delay:
    description: Seconds between attempts.
    type: float
    default: 2
  fail_on_unhealthy:
    description: Fail the task when any check is unhealthy after its attempts.
    type: bool
    default: true
  docker_host:
    description: Docker Engine API endpoint for V(container) checks (C(unix://) or C(tcp://)).
    type: str
    default: unix:///var/run/docker.sock
seealso:
  - module: ansible.builtin.uri
  - module: ansible.builtin.wait_for
  - module: community.docker.docker_container_info
"""

EXAMPLES = r"""
- name: Wait until the stack is healthy
  plusptt.deploy.service_health:
    retries: 30
    delay: 2
    checks:
      - name: nginx
        url: https://127.0.0.1/
        validate_certs: false
      - name: livekit
        url: http://127.0.0.1:7880/
        body_contains: OK
      - name: postgres
        container: supabase-db
      - name: redis
        host: 127.0.0.1
        port: 6379

- name: Report without failing
  plusptt.deploy.service_health:
    fail_on_unhealthy: false
    checks:
      - name: backend
        container: plusptt-backend
  register: health

- name: Every container of the stack, and the web app
  plusptt.deploy.service_health:
    containers_labelled: plusptt.project
    checks:
      - url: https://127.0.0.1/
        validate_certs: false
"""

RETURN = r"""
results:
  description: One entry per check, in the order given (the labelled containers first, by name).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check's name.
      type: str
    type:
      description: The check's type.
      type: str
    healthy:
      description: Whether the last attempt succeeded.
      type: bool
    attempts:
      description: Attempts made.
      type: int
    latency_ms:
      description: Duration of the last attempt in milliseconds.
      type: float
    status:
      description: HTTP status of the last attempt.
      type: int
      returned: for http checks that got an answer
    state:
      description: Container state (running, exited, missing...).
      type: str
      returned: for container checks
    health:
      description: Docker health status (healthy, unhealthy, starting).
      type: str
      returned: for container checks of containers with a healthcheck
    last_health_log:
      description: Output of the container's last health check.
      type: str
      returned: for container checks of containers with a healthcheck
    error:
      description: Why the check is unhealthy.
      type: str
      returned: when unhealthy
      sample: connection refused (127.0.0.1:5432)
unhealthy:
  description: Names of the unhealthy checks.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plusptt.deploy.plugins.module_utils import _health
from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError


def main():
    # Where the task runs on the controller, plugins/action/service_health.py does this work in Ansible's own
    # process; the module runs it anywhere else.
    module = AnsibleModule(argument_spec=_health.ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = _health.ensure(module.params)
    except ModuleError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
