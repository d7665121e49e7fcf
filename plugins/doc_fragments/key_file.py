# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Options and behaviour shared by the modules that persist key material.
    DOCUMENTATION = r"""
options:
  path:
    description:
      - YAML file where the material is persisted.
      - Created with mode C(0600); missing parent directories are created with mode C(0700).
      - A looser mode of the file, or of the folder holding it, is tightened (C(0600), C(0700)) and reported as a
        change.
      - Valid material found here is reused, so every later run and every host gets the same values.
      - A file that cannot be read or parsed is an error that names it; it is never overwritten.
    type: path
    required: true
  regenerate:
    description:
      - V(never) keeps valid persisted material.
      - V(always) replaces it with new material on every run. Use it only to rotate deliberately.
    type: str
    choices: [never, always]
    default: never
notes:
  - Run these modules on the controller (C(delegate_to=localhost), C(run_once=true)) and keep the
    file beside the inventory, out of version control.
  - Secrets are generated with Python's C(secrets) module, which reads the operating system's CSPRNG.
"""
