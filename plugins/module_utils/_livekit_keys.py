# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""LiveKit API key pairs in the format of ``livekit-server generate-keys``.

Private to this collection; the interface may change without notice.
"""

from __future__ import annotations

import re
import secrets
import time

# shortuuid's alphabet, as livekit-server uses for API keys.
BASE57_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_PREFIX = "API"
KEY_RANDOM_CHARS = 12
SECRET_BYTES = 32
SECRET_LENGTH = 43  # 32 bytes need at most 43 base62 digits
MIN_SECRET_LENGTH = 32
FORMAT_VERSION = 1
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{3,64}$")


class LiveKitKeyError(Exception):
    """Input or persisted material that must not be used."""


def base62(data):
    """Encode bytes as a fixed-width base62 string (big-endian)."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(BASE62_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(SECRET_LENGTH, BASE62_ALPHABET[0])


def generate_api_key():
    return KEY_PREFIX + "".join(secrets.choice(BASE57_ALPHABET) for dummy in range(KEY_RANDOM_CHARS))


def generate_api_secret():
    return base62(secrets.token_bytes(SECRET_BYTES))


def new_pair(existing_keys=(), now=None):
    key = generate_api_key()
    while key in existing_keys:  # 57**12 makes this loop theoretical
        key = generate_api_key()
    return {"key": key, "secret": generate_api_secret(), "created": int(time.time() if now is None else now)}


def validate_stored(stored):
    """Return the list of stored pairs, oldest first, or raise LiveKitKeyError."""
    pairs = stored.get("keys")
    if not isinstance(pairs, list) or not pairs:
        raise LiveKitKeyError("it holds no 'keys' list")
    seen = set()
    for index, pair in enumerate(pairs):
        if not isinstance(pair, dict):
            raise LiveKitKeyError("keys[%d] is not a mapping" % index)
        key, secret = pair.get("key"), pair.get("secret")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise LiveKitKeyError("keys[%d].key is missing or malformed" % index)
        if key in seen:
            raise LiveKitKeyError("key %s appears twice" % key)
        seen.add(key)
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            raise LiveKitKeyError(
                "the secret of %s is missing or shorter than %d characters" % (key, MIN_SECRET_LENGTH)
            )
        if not isinstance(pair.get("created"), int):
            raise LiveKitKeyError("keys[%d].created is not an integer timestamp" % index)
    return [dict(pair) for pair in pairs]


def reconcile(stored, count=1, rotate=False, keep=None, regenerate="never", now=None):
    """Compute the key pairs to keep.

    Returns ``(pairs, added, dropped)``: the pairs to persist (oldest first), and the key ids that were
    added and dropped compared with ``stored``.
    """
    if count < 1:
        raise LiveKitKeyError("count must be at least 1 (got %d)" % count)
    if keep is not None and keep < 1:
        raise LiveKitKeyError("keep must be at least 1 (got %d)" % keep)
    if keep is not None and keep < count:
        raise LiveKitKeyError("keep (%d) must not be smaller than count (%d)" % (keep, count))
    now = int(time.time() if now is None else now)

    if stored is None or regenerate == "always":
        old = []
        if stored is not None and isinstance(stored.get("keys"), list):
            old = [pair.get("key") for pair in stored["keys"] if isinstance(pair, dict)]
        pairs = []
    else:
        pairs = validate_stored(stored)
        old = [pair["key"] for pair in pairs]

    while len(pairs) < count:
        pairs.append(new_pair([pair["key"] for pair in pairs], now))
    if rotate and stored is not None and regenerate != "always":
        pairs.append(new_pair([pair["key"] for pair in pairs], now))
    if keep is not None and len(pairs) > keep:
        pairs = pairs[-keep:]

    kept = [pair["key"] for pair in pairs]
    added = [key for key in kept if key not in old]
    dropped = [key for key in old if key not in kept]
    return pairs, added, dropped


def module_result(pairs):
    newest = pairs[-1]
    return {
        "keys": dict((pair["key"], pair["secret"]) for pair in pairs),
        "key_ids": [pair["key"] for pair in pairs],
        "pairs": [{"key": pair["key"], "created": pair["created"]} for pair in pairs],
        "api_key": newest["key"],
        "api_secret": newest["secret"],
    }
