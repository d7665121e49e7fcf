# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The htpasswd_sha1 filter against Apache's {SHA} scheme."""

from __future__ import annotations

import base64
import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.plusptt.deploy.plugins.filter.htpasswd_sha1 import htpasswd_sha1


@pytest.mark.parametrize("password,user", [("password", "u"), ("pä:ss w0rd", "supabase"), ("", "x")])
def test_line_is_user_and_base64_sha1(password, user):
    line = htpasswd_sha1(password, user)
    name, scheme_digest = line.split(":", 1)
    assert name == user and scheme_digest.startswith("{SHA}")
    assert base64.b64decode(scheme_digest[5:]) == hashlib.sha1(password.encode()).digest()


def test_known_value():
    # htpasswd -nbs u password
    assert htpasswd_sha1("password", "u") == "u:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="


@pytest.mark.parametrize("password,user", [("p", ""), ("p", "a:b"), (None, "u"), ("p", None)])
def test_bad_input_is_refused(password, user):
    with pytest.raises(AnsibleFilterError):
        htpasswd_sha1(password, user)
