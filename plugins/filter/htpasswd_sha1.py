# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The htpasswd_sha1 filter: one htpasswd line in the {SHA} scheme, the one Envoy's basic_auth reads."""

from __future__ import annotations

import base64
import hashlib

from ansible.errors import AnsibleFilterError


def htpasswd_sha1(password, user):
    """Return ``user:{SHA}<base64 of the SHA-1 digest of password>``."""
    if not isinstance(user, str) or not user or ":" in user:
        raise AnsibleFilterError("htpasswd_sha1: the user must be a non-empty string without ':'")
    if not isinstance(password, str):
        raise AnsibleFilterError("htpasswd_sha1: the password must be a string")
    digest = hashlib.sha1(password.encode("utf-8")).digest()  # noqa: S324 - the format Envoy reads
    return "%s:{SHA}%s" % (user, base64.b64encode(digest).decode("ascii"))


class FilterModule:
    """PlusPTT filters."""

    def filters(self):
        return {"htpasswd_sha1": htpasswd_sha1}
