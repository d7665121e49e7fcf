# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plusptt.deploy.jwt_keys on the controller runs in Ansible's own process (plugin_utils/_in_process.py)."""

from __future__ import annotations

from ansible_collections.plusptt.deploy.plugins.module_utils import _jwt_keys
from ansible_collections.plusptt.deploy.plugins.plugin_utils._in_process import InProcessAction


class ActionModule(InProcessAction):
    ARGUMENT_SPEC = _jwt_keys.ARGUMENT_SPEC
    RUN = staticmethod(_jwt_keys.ensure)
