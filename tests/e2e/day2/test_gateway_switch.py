# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""supabase_gateway: the running test stack switched from Envoy to Kong and back, one run each.

Kong is the test double's Kong mode (kong.yml parsed strictly, key-auth and ACL enforced); Envoy is real.
The way back starts from the layout of deployments made before the gateway service was named api-gw.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess

import yaml
from conftest import HTTPS, ROOT, deploy, docker, ok, read_env_file

API = os.path.join(ROOT, "supabase", "volumes", "api")
COMPOSE_DIR = os.path.join(ROOT, "supabase")


def gateway_image():
    return json.loads(docker("inspect", "supabase-kong"))[0]["Config"]["Image"]


def gateway_service():
    return json.loads(docker("inspect", "supabase-kong"))[0]["Config"]["Labels"]["com.docker.compose.service"]


def run_gateway_as_service_kong():
    """Rewrite the compose project as earlier releases wrote it: the gateway service named kong."""
    path = os.path.join(COMPOSE_DIR, "compose.yml")
    with open(path, encoding="utf-8") as handle:
        project = yaml.safe_load(handle)
    project["services"]["kong"] = project["services"].pop("api-gw")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(project, handle)
    subprocess.run(["docker", "compose", "up", "-d", "--remove-orphans"], cwd=COMPOSE_DIR, check=True,
                   capture_output=True)


def auth_health(session, key=None):
    headers = {"apikey": key} if key else {}
    return session.get(HTTPS + "/auth/v1/health", headers=headers, timeout=10)


def tenants(session, key):
    return session.get(HTTPS + "/realtime/v1/api/tenants", headers={"apikey": key}, timeout=10).status_code


# Upstream's open auth routes (path through the gateway, path auth receives): no key needed.
OPEN_AUTH = [("/auth/v1/.well-known/jwks.json", "/.well-known/jwks.json"),
             ("/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server"),
             ("/sso/saml/acs", "/sso/saml/acs"), ("/sso/saml/metadata", "/sso/saml/metadata")]


def check_upstream_routes(session, env, refused):
    """Each open auth path reaches auth with no key, the anon key and the service key; the OpenAPI root of
    /rest/v1/ answers the service key only (refused: the status the gateway gives a key it does not accept)."""
    for key in (None, env["ANON_KEY"], env["SERVICE_ROLE_KEY"]):
        headers = {"apikey": key} if key else {}
        for path, reached in OPEN_AUTH:
            answer = session.get(HTTPS + path, headers=headers, timeout=10)
            assert answer.status_code == 200 and answer.json()["service"] == "auth", (path, key is None)
            assert answer.json()["path"] == reached
    assert session.get(HTTPS + "/rest/v1/", timeout=10).status_code in (401, 403)
    assert session.get(HTTPS + "/rest/v1/", headers={"apikey": env["ANON_KEY"]}, timeout=10).status_code == refused
    openapi = session.get(HTTPS + "/rest/v1/", headers={"apikey": env["SERVICE_ROLE_KEY"]}, timeout=10)
    assert openapi.status_code == 200 and "paths" in openapi.json()


def test_switch_to_kong_and_back_is_one_run_each(https):
    env = read_env_file(os.path.join(ROOT, "supabase", ".env"))
    ok(deploy("-e", "supabase_gateway=kong"))
    assert "service-double" in gateway_image()
    kong = os.stat(os.path.join(API, "kong.yml"))
    assert kong.st_uid == 1000 and stat.S_IMODE(kong.st_mode) == 0o600
    assert not os.path.exists(os.path.join(API, "envoy.yaml"))
    # Kong's key-auth answers 401 without a key; the anon key passes; the same names resolve.
    assert auth_health(https).status_code == 401
    assert auth_health(https, env["ANON_KEY"]).json()["name"] == "GoTrue"
    # Realtime's tenant admin API: refused with either key, as Envoy refuses it; the rest of its API is served.
    for key in (env["ANON_KEY"], env["SERVICE_ROLE_KEY"]):
        assert tenants(https, key) == 403
    check_upstream_routes(https, env, refused=403)
    ping = https.get(HTTPS + "/realtime/v1/api/ping", headers={"apikey": env["ANON_KEY"]}, timeout=10)
    assert ping.status_code == 200
    check_upstream_routes(https, env, refused=403)
    # a second run of every task with kong changes nothing
    again = ok(deploy("-e", "supabase_gateway=kong", "-e", "plusptt_full_run=true"))
    assert "changed=0" in again.stdout.split("PLAY RECAP", 1)[1]

    run_gateway_as_service_kong()
    assert gateway_service() == "kong"
    ok(deploy())
    assert gateway_service() == "api-gw"
    assert "envoy" in gateway_image()
    assert not os.path.exists(os.path.join(API, "kong.yml"))
    assert auth_health(https).status_code == 403
    assert auth_health(https, env["ANON_KEY"]).json()["name"] == "GoTrue"
    for key in (env["ANON_KEY"], env["SERVICE_ROLE_KEY"]):
        assert tenants(https, key) == 403
    check_upstream_routes(https, env, refused=403)
