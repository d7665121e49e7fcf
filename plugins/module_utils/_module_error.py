# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a module of this collection fails with, raised by the work it shares with its action plugin.

Private to this collection; the interface may change without notice.
"""

from __future__ import annotations


class ModuleError(Exception):
    """The message a module fails with, and any further keys of its failed result."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.details = details
