# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

import jwt
import pytest
import yaml

from ansible_collections.plusptt.deploy.plugins.modules import jwt_keys, livekit_keys


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def key_path(tmp_path):
    return str(tmp_path / "credentials" / "nested" / "keys.yml")


@pytest.mark.parametrize("module", [jwt_keys, livekit_keys], ids=["jwt_keys", "livekit_keys"])
class TestPersistence:
    def test_check_mode_writes_nothing(self, run_module, module, key_path):
        result = run_module(module, {"path": key_path}, check_mode=True)
        assert result["changed"] is True
        assert not os.path.exists(key_path) and not os.path.exists(os.path.dirname(key_path))

    def test_create_then_reuse(self, run_module, module, key_path):
        first = run_module(module, {"path": key_path})
        assert first["changed"] is True
        assert mode(key_path) == 0o600 and mode(os.path.dirname(key_path)) == 0o700
        second = run_module(module, {"path": key_path})
        assert second["changed"] is False
        for name in ("jwt_secret", "anon_key", "service_role_key", "keys", "api_key", "api_secret"):
            assert first.get(name) == second.get(name)
        in_check = run_module(module, {"path": key_path}, check_mode=True)
        assert in_check["changed"] is False

    def test_regenerate_always(self, run_module, module, key_path):
        first = run_module(module, {"path": key_path})
        second = run_module(module, {"path": key_path, "regenerate": "always"})
        assert second["changed"] is True
        assert (first.get("jwt_secret"), first.get("api_key")) != (second.get("jwt_secret"), second.get("api_key"))

    @pytest.mark.parametrize("content", ["{unclosed: [", "- just\n- a list\n", "plain text"])
    def test_corrupt_file_is_an_error_and_kept(self, run_module, module, key_path, content):
        os.makedirs(os.path.dirname(key_path))
        with open(key_path, "w") as handle:
            handle.write(content)
        result = run_module(module, {"path": key_path})
        assert result["failed"] is True and key_path in result["msg"]
        with open(key_path) as handle:
            assert handle.read() == content

    def test_unreadable_file_is_an_error(self, run_module, module, key_path):
        os.makedirs(key_path)  # a directory where the file should be
        result = run_module(module, {"path": key_path})
        assert result["failed"] is True and key_path in result["msg"]

    def test_loose_mode_is_tightened(self, run_module, module, key_path):
        run_module(module, {"path": key_path})
        os.chmod(key_path, 0o644)
        assert run_module(module, {"path": key_path}, check_mode=True)["changed"] is True
        assert mode(key_path) == 0o644
        assert run_module(module, {"path": key_path})["changed"] is True
        assert mode(key_path) == 0o600

    def test_a_loose_folder_is_tightened(self, run_module, module, key_path):
        run_module(module, {"path": key_path})
        folder = os.path.dirname(key_path)
        os.chmod(folder, 0o755)
        assert run_module(module, {"path": key_path}, check_mode=True)["changed"] is True
        assert mode(folder) == 0o755
        assert run_module(module, {"path": key_path})["changed"] is True
        assert mode(folder) == 0o700
        assert run_module(module, {"path": key_path})["changed"] is False

    def test_diff_never_shows_secrets(self, run_module, module, key_path):
        result = run_module(module, {"path": key_path}, diff=True)
        diff = result["diff"]["before"] + result["diff"]["after"]
        for name in ("jwt_secret", "api_secret"):
            if name in result:
                assert result[name] not in diff


def test_jwt_keys_given_secret_and_conflict(run_module, key_path):
    secret = "a-very-long-secret-that-is-over-32-characters"
    result = run_module(jwt_keys, {"path": key_path, "jwt_secret": secret})
    assert jwt.decode(result["anon_key"], secret, algorithms=["HS256"], issuer="supabase")["role"] == "anon"
    # Ansible would mask a returned no_log input as VALUE_SPECIFIED_IN_NO_LOG_PARAMETER: it is not returned.
    assert "jwt_secret" not in result
    conflict = run_module(jwt_keys, {"path": key_path, "jwt_secret": "b" * 40})
    assert conflict["failed"] and "regenerate=always" in conflict["msg"]
    assert yaml.safe_load(open(key_path))["jwt_secret"] == secret


def test_jwt_keys_short_secret_fails_before_writing(run_module, key_path):
    result = run_module(jwt_keys, {"path": key_path, "jwt_secret": "short"})
    assert result["failed"] and "jwt_secret must be" in result["msg"] and not os.path.exists(key_path)


def test_jwt_keys_asymmetric_returned(run_module, key_path):
    result = run_module(jwt_keys, {"path": key_path, "asymmetric": True})
    public = jwt.PyJWK(result["jwks"]["keys"][0]).key
    claims = jwt.decode(result["service_role_key_asymmetric"], public, algorithms=["ES256"], issuer="supabase")
    assert claims["role"] == "service_role"
    assert run_module(jwt_keys, {"path": key_path, "asymmetric": True})["changed"] is False


def test_livekit_rotation_cycle(run_module, key_path):
    first = run_module(livekit_keys, {"path": key_path})
    rotated = run_module(livekit_keys, {"path": key_path, "rotate": True, "keep": 2})
    assert rotated["changed"] and len(rotated["keys"]) == 2 and first["api_key"] in rotated["keys"]
    assert rotated["api_key"] != first["api_key"] and rotated["added"] == [rotated["api_key"]]
    steady = run_module(livekit_keys, {"path": key_path, "keep": 2})
    assert steady["changed"] is False
    dropped = run_module(livekit_keys, {"path": key_path, "keep": 1})
    assert dropped["dropped"] == [first["api_key"]] and list(dropped["keys"]) == [rotated["api_key"]]


def test_livekit_bad_keep(run_module, key_path):
    result = run_module(livekit_keys, {"path": key_path, "count": 2, "keep": 1})
    assert result["failed"] and "keep (1) must not be smaller than count (2)" in result["msg"]
    assert not os.path.exists(key_path)
