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

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.plusptt.deploy.plugins.module_utils import _secret_file
from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError

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


# Options of plusptt.deploy.livekit_keys, for the module and for its controller-side action plugin.
ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    count=dict(type="int", default=1),
    rotate=dict(type="bool", default=False),
    keep=dict(type="int"),
    regenerate=dict(type="str", default="never", choices=["never", "always"]),
)


def ensure(params, check_mode=False, diff=False):
    """The work of plusptt.deploy.livekit_keys on validated options: the pairs kept in params["path"] (written
    unless check_mode), as the module's result. Raises ModuleError."""
    if not _secret_file.HAS_YAML:
        raise ModuleError(missing_required_lib("PyYAML"), exception=str(_secret_file.YAML_IMPORT_ERROR))

    path = params["path"]
    stored = None
    try:
        stored = _secret_file.load(path)
        pairs, added, dropped = reconcile(
            stored, count=params["count"], rotate=params["rotate"], keep=params["keep"], regenerate=params["regenerate"]
        )
    except _secret_file.SecretFileError as exc:
        raise ModuleError("%s (file: %s)" % (exc, path)) from exc
    except LiveKitKeyError as exc:
        where = "in %s" % path if stored is not None else "for %s" % path
        raise ModuleError("LiveKit keys %s: %s; fix it or set regenerate=always" % (where, exc)) from exc

    changed = bool(added or dropped)
    mode_fixed = False
    if stored is not None and not changed and not _secret_file.mode_is_private(path):
        mode_fixed = check_mode or _secret_file.ensure_private(path)
    if changed and not check_mode:
        _secret_file.dump(
            path,
            {"format": FORMAT_VERSION, "keys": pairs},
            header="LiveKit API key pairs, oldest first; managed by plusptt.deploy.livekit_keys. Keep secret.",
        )

    try:
        folder_fixed = _secret_file.ensure_private_folder(path, check_mode)
    except OSError as exc:
        raise ModuleError("cannot make the folder of %s private (0700): %s" % (path, exc)) from exc

    result = dict(changed=changed or mode_fixed or folder_fixed, path=path, added=added, dropped=dropped)
    result.update(module_result(pairs))
    if diff:
        result["diff"] = dict(
            before_header=path,
            after_header=path,
            before="".join("%s\n" % key for key in dropped + [k for k in result["key_ids"] if k not in added]),
            after="".join("%s\n" % key for key in result["key_ids"]),
        )
    return result
