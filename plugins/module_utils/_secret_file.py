# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Persisted secret material: one YAML mapping per file, mode 0600, written atomically.

Private to this collection; the interface may change without notice.
"""

from __future__ import annotations

import os
import tempfile

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the environment
    HAS_YAML = False
    YAML_IMPORT_ERROR = exc

FILE_MODE = 0o600
DIR_MODE = 0o700


class SecretFileError(Exception):
    """The persisted file exists but cannot be used; never overwrite it."""


def load(path):
    """Return the mapping stored at ``path``, or ``None`` when the file does not exist.

    Raises SecretFileError when the file is unreadable, not YAML, or not a mapping.
    """
    if not os.path.lexists(path):
        return None
    try:
        with open(path, "r", encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretFileError("cannot read %s: %s" % (path, exc)) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SecretFileError("%s is not valid YAML: %s" % (path, exc)) from exc
    if not isinstance(data, dict):
        raise SecretFileError("%s does not hold a YAML mapping" % path)
    return data


def dump(path, data, header=None):
    """Write ``data`` to ``path`` atomically with mode 0600, creating parent directories 0700."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=DIR_MODE)
    text = yaml.safe_dump(data, default_flow_style=False, sort_keys=False, width=4096)
    if header:
        text = "".join("# %s\n" % line for line in header.splitlines()) + text
    fd, tmp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    except Exception:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise


def mode_is_private(path):
    """True when nobody but the owner can read or write ``path``."""
    return (os.stat(path).st_mode & 0o077) == 0


def folder_is_private(path):
    """True when the folder holding ``path`` is missing or nobody but the owner can enter or list it."""
    directory = os.path.dirname(os.path.abspath(path))
    return not os.path.isdir(directory) or (os.stat(directory).st_mode & 0o077) == 0


def ensure_private_folder(path, check_mode=False):
    """Tighten the folder holding ``path`` to 0700 when others can enter or list it; return True when it changed
    (in check mode: when it would)."""
    if folder_is_private(path):
        return False
    if not check_mode:
        os.chmod(os.path.dirname(os.path.abspath(path)), DIR_MODE)
    return True


def ensure_private(path):
    """Tighten the mode of an existing file to 0600; return True when it changed."""
    current = os.stat(path).st_mode & 0o777
    if current != FILE_MODE:
        os.chmod(path, FILE_MODE)
        return True
    return False
