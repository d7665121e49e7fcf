# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The image_at_registry filter: an image reference moved to another registry, same path and tag."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# host[:port], the only form a registry takes in an image reference.
LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
REGISTRY_PATTERN = re.compile(r"^(localhost|%s(\.%s)*)(:[0-9]{1,5})?$" % (LABEL, LABEL))

DOCKER_HUB_NAMES = ("docker.io", "index.docker.io", "registry-1.docker.io")


def _is_registry(component):
    # As Docker reads a reference: the first component names a registry when it has a dot or a port,
    # or is localhost.
    return "." in component or ":" in component or component == "localhost"


def image_at_registry(reference, registry):
    """Return ``reference`` pulled from ``registry`` instead: ``redis:7`` -> ``registry/library/redis:7``.

    An empty registry returns the reference unchanged, as does a reference already on that registry.
    """
    if not isinstance(reference, str) or not reference:
        raise AnsibleFilterError("image_at_registry: the image reference must be a non-empty string")
    if registry is None or registry == "":
        return reference
    if not isinstance(registry, str) or not REGISTRY_PATTERN.match(registry):
        raise AnsibleFilterError(
            "image_at_registry: %r is not a registry; give host or host:port, without scheme or path" % (registry,)
        )
    first, slash, rest = reference.partition("/")
    if slash and _is_registry(first):
        if first == registry:
            return reference
        on_docker_hub = first in DOCKER_HUB_NAMES
        path = rest
    else:
        on_docker_hub = True
        path = reference
    if on_docker_hub and "/" not in path:
        # Docker Hub's official images live under library/, and registries mirror them there.
        path = "library/" + path
    return "%s/%s" % (registry, path)


class FilterModule:
    """PlusPTT filters."""

    def filters(self):
        return {"image_at_registry": image_at_registry}
