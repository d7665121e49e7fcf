#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: jwt_keys
short_description: Generate and keep the Supabase JWT secret and API keys
version_added: 1.0.0
description:
  - Generates the Supabase JWT secret once, signs the C(anon) and C(service_role) API keys with it,
    and persists everything in a YAML file so that later runs return the same values.
  - Optionally adds an EC P-256 (ES256) signing key, returned as JWKs in the forms Supabase auth
    (C(JWT_KEYS)) and the API services (C(JWT_JWKS)) read, with ES256-signed API keys.
  - Keys whose signature, role, issuer or expiry no longer hold are re-signed with the persisted secret;
    the secret itself is only replaced with O(regenerate=always).
extends_documentation_fragment:
  - plusptt.deploy.key_file
author:
  - PlusPTT operations team (@plusptt)
attributes:
  check_mode:
    support: full
    description: Nothing is written; RV(ignore:changed) tells whether a real run would write the file.
  diff_mode:
    support: partial
    description: Shows whether the file would change.
    details: The diff names what would change, never the secret values.
  idempotent:
    support: full
    description: A second run with the same options changes nothing and returns the same values.
options:
  jwt_secret:
    description:
      - HS256 secret to use instead of a generated one. At least 32 characters.
      - When the file already holds a different secret the module fails, unless O(regenerate=always).
    type: str
  issuer:
    description: The C(iss) claim of the API keys.
    type: str
    default: supabase
  expires_in_days:
    description: Lifetime of newly signed API keys, in days.
    type: int
    default: 3650
  asymmetric:
    description: Also keep an EC P-256 key and return the asymmetric material.
    type: bool
    default: false
requirements:
  - PyJWT >= 2.8
  - cryptography
  - PyYAML
seealso:
  - module: plusptt.deploy.livekit_keys
"""

EXAMPLES = r"""
- name: Generate (once) the Supabase JWT material
  plusptt.deploy.jwt_keys:
    path: "{{ inventory_dir }}/credentials/supabase_jwt.yml"
  delegate_to: localhost
  run_once: true
  no_log: true
  register: supabase_jwt

- name: Rotate the JWT secret deliberately
  plusptt.deploy.jwt_keys:
    path: "{{ inventory_dir }}/credentials/supabase_jwt.yml"
    regenerate: always
  delegate_to: localhost
  run_once: true
  no_log: true

- name: Keep an ES256 signing key as well
  plusptt.deploy.jwt_keys:
    path: "{{ inventory_dir }}/credentials/supabase_jwt.yml"
    asymmetric: true
  delegate_to: localhost
  run_once: true
  no_log: true
"""

RETURN = r"""
jwt_secret:
  description:
    - The HS256 secret (C(JWT_SECRET)), generated or kept in O(path).
    - Not returned when O(jwt_secret) was given (Ansible would mask it in the result); the caller has it.
  returned: when O(jwt_secret) is not given
  type: str
anon_key:
  description: HS256 JWT with C(role=anon) (C(ANON_KEY)).
  returned: success
  type: str
service_role_key:
  description: HS256 JWT with C(role=service_role) (C(SERVICE_ROLE_KEY)).
  returned: success
  type: str
issuer:
  description: The C(iss) claim of the keys.
  returned: success
  type: str
  sample: supabase
issued_at:
  description: The C(iat) claim of the keys, in seconds since the epoch.
  returned: success
  type: int
expires_at:
  description: The C(exp) claim of the keys, in seconds since the epoch.
  returned: success
  type: int
kid:
  description: Key id of the EC key (its RFC 7638 thumbprint).
  returned: when O(asymmetric=true)
  type: str
jwt_keys:
  description: Private EC JWK and the HS256 secret as an C(oct) JWK (C(JWT_KEYS) of Supabase auth).
  returned: when O(asymmetric=true)
  type: list
  elements: dict
jwks:
  description: Public JWK set with the EC key (C(JWT_JWKS) of the API services).
  returned: when O(asymmetric=true)
  type: dict
anon_key_asymmetric:
  description: ES256 JWT with C(role=anon).
  returned: when O(asymmetric=true)
  type: str
service_role_key_asymmetric:
  description: ES256 JWT with C(role=service_role).
  returned: when O(asymmetric=true)
  type: str
reasons:
  description: Why the material changed; empty when nothing changed.
  returned: success
  type: list
  elements: str
  sample: [new material]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.plusptt.deploy.plugins.module_utils import _jwt_keys
from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError


def main():
    # On the controller (delegate_to: localhost, as the roles run it) plugins/action/jwt_keys.py does this work
    # in Ansible's own process; the module runs it anywhere else.
    module = AnsibleModule(argument_spec=_jwt_keys.ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = _jwt_keys.ensure(module.params, check_mode=module.check_mode, diff=module._diff)
    except ModuleError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
