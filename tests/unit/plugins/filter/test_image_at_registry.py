# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The image_at_registry filter: references moved to a registry as Docker would resolve them there."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.plusptt.deploy.plugins.filter.image_at_registry import image_at_registry

REGISTRY = "registry.example.org:5000"


@pytest.mark.parametrize(
    "reference,expected",
    [
        ("redis:7.4.5-alpine", REGISTRY + "/library/redis:7.4.5-alpine"),
        ("livekit/livekit-server:v1.13.7", REGISTRY + "/livekit/livekit-server:v1.13.7"),
        ("docker.io/library/nginx:1.28.0-alpine", REGISTRY + "/library/nginx:1.28.0-alpine"),
        ("docker.io/nginx:1.28.0-alpine", REGISTRY + "/library/nginx:1.28.0-alpine"),
        ("quay.io/team/app:1", REGISTRY + "/team/app:1"),
        ("localhost:5000/app:1", REGISTRY + "/app:1"),
        ("postgrest/postgrest@sha256:" + "a" * 64, REGISTRY + "/postgrest/postgrest@sha256:" + "a" * 64),
        ("nginx", REGISTRY + "/library/nginx"),
    ],
)
def test_reference_keeps_path_and_tag(reference, expected):
    assert image_at_registry(reference, REGISTRY) == expected


def test_applying_twice_changes_nothing():
    once = image_at_registry("redis:7", REGISTRY)
    assert image_at_registry(once, REGISTRY) == once


@pytest.mark.parametrize("registry", ["", None])
def test_no_registry_keeps_the_reference(registry):
    assert image_at_registry("redis:7", registry) == "redis:7"


@pytest.mark.parametrize("registry", ["https://registry.example.org", "registry.example.org/team", "Reg:x"])
def test_registry_with_scheme_or_path_is_refused(registry):
    with pytest.raises(AnsibleFilterError, match="host:port"):
        image_at_registry("redis:7", registry)


@pytest.mark.parametrize("reference", ["", None])
def test_empty_reference_is_refused(reference):
    with pytest.raises(AnsibleFilterError):
        image_at_registry(reference, REGISTRY)
