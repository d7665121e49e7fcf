# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import socket
import sys

import pytest

# Outside ansible-test, import the collection from the checkout's .collections link.
_COLLECTIONS = os.path.join(os.path.dirname(__file__), "..", "..", ".collections")
if os.path.isdir(_COLLECTIONS) and "ansible_collections.plusptt" not in sys.modules:
    sys.path.insert(0, os.path.abspath(_COLLECTIONS))


@pytest.fixture
def run_module(monkeypatch, capsys):
    """Run a module's main() with the given arguments; return its result (failed results included)."""
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    def _run(module, args, check_mode=False, diff=False):
        payload = dict(args)
        payload["_ansible_check_mode"] = check_mode
        payload["_ansible_diff"] = diff
        payload["_ansible_remote_tmp"] = "/tmp"
        payload["_ansible_keep_remote_files"] = False
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": payload})))
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
        capsys.readouterr()
        with pytest.raises(SystemExit):
            module.main()
        out = capsys.readouterr().out
        return json.loads(out)

    return _run


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
