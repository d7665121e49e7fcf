# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import re

import jwt
import pytest
from livekit import api

from ansible_collections.plusptt.deploy.plugins.module_utils import _livekit_keys

KEY_RE = re.compile(r"^API[%s]{12}$" % _livekit_keys.BASE57_ALPHABET)


def test_key_and_secret_format():
    for dummy in range(200):
        key, secret = _livekit_keys.generate_api_key(), _livekit_keys.generate_api_secret()
        assert KEY_RE.match(key)
        assert len(secret) == 43 and set(secret) <= set(_livekit_keys.BASE62_ALPHABET)


@pytest.mark.parametrize(
    "data, expected",
    [(b"\x00" * 32, "0" * 43), (b"\x00" * 31 + b"\x3d", "0" * 42 + "z"), (b"\xff" * 32, None)],
)
def test_base62_fixed_width(data, expected):
    encoded = _livekit_keys.base62(data)
    assert len(encoded) == 43
    if expected:
        assert encoded == expected
    # round trip
    number = 0
    for char in encoded:
        number = number * 62 + _livekit_keys.BASE62_ALPHABET.index(char)
    assert number.to_bytes(32, "big") == data


def test_generated_pair_mints_tokens_livekit_verifies():
    pairs, added, dropped = _livekit_keys.reconcile(None)
    result = _livekit_keys.module_result(pairs)
    token = (
        api.AccessToken(result["api_key"], result["api_secret"])
        .with_identity("alice")
        .with_grants(api.VideoGrants(room_join=True, room="ops", can_publish=True))
        .to_jwt()
    )
    claims = api.TokenVerifier(result["api_key"], result["api_secret"]).verify(token)
    assert claims.identity == "alice" and claims.video.room == "ops" and claims.video.can_publish
    assert added == [result["api_key"]] and dropped == []
    with pytest.raises(jwt.InvalidSignatureError):
        api.TokenVerifier(result["api_key"], _livekit_keys.generate_api_secret()).verify(token)


def test_count_and_reuse():
    pairs, added, dummy_dropped = _livekit_keys.reconcile(None, count=3)
    assert len(pairs) == 3 == len(added) == len({p["key"] for p in pairs})
    again, added, dropped = _livekit_keys.reconcile({"keys": pairs}, count=3)
    assert again == pairs and added == [] and dropped == []


def test_rotation_keeps_old_pair_then_drops_it():
    first, dummy_added, dummy_dropped = _livekit_keys.reconcile(None)
    rotated, added, dropped = _livekit_keys.reconcile({"keys": first}, rotate=True, keep=2)
    assert [p["key"] for p in rotated] == [first[0]["key"], added[0]] and dropped == []
    assert _livekit_keys.module_result(rotated)["api_key"] == added[0]
    assert [p["key"] for p in _livekit_keys.module_result(rotated)["pairs"]] == [first[0]["key"], added[0]]
    assert "secret" not in _livekit_keys.module_result(rotated)["pairs"][0]
    # a token signed with the old pair still verifies against the returned keys
    old_key, old_secret = first[0]["key"], first[0]["secret"]
    token = api.AccessToken(old_key, old_secret).with_identity("bob").to_jwt()
    keys = _livekit_keys.module_result(rotated)["keys"]
    assert api.TokenVerifier(old_key, keys[old_key]).verify(token).identity == "bob"
    # the next run drops it
    final, added2, dropped2 = _livekit_keys.reconcile({"keys": rotated}, keep=1)
    assert [p["key"] for p in final] == [added[0]] and dropped2 == [old_key] and added2 == []
    assert old_key not in _livekit_keys.module_result(final)["keys"]


def test_regenerate_replaces_every_pair():
    first, dummy_added, dummy_dropped = _livekit_keys.reconcile(None, count=2)
    new, added, dropped = _livekit_keys.reconcile({"keys": first}, count=2, regenerate="always")
    assert len(new) == 2 and set(dropped) == {p["key"] for p in first} and len(added) == 2


@pytest.mark.parametrize(
    "stored, message",
    [
        ({}, "no 'keys' list"),
        ({"keys": []}, "no 'keys' list"),
        ({"keys": ["x"]}, "not a mapping"),
        ({"keys": [{"key": "bad key!", "secret": "s" * 43, "created": 1}]}, "malformed"),
        ({"keys": [{"key": "APIabc", "secret": "short", "created": 1}]}, "shorter than 32"),
        ({"keys": [{"key": "APIabc", "secret": "s" * 43}]}, "created"),
        ({"keys": [{"key": "APIabc", "secret": "s" * 43, "created": 1}] * 2}, "twice"),
    ],
)
def test_invalid_stored_pairs_are_errors(stored, message):
    with pytest.raises(_livekit_keys.LiveKitKeyError, match=message):
        _livekit_keys.reconcile(stored)


@pytest.mark.parametrize("kwargs", [{"count": 0}, {"keep": 0}, {"count": 2, "keep": 1}])
def test_bad_counts_are_errors(kwargs):
    with pytest.raises(_livekit_keys.LiveKitKeyError):
        _livekit_keys.reconcile(None, **kwargs)
