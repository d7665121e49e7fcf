# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end checks of the deployed stack, through nginx on 127.0.0.1 and inside the database."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import ssl
import stat
import subprocess
import uuid

import jwt
import pytest
import requests
from conftest import CREDENTIALS, HTTP, HTTPS, ROOT, containers, docker, psql, user_jwt
from livekit import api

EXPECTED_CONTAINERS = {
    "supabase-db", "supabase-auth", "supabase-rest", "realtime-dev.supabase-realtime", "supabase-meta",
    "supabase-studio", "supabase-kong", "supabase-storage", "supabase-imgproxy", "livekit", "livekit-redis",
    "plusptt-backend", "supabase-nginx", "plusptt-nginx",
}


def test_every_container_is_running_and_healthy():
    found = containers()
    assert set(found) == EXPECTED_CONTAINERS
    for name, info in found.items():
        assert info["State"]["Status"] == "running", name
        assert info["State"]["Health"]["Status"] == "healthy", name


def test_http_redirects_to_https():
    response = requests.get(HTTP + "/api/health/", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == HTTPS + "/api/health/"


def test_root_serves_the_react_app(https):
    response = https.get(HTTPS + "/", timeout=10)
    assert response.status_code == 200
    assert "<title>PlusPTT</title>" in response.text and '<div id="root">' in response.text
    script = https.get(HTTPS + "/config.js", timeout=10)
    assert script.status_code == 200 and "window.__PLUSPTT_CONFIG__" in script.text
    assert '"livekitUrl": "wss://localhost:8443/livekit"' in script.text


def test_runtime_config_carries_the_deployed_anon_key(https, supabase_env):
    assert supabase_env["ANON_KEY"] in https.get(HTTPS + "/config.js", timeout=10).text


def test_backend_health_reaches_the_database(https):
    response = https.get(HTTPS + "/api/health/", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}


def test_studio_requires_the_dashboard_credentials(https, dashboard_credentials):
    assert https.get(HTTPS + "/project/default", timeout=10).status_code == 401
    assert https.get(HTTPS + "/project/default", auth=("supabase", "wrong"), timeout=10).status_code == 401
    response = https.get(HTTPS + "/project/default", auth=dashboard_credentials, timeout=10)
    assert response.status_code == 200
    assert response.json()["service"] == "studio" and response.json()["path"] == "/project/default"


def test_the_dashboard_password_file_is_a_salted_sha512_crypt_only_nginx_reads(dashboard_credentials):
    path = os.path.join(ROOT, "nginx", "auth", "htpasswd")
    info = os.stat(path)
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, 0, 101)
    user, hashed = open(path, encoding="utf-8").read().strip().split(":", 1)
    assert user == dashboard_credentials[0]
    fields = hashed.split("$")  # $6$[rounds=N$]salt$digest
    scheme, salt, digest = fields[1], fields[-2], fields[-1]
    with open(os.path.join(CREDENTIALS, "dashboard_password_salt"), encoding="utf-8") as handle:
        kept = handle.read().strip()
    assert scheme == "6" and salt == kept and len(salt) == 16 and len(digest) == 86
    # The salt is random, not derived from the password (the old one was its SHA-256's first 16 characters).
    assert salt != hashlib.sha256(dashboard_credentials[1].encode()).hexdigest()[:16]
    # The workers (uid/gid 101, as in the official image) read it: a request with the password passes.
    assert docker("exec", "-u", "101:101", "plusptt-nginx", "head", "-c", "1", "/etc/nginx/auth/htpasswd")


def test_livekit_is_reached_through_nginx(https):
    response = https.get(HTTPS + "/livekit/", timeout=10)
    assert response.status_code == 200 and response.text.strip() == "OK"


def test_gateway_routes_auth_and_enforces_api_keys(https, supabase_env):
    # Envoy's RBAC refuses a request without a key, or with a key that is neither anon nor service-role.
    assert https.get(HTTPS + "/auth/v1/health", timeout=10).status_code == 403
    assert https.get(HTTPS + "/auth/v1/health", headers={"apikey": "x" + supabase_env["ANON_KEY"]},
                     timeout=10).status_code == 403
    for key in ("ANON_KEY", "SERVICE_ROLE_KEY"):
        response = https.get(HTTPS + "/auth/v1/health", headers={"apikey": supabase_env[key]}, timeout=10)
        assert response.status_code == 200 and response.json()["name"] == "GoTrue"
    rest = https.get(HTTPS + "/rest/v1/todos?select=id", headers={"apikey": supabase_env["ANON_KEY"]}, timeout=10)
    assert rest.status_code == 200
    assert rest.json()["service"] == "rest" and rest.json()["path"] == "/todos"
    # auth's browser redirects carry no key
    assert https.get(HTTPS + "/auth/v1/verify", timeout=10, allow_redirects=False).json()["path"] == "/verify"


def test_gateway_is_the_real_envoy_with_its_checked_config():
    assert "/1.39.1/" in docker("exec", "supabase-kong", "envoy", "--version")
    config = os.path.join(ROOT, "supabase", "volumes", "api", "envoy.yaml")
    info = os.stat(config)
    assert info.st_uid == 101 and stat.S_IMODE(info.st_mode) == 0o600
    assert not os.path.exists(os.path.join(ROOT, "supabase", "volumes", "api", "kong.yml"))
    # the service answers as api-gw, kong and envoy on the PlusPTT network
    for name in ("api-gw", "kong", "envoy"):
        assert in_network("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://%s:8000/mcp" % name) == "404"


def in_network(*argv):
    """Run a command in a container on the PlusPTT network (the studio test double ships curl)."""
    return docker("exec", "supabase-studio", *argv)


def test_postgres_meta_lists_tables_for_the_service_key_only(supabase_env):
    psql("postgres", "CREATE TABLE IF NOT EXISTS public.e2e_meta_probe (id int)")
    url = "http://api-gw:8000/pg/tables?included_schemas=public"
    listed = json.loads(in_network("curl", "-sf", "-H", "apikey: " + supabase_env["SERVICE_ROLE_KEY"], url))
    assert "e2e_meta_probe" in {table["name"] for table in listed}
    assert in_network("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                      "apikey: " + supabase_env["ANON_KEY"], url) == "403"
    assert in_network("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url) == "403"


def test_storage_is_served_behind_the_api_keys_with_files_on_a_named_volume(https, supabase_env):
    # supabase_storage_enabled: the gateway passes /storage/v1/ on to the storage API, keys required.
    assert https.get(HTTPS + "/storage/v1/status", timeout=10).status_code == 403
    key = supabase_env["SERVICE_ROLE_KEY"]
    assert https.get(HTTPS + "/storage/v1/status", headers={"apikey": key}, timeout=10).status_code == 200
    headers = {"apikey": key, "Authorization": "Bearer " + key}
    buckets = https.get(HTTPS + "/storage/v1/bucket", headers=headers, timeout=10)
    assert buckets.status_code == 200 and buckets.json()["path"] == "/bucket"
    # storage checks the JWT itself: a key from another secret stops there.
    forged = jwt.encode({"role": "service_role", "iss": "supabase"}, "x" * 40, algorithm="HS256")
    refused = https.get(HTTPS + "/storage/v1/bucket", headers={"apikey": key, "Authorization": "Bearer " + forged},
                        timeout=10)
    assert refused.status_code == 400 and refused.json()["statusCode"] == "403"
    # files live on the compose volume storage-data, which imgproxy reads too
    for container, mode in (("supabase-storage", True), ("supabase-imgproxy", False)):
        mounts = json.loads(docker("inspect", container))[0]["Mounts"]
        storage = [m for m in mounts if m["Destination"] == "/var/lib/storage"]
        assert [(m["Type"], m["Name"], m["RW"]) for m in storage] == [("volume", "supabase_storage-data", mode)]


def test_gateway_dashboard_requires_basic_auth(dashboard_credentials):
    code = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    assert in_network(*code, "http://api-gw:8000/project/default") == "401"
    assert in_network(*code, "-u", "supabase:wrong", "http://api-gw:8000/project/default") == "401"
    body = in_network("curl", "-sf", "-u", "%s:%s" % dashboard_credentials, "http://api-gw:8000/project/default")
    assert json.loads(body)["service"] == "studio"


def test_gateway_blocks_mcp_and_realtime_tenants(https, supabase_env):
    headers = {"apikey": supabase_env["SERVICE_ROLE_KEY"]}
    assert https.get(HTTPS + "/realtime/v1/api/tenants", headers=headers, timeout=10).status_code == 403
    ping = https.get(HTTPS + "/realtime/v1/api/ping", headers=headers, timeout=10)
    assert ping.status_code == 200 and ping.json()["path"] == "/api/ping"


def test_gateway_answers_cors_preflight_for_allowed_origins_only(https):
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "apikey"}
    allowed = https.options(HTTPS + "/rest/v1/todos", headers=dict(preflight, Origin="https://localhost:8443"),
                            timeout=10)
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://localhost:8443"
    other = https.options(HTTPS + "/rest/v1/todos", headers=dict(preflight, Origin="https://evil.example"),
                          timeout=10)
    assert "Access-Control-Allow-Origin" not in other.headers


def websocket_upgrade(path):
    context = ssl.create_default_context(cafile=os.path.join(ROOT, "nginx", "ca", "ca.crt"))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET %s HTTP/1.1\r\nHost: localhost:8443\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)
    )
    with socket.create_connection(("127.0.0.1", 8443), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(request.encode())
            return tls.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_realtime_websocket_takes_the_key_as_a_query_parameter(supabase_env):
    path = "/realtime/v1/websocket?vsn=1.0.0&apikey="
    assert websocket_upgrade(path + supabase_env["ANON_KEY"]).startswith("HTTP/1.1 101")
    assert " 403 " in websocket_upgrade(path + supabase_env["ANON_KEY"] + "x")


def test_livekit_websocket_upgrade(livekit_keys):
    key, secret = next(iter(livekit_keys.items()))
    token = api.AccessToken(key, secret).with_identity("e2e").with_grants(
        api.VideoGrants(room_join=True, room="e2e")).to_jwt()
    assert websocket_upgrade("/livekit/rtc?access_token=" + token).startswith("HTTP/1.1 101")
    forged = api.AccessToken(key, "x" * 43).with_identity("e2e").to_jwt()
    assert " 401 " in websocket_upgrade("/livekit/rtc?access_token=" + forged)


def test_user_jwt_obtains_a_livekit_token_that_verifies(https, supabase_env, livekit_keys):
    sub = str(uuid.uuid4())
    channel = "ops-" + sub[:8]
    response = https.post(HTTPS + "/api/ptt/token/", json={"channel": channel}, timeout=15,
                          headers={"Authorization": "Bearer " + user_jwt(supabase_env["JWT_SECRET"], sub)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["url"] == "wss://localhost:8443/livekit"
    issuer = jwt.decode(body["token"], options={"verify_signature": False})["iss"]
    claims = api.TokenVerifier(issuer, livekit_keys[issuer]).verify(body["token"])
    assert claims.identity == sub and claims.video.room == channel and claims.video.room_join
    assert claims.video.can_publish
    # the deployed LiveKit accepts it too, and the backend recorded the channel in its database
    validate = https.get(HTTPS + "/livekit/rtc/validate", params={"access_token": body["token"]}, timeout=10)
    assert validate.status_code == 200
    assert psql("plusptt", "SELECT count(*) FROM console_channel WHERE name = '%s'" % channel) == "1"


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-jwt", "forged"])
def test_ptt_token_refuses_bad_user_jwts(https, authorization):
    headers = {}
    if authorization == "forged":
        headers["Authorization"] = "Bearer " + user_jwt("f" * 64)
    elif authorization:
        headers["Authorization"] = authorization
    response = https.post(HTTPS + "/api/ptt/token/", json={"channel": "ops"}, headers=headers, timeout=10)
    assert response.status_code == 401


def test_database_and_redis_are_not_published():
    for name in ("supabase-db", "livekit-redis", "supabase-kong", "supabase-studio", "plusptt-backend"):
        assert docker("port", name).strip() == "", name
    listening = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
    ports = {line.split()[3].rsplit(":", 1)[1] for line in listening.splitlines() if line.strip()}
    assert not ports & {"5432", "6379", "8000", "3000", "8010"}


def test_redis_requires_its_password():
    out = subprocess.run(["docker", "exec", "livekit-redis", "redis-cli", "ping"], capture_output=True, text=True,
                         check=False)
    assert "NOAUTH" in out.stdout + out.stderr


def test_secret_files_on_the_host(supabase_env, livekit_keys):
    for key in ("JWT_SECRET", "ANON_KEY", "SERVICE_ROLE_KEY", "DASHBOARD_USERNAME", "DASHBOARD_PASSWORD"):
        assert supabase_env.get(key), key
    for path in ("supabase/.env", "livekit/keys.yaml", "livekit/config.yaml", "backend/.env", "nginx/ssl/key.pem"):
        mode = stat.S_IMODE(os.stat(os.path.join(ROOT, path)).st_mode)
        assert mode == 0o600, "%s is %o" % (path, mode)
    assert all(key.startswith("API") and len(secret) >= 32 for key, secret in livekit_keys.items())
    assert stat.S_IMODE(os.stat(CREDENTIALS).st_mode) == 0o700


def test_anon_and_service_keys_are_signed_with_the_deployed_secret(supabase_env):
    for key, role in (("ANON_KEY", "anon"), ("SERVICE_ROLE_KEY", "service_role")):
        claims = jwt.decode(supabase_env[key], supabase_env["JWT_SECRET"], algorithms=["HS256"], issuer="supabase")
        assert claims["role"] == role


def test_database_roles_use_the_deployed_password(supabase_env):
    assert psql("postgres", "SELECT current_setting('app.settings.jwt_secret')") == supabase_env["JWT_SECRET"]
    login = subprocess.run(
        ["docker", "exec", "-e", "PGPASSWORD=" + supabase_env["POSTGRES_PASSWORD"], "supabase-db", "psql", "-h",
         "supabase-db", "-U", "authenticator", "-d", "postgres", "-tAc", "SELECT 1"],
        capture_output=True, text=True, check=False)
    assert login.stdout.strip() == "1"


def container_environment(name):
    return dict(line.split("=", 1) for line in containers()[name]["Config"]["Env"])


def test_values_compose_would_rewrite_reach_the_containers_as_given():
    # tests/e2e/inventory/group_vars/all/profile.yml sets them with $, " #", quotes and a trailing space.
    auth = container_environment("supabase-auth")
    assert auth["GOTRUE_SMTP_PASS"] == 'p$ss #1"x'
    assert auth["GOTRUE_SMTP_SENDER_NAME"] == "PlusPTT ops # \"night\" $HOME 'shift' "
    assert container_environment("plusptt-backend")["PLUSPTT_LITERAL"] == "costs $5 ${HOME} #1"
