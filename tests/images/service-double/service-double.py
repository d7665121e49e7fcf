#!/usr/bin/env python
"""Test double for the Supabase services (auth, rest, realtime, studio, meta, storage, imgproxy, gateway) and
livekit-server.

Used only by the collection's tests, because the real images cannot be pulled there; no role default
ever points at it. Each service keeps the real image's port, health path, required environment and
config-file checks, logs in to its database (or Redis) the way the real one does, and echoes every other
request back as JSON so the routing of a reverse proxy can be asserted. See README.md for the details.

Pick the service with DOUBLE_SERVICE or the first argument. What each one reproduces:
  auth      supabase/gotrue: port 9999, GET /health and /settings, GOTRUE_* checks, DB login
  rest      postgrest: port 3000, JWT check (PGRST301), GET / stub, admin /ready and /live, DB login
  realtime  supabase/realtime: port 4000, tenant health with a JWT, /socket/websocket, DB login
  studio    supabase/studio: port 3000, GET /api/platform/profile
  meta      supabase/postgres-meta: port 8080, GET /health, DB login
  storage   supabase/storage-api: port 5000, GET /status, JWT check on the rest, file backend folder, DB login
  imgproxy  darthsim/imgproxy: IMGPROXY_BIND (:5001), GET /health
  gateway   kong (DB-less): strict kong.yml, key-auth/basic-auth/acl/cors, proxy and websocket tunnel
            on 8000, GET /status on 8100
  livekit   livekit-server: strict config, keys and key_file check, Redis at boot, GET /, /rtc/validate,
            /rtc websocket, /twirp, RTC TCP/UDP, TURN UDP and
            TURN/TLS (STUN Binding) listeners
Invoked as `kong`, `postgrest` or `imgproxy` (symlinks) it answers `kong health`, `postgrest --ready` and
`imgproxy health`.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import selectors
import signal
import socket
import ssl
import stat
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import psycopg2
import psycopg2.extensions
import redis
import redis.sentinel
import yaml

SERVICE_NAMES = ("auth", "rest", "realtime", "studio", "meta", "storage", "imgproxy", "gateway", "livekit")
HANDLED = object()  # a route returns this when it wrote the whole response itself
SECRET_HEADERS = {"authorization", "proxy-authorization", "apikey", "cookie", "x-api-key"}
SECRET_PARAM_RE = re.compile(r"(?i)\b(access_token|apikey|api_key|token|password|key)=([^&\s'\"]*)")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
              "upgrade", "proxy-authenticate"}


class ConfigError(Exception):
    """Missing or invalid configuration: the double exits 1, like the real service."""


# ---------------------------------------------------------------------------------------------------
# Logging and small helpers

def log(message):
    print(f"{datetime.now(UTC).isoformat(timespec='seconds')} {SERVICE_LABEL} {message}",
          flush=True)


def redact(text):
    return SECRET_PARAM_RE.sub(lambda m: f"{m.group(1)}=<redacted>", str(text))


def die(message):
    print(f"{SERVICE_LABEL}: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


SERVICE_LABEL = "service-double"


def env_required(env, name, min_len=0):
    value = env.get(name, "")
    if not value:
        raise ConfigError(f"{name} is required")
    if len(value) < min_len:
        raise ConfigError(f"{name} must be at least {min_len} characters long (got {len(value)})")
    return value


def env_port(env, names, default):
    for name in names:
        if env.get(name):
            return parse_port(env[name], name)
    return default


def parse_port(value, what):
    try:
        port = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{what} is not a port number: {value!r}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{what} is out of range: {port}")
    return port


def env_bool(env, name, default=False):
    # Same spellings as Go's strconv.ParseBool, which the Go services use.
    value = env.get(name)
    if value is None or value == "":
        return default
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ConfigError(f"{name} is not a boolean: {value!r}")


def env_url(env, name):
    value = env_required(env, name)
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def now_iso():
    return datetime.now(UTC).isoformat()


# ---------------------------------------------------------------------------------------------------
# Requests and responses

class Request:
    def __init__(self, handler, body):
        split = urllib.parse.urlsplit(handler.path)
        self.handler = handler
        self.method = handler.command
        self.path = split.path or "/"
        self.query = split.query
        self.params = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        self.headers = handler.headers
        self.body = body
        self.client = client_ip(handler)

    def param(self, name):
        values = self.params.get(name)
        return values[0] if values else None

    def bearer(self):
        value = self.headers.get("Authorization", "")
        return value[7:].strip() if value[:7].lower() == "bearer " else None

    @property
    def is_read(self):
        return self.method in ("GET", "HEAD")

    @property
    def is_websocket(self):
        connection = {t.strip().lower() for t in self.headers.get("Connection", "").split(",")}
        return ("upgrade" in connection and self.headers.get("Upgrade", "").lower() == "websocket"
                and bool(self.headers.get("Sec-WebSocket-Key")))


class Response:
    def __init__(self, status, body=b"", content_type="application/json; charset=utf-8", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode()
        self.content_type = content_type
        self.headers = list(headers or [])


def json_response(status, obj, headers=None):
    return Response(status, json.dumps(obj), headers=headers)


def text_response(status, text):
    return Response(status, text, content_type="text/plain; charset=utf-8")


def redacted_headers(headers):
    result = {}
    for name, value in headers.items():
        key = name.lower()
        value = "<redacted>" if key in SECRET_HEADERS else value
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result


def client_ip(handler):
    address = handler.client_address[0]
    return address[7:] if address.startswith("::ffff:") else address  # IPv4 seen on a dual-stack socket


def echo_response(service, req):
    return json_response(200, {
        "service": service, "method": req.method, "path": req.path, "query": req.query,
        "headers": redacted_headers(req.headers), "body": req.body.decode("utf-8", "replace"),
    })


# ---------------------------------------------------------------------------------------------------
# WebSocket (RFC 6455): handshake and an echo loop

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_MAX_PAYLOAD = 16 * 1024 * 1024


def websocket_accept(key):
    return base64.b64encode(hashlib.sha1((key.strip() + WS_GUID).encode()).digest()).decode()


def read_exact(rfile, size):
    data = rfile.read(size) if size else b""
    if len(data) != size:
        raise EOFError
    return data


def unmask(payload, mask):
    size = len(payload)
    if not size:
        return payload
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")


def read_exact_socket(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_frame(rfile):
    first, second = read_exact(rfile, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", read_exact(rfile, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", read_exact(rfile, 8))[0]
    if length > WS_MAX_PAYLOAD:
        raise EOFError
    mask = read_exact(rfile, 4) if second & 0x80 else None
    payload = read_exact(rfile, length)
    return bool(first & 0x80), first & 0x0F, unmask(payload, mask) if mask else payload


def write_frame(wfile, opcode, payload, fin=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 65536:
        head += bytes([126]) + struct.pack("!H", size)
    else:
        head += bytes([127]) + struct.pack("!Q", size)
    wfile.write(head + payload)


def websocket_echo(req):
    """Answer the upgrade with 101, then echo data frames until a close frame or EOF."""
    handler = req.handler
    if req.headers.get("Sec-WebSocket-Version", "13").strip() != "13":
        return Response(426, b"", headers=[("Sec-WebSocket-Version", "13")])
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", websocket_accept(req.headers["Sec-WebSocket-Key"]))
    handler.end_headers()
    handler.close_connection = True
    try:
        while True:
            fin, opcode, payload = read_frame(handler.rfile)
            if opcode == 0x8:  # close: answer with the same status code, then stop
                write_frame(handler.wfile, 0x8, payload[:2])
                break
            if opcode == 0x9:
                write_frame(handler.wfile, 0xA, payload)
            elif opcode in (0x0, 0x1, 0x2):
                write_frame(handler.wfile, opcode, payload, fin)
    except (EOFError, OSError, ValueError):
        pass
    return HANDLED


def echo_or_websocket(service, req):
    return websocket_echo(req) if req.is_websocket else echo_response(service, req)


# ---------------------------------------------------------------------------------------------------
# HTTP server

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    route = None  # set per listener: function(Request) -> Response | HANDLED | None
    service = ""

    def version_string(self):
        return "service-double"

    def log_request(self, code="-", size="-"):
        log(f'{client_ip(self)} "{self.command} {redact(getattr(self, "path", ""))}" {int(code)}')

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        print(f"{SERVICE_LABEL} {redact(format % args)}", file=sys.stderr, flush=True)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(read_exact(self.rfile, size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return read_exact(self.rfile, length) if length else b""

    def dispatch(self):
        try:
            body = self.read_body()
        except (ValueError, EOFError):
            self.send_error(400, "Bad request body")
            return
        req = Request(self, body)
        try:
            response = self.route(req)
            if response is None:
                response = echo_or_websocket(self.service, req)
        except Exception as exc:  # a bug in the double must show, not kill the listener
            print(f"{SERVICE_LABEL} error on {req.method} {redact(req.path)}: {exc!r}",
                  file=sys.stderr, flush=True)
            response = json_response(500, {"message": f"service double error: {exc}"})
        if response is not HANDLED:
            self.send(req, response)

    def send(self, req, response):
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if req.method != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(host, port, route, service):
    handler = type("BoundHandler", (Handler,), {"route": staticmethod(route), "service": service})
    if host in ("", "::", "0.0.0.0"):
        # Dual-stack when the container has IPv6, so `localhost` healthchecks work either way.
        try:
            server_cls = type("Server6", (Server,), {"address_family": socket.AF_INET6})
            server = server_cls(("::", port), handler, bind_and_activate=False)
            server.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            server.server_bind()
            server.server_activate()
            return server
        except OSError:
            host = "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_cls = type("ServerN", (Server,), {"address_family": family})
    return server_cls((host, port), handler)


def serve(servers):
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()


# ---------------------------------------------------------------------------------------------------
# Database login (checked at start and, cached for 2 s, on each health request)

class DbLogin:
    def __init__(self, params):
        self.params = {k: v for k, v in params.items() if v not in (None, "")}
        self.params.setdefault("port", "5432")
        self.lock = threading.Lock()
        self.cached_at = 0.0
        self.cached = None

    @classmethod
    def from_uri(cls, uri, name, require_url=False):
        if require_url and not re.match(r"^postgres(ql)?://", uri):
            raise ConfigError(f"{name} must be a postgres://user:password@host:port/db URL")
        try:
            params = psycopg2.extensions.parse_dsn(uri)
        except psycopg2.Error:
            raise ConfigError(f"{name} is not a valid PostgreSQL connection string") from None
        for part in ("host", "user"):
            if not params.get(part):
                raise ConfigError(f"{name} has no {part}")
        return cls(params)

    @property
    def label(self):
        return f'user "{self.params.get("user")}" at {self.params.get("host")}:{self.params["port"]}'

    def attempt(self):
        try:
            psycopg2.connect(connect_timeout=5, **self.params).close()
            return None
        except psycopg2.Error as exc:
            # libpq repeats the same failure for each SSL mode it tried: keep each line once.
            lines = re.split(r"(?=connection to server at )", " ".join(str(exc).split()))
            reason = " ".join(dict.fromkeys(line.strip() for line in lines if line.strip()))
            password = self.params.get("password")
            return reason.replace(password, "<redacted>") if password else reason

    def wait_at_start(self, env):
        try:
            timeout = int(env.get("DB_CONNECT_TIMEOUT") or 60)
        except ValueError:
            raise ConfigError("DB_CONNECT_TIMEOUT must be a number of seconds") from None
        deadline = time.monotonic() + timeout
        while True:
            reason = self.attempt()
            if reason is None:
                log(f"database login ok: {self.label}")
                return
            if time.monotonic() >= deadline:
                die(f"cannot log in to the database as {self.label} after {timeout}s: {reason}")
            time.sleep(1)

    def check(self):
        with self.lock:
            if time.monotonic() - self.cached_at > 2:
                self.cached = self.attempt()
                self.cached_at = time.monotonic()
            return self.cached


def db_unhealthy(db):
    reason = db.check()
    if reason is None:
        return None
    return json_response(503, {"error": "database login failed", "reason": f"{db.label}: {reason}"})


# ---------------------------------------------------------------------------------------------------
# JWT verification (HS256 secret, or a JWK / JWKS as the Supabase services accept)

JWK_DEFAULT_ALG = {("oct", None): "HS256", ("EC", "P-256"): "ES256", ("RSA", None): "RS256",
                   ("OKP", "Ed25519"): "EdDSA"}


class JwtVerifier:
    def __init__(self, secret, name, base64_secret=False):
        self.keys = []  # (kid, key, algorithm)
        text = secret.strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
                for jwk in data.get("keys", [data]):
                    algorithm = jwk.get("alg") or JWK_DEFAULT_ALG.get((jwk.get("kty"), jwk.get("crv")))
                    self.keys.append((jwk.get("kid"), jwt.PyJWK(jwk, algorithm).key, algorithm))
            except (ValueError, jwt.PyJWTError, AttributeError) as exc:
                raise ConfigError(f"{name} is neither a secret nor a valid JWK/JWKS: {exc}") from None
        else:
            key = base64.b64decode(secret) if base64_secret else secret
            if len(key) < 32:
                raise ConfigError(f"{name} must be at least 32 characters long")
            self.keys.append((None, key, "HS256"))

    def add(self, other):
        self.keys.extend(other.keys)

    def verify(self, token):
        """Return the claims, or raise jwt.PyJWTError."""
        kid = jwt.get_unverified_header(token).get("kid")
        error = jwt.InvalidSignatureError("Signature verification failed")
        for key_id, key, algorithm in self.keys:
            if kid and key_id and kid != key_id:
                continue
            try:
                return jwt.decode(token, key, algorithms=[algorithm], options={"verify_aud": False})
            except jwt.InvalidSignatureError as exc:
                error = exc
            except jwt.InvalidAlgorithmError as exc:
                error = exc
        raise error


# ---------------------------------------------------------------------------------------------------
# Services

class Service:
    name = ""
    db = None

    def __init__(self, env, args):
        self.env = env
        self.args = args

    def start(self):
        if self.db is not None:
            self.db.wait_at_start(self.env)

    def listeners(self):
        """[(host, port, route)]"""
        raise NotImplementedError


class AuthService(Service):
    """supabase/gotrue: /health and /settings; logs in with GOTRUE_DB_DATABASE_URL."""
    name = "auth"

    def __init__(self, env, args):
        super().__init__(env, args)
        self.port = env_port(env, ("GOTRUE_API_PORT", "PORT"), 9999)
        env_required(env, "GOTRUE_JWT_SECRET", min_len=32)
        if env.get("GOTRUE_DB_DRIVER", "postgres") != "postgres":
            raise ConfigError("GOTRUE_DB_DRIVER must be postgres")
        url_name = "GOTRUE_DB_DATABASE_URL" if env.get("GOTRUE_DB_DATABASE_URL") else "DATABASE_URL"
        if not env.get(url_name):
            raise ConfigError("GOTRUE_DB_DATABASE_URL is required")
        self.db = DbLogin.from_uri(env[url_name], url_name, require_url=True)
        env_url(env, "API_EXTERNAL_URL")
        env_url(env, "GOTRUE_SITE_URL")
        self.settings = {
            "external": {
                "email": env_bool(env, "GOTRUE_EXTERNAL_EMAIL_ENABLED", True),
                "phone": env_bool(env, "GOTRUE_EXTERNAL_PHONE_ENABLED", False),
                "anonymous_users": env_bool(env, "GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED", False),
            },
            "disable_signup": env_bool(env, "GOTRUE_DISABLE_SIGNUP", False),
            "mailer_autoconfirm": env_bool(env, "GOTRUE_MAILER_AUTOCONFIRM", False),
            "phone_autoconfirm": env_bool(env, "GOTRUE_SMS_AUTOCONFIRM", False),
            "sms_provider": env.get("GOTRUE_SMS_PROVIDER", ""),
        }

    def route(self, req):
        if req.is_read and req.path == "/health":
            return db_unhealthy(self.db) or json_response(200, {
                "version": "double", "name": "GoTrue",
                "description": "GoTrue is a user registration and authentication API (test double)"})
        if req.is_read and req.path == "/settings":
            return json_response(200, self.settings)
        return None

    def listeners(self):
        return [("", self.port, self.route)]


class RestService(Service):
    """postgrest: JWT check, OpenAPI stub on /, admin /ready and /live; logs in with PGRST_DB_URI."""
    name = "rest"

    def __init__(self, env, args):
        super().__init__(env, args)
        self.port = env_port(env, ("PGRST_SERVER_PORT",), 3000)
        self.admin_port = env_port(env, ("PGRST_ADMIN_SERVER_PORT",), None)
        self.db = DbLogin.from_uri(env_required(env, "PGRST_DB_URI"), "PGRST_DB_URI")
        self.verifier = JwtVerifier(env_required(env, "PGRST_JWT_SECRET"), "PGRST_JWT_SECRET",
                                    env_bool(env, "PGRST_JWT_SECRET_IS_BASE64", False))
        self.anon_role = env.get("PGRST_DB_ANON_ROLE", "")
        self.schemas = [s.strip() for s in env.get("PGRST_DB_SCHEMAS", "public").split(",") if s.strip()]

    def jwt_error(self, req):
        token = req.bearer()
        if token is None:
            if not self.anon_role:
                return json_response(401, {"code": "PGRST302", "details": None, "hint": None,
                                           "message": "Anonymous access is disabled"})
            return None
        try:
            self.verifier.verify(token)
        except jwt.ExpiredSignatureError:
            return json_response(401, {"code": "PGRST303", "details": None, "hint": None,
                                       "message": "JWT expired"})
        except jwt.PyJWTError as exc:
            kind = "JWSInvalidSignature" if isinstance(exc, jwt.InvalidSignatureError) else \
                f"CompactDecodeError {exc}"
            return json_response(401, {"code": "PGRST301", "details": None, "hint": None,
                                       "message": f"JWSError {kind}"},
                                 headers=[("WWW-Authenticate", 'Bearer error="invalid_token"')])
        return None

    def route(self, req):
        error = self.jwt_error(req)
        if error:
            return error
        if req.is_read and req.path == "/":
            reason = self.db.check()
            if reason:
                return json_response(503, {"code": "PGRST000", "details": reason, "hint": None,
                                           "message": "Database connection error"})
            return json_response(200, {
                "swagger": "2.0",
                "info": {"title": "PostgREST API (test double)", "version": "double",
                         "description": f"schemas: {', '.join(self.schemas)}"},
                "basePath": "/", "schemes": ["http"], "paths": {"/": {"get": {"tags": ["Introspection"]}}},
                "definitions": {}})
        return None

    def admin_route(self, req):
        if req.is_read and req.path in ("/ready", "/live"):
            reason = self.db.check()
            return text_response(503, reason) if reason else Response(200, b"", content_type=None)
        return json_response(404, {"message": "not found"})

    def listeners(self):
        listeners = [("", self.port, self.route)]
        if self.admin_port:
            listeners.append(("", self.admin_port, self.admin_route))
        return listeners


class RealtimeService(Service):
    """supabase/realtime: tenant health with an API_JWT_SECRET token, websocket on /socket/websocket."""
    name = "realtime"
    health_re = re.compile(r"^/api/tenants/([^/]+)/health/?$")

    def __init__(self, env, args):
        super().__init__(env, args)
        self.port = env_port(env, ("PORT",), 4000)
        self.db = DbLogin({"host": env_required(env, "DB_HOST"), "port": env.get("DB_PORT", "5432"),
                           "user": env_required(env, "DB_USER"), "password": env_required(env, "DB_PASSWORD"),
                           "dbname": env.get("DB_NAME") or "postgres"})
        parse_port(self.db.params["port"], "DB_PORT")
        self.verifier = JwtVerifier(env_required(env, "API_JWT_SECRET", min_len=32), "API_JWT_SECRET")
        if env.get("API_JWT_JWKS"):
            self.verifier.add(JwtVerifier(env["API_JWT_JWKS"], "API_JWT_JWKS"))
        env_required(env, "SECRET_KEY_BASE", min_len=64)

    def token_ok(self, token):
        try:
            self.verifier.verify(token or "")
            return True
        except jwt.PyJWTError:
            return False

    def route(self, req):
        match = self.health_re.match(req.path)
        if match and req.is_read:
            if not self.token_ok(req.bearer()):
                return json_response(403, {"message": "Forbidden"})
            if match.group(1) != "realtime-dev":
                return json_response(404, {"error": "tenant not found"})
            reason = self.db.check()
            return json_response(503 if reason else 200, {
                "healthy": reason is None, "db_connected": reason is None, "connected_cluster": 1,
                "region": "local", "node": socket.gethostname(), **({"reason": reason} if reason else {})})
        if req.path == "/socket/websocket":
            token = req.param("apikey") or req.headers.get("apikey") or req.bearer()
            if not self.token_ok(token):
                return json_response(403, {"message": "Forbidden"})
        return None

    def listeners(self):
        return [("", self.port, self.route)]


class StudioService(Service):
    """supabase/studio: GET /api/platform/profile."""
    name = "studio"

    def __init__(self, env, args):
        super().__init__(env, args)
        self.port = env_port(env, ("PORT",), 3000)

    def route(self, req):
        if req.is_read and req.path == "/api/platform/profile":
            return json_response(200, {"id": 1, "primary_email": "johndoe@supabase.io", "username": "johndoe",
                                       "first_name": "", "last_name": "", "free_project_limit": 10})
        return None

    def listeners(self):
        return [("", self.port, self.route)]


class MetaService(Service):
    """supabase/postgres-meta: GET /health; logs in with PG_META_DB_*."""
    name = "meta"

    def __init__(self, env, args):
        super().__init__(env, args)
        self.port = env_port(env, ("PG_META_PORT",), 8080)
        self.db = DbLogin({"host": env_required(env, "PG_META_DB_HOST"),
                           "port": env.get("PG_META_DB_PORT", "5432"),
                           "user": env_required(env, "PG_META_DB_USER"),
                           "password": env_required(env, "PG_META_DB_PASSWORD"),
                           "dbname": env.get("PG_META_DB_NAME") or "postgres"})
        parse_port(self.db.params["port"], "PG_META_DB_PORT")

    def route(self, req):
        if req.is_read and req.path == "/health":
            return db_unhealthy(self.db) or json_response(200, {"date": now_iso()})
        return None

    def listeners(self):
        return [("", self.port, self.route)]


class StorageService(Service):
    """supabase/storage-api, file backend: GET /status; other requests need a JWT signed with PGRST_JWT_SECRET
    and are echoed; logs in with DATABASE_URL."""
    name = "storage"

    def __init__(self, env, args):
        super().__init__(env, args)
        self.port = env_port(env, ("SERVER_PORT", "PORT"), 5000)
        self.db = DbLogin.from_uri(env_required(env, "DATABASE_URL"), "DATABASE_URL", require_url=True)
        secret_name = "AUTH_JWT_SECRET" if env.get("AUTH_JWT_SECRET") else "PGRST_JWT_SECRET"
        self.verifier = JwtVerifier(env_required(env, secret_name, min_len=32), secret_name)
        env_required(env, "ANON_KEY")
        env_required(env, "SERVICE_KEY")
        if env.get("STORAGE_BACKEND", "file") != "file":
            raise ConfigError("STORAGE_BACKEND: the double keeps files only (file)")
        self.root = env_required(env, "FILE_STORAGE_BACKEND_PATH")
        try:
            if int(env.get("FILE_SIZE_LIMIT", "52428800")) < 1:
                raise ValueError
        except ValueError:
            raise ConfigError("FILE_SIZE_LIMIT must be a positive number of bytes") from None

    def start(self):
        super().start()
        probe_file = os.path.join(self.root, ".storage-double-probe")
        try:
            os.makedirs(self.root, exist_ok=True)
            with open(probe_file, "w", encoding="utf-8") as handle:
                handle.write(now_iso())
            os.remove(probe_file)
        except OSError as exc:
            die(f"FILE_STORAGE_BACKEND_PATH {self.root} is not writable: {exc}")

    def route(self, req):
        if req.is_read and req.path == "/status":
            return db_unhealthy(self.db) or Response(200, b"", content_type=None)
        try:
            self.verifier.verify(req.bearer() or "")
        except jwt.PyJWTError:
            return json_response(400, {"statusCode": "403", "error": "Unauthorized", "message": "invalid signature"})
        return None

    def listeners(self):
        return [("", self.port, self.route)]


class ImgproxyService(Service):
    """darthsim/imgproxy: GET /health on IMGPROXY_BIND."""
    name = "imgproxy"

    def __init__(self, env, args):
        super().__init__(env, args)
        self.port = imgproxy_port(env)

    def route(self, req):
        if req.is_read and req.path == "/health":
            return text_response(200, "imgproxy is running")
        return None

    def listeners(self):
        return [("", self.port, self.route)]


def imgproxy_port(env):
    bind = env.get("IMGPROXY_BIND", ":8080")
    return parse_port(bind.rsplit(":", 1)[-1], "IMGPROXY_BIND")


# ---------------------------------------------------------------------------------------------------
# Gateway (Kong, DB-less): declarative config, plugins, reverse proxy

KONG_TOP_KEYS = {"_format_version", "_transform", "_comment", "_workspace", "services", "routes", "consumers",
                 "plugins", "acls", "keyauth_credentials", "basicauth_credentials", "upstreams", "targets",
                 "certificates", "ca_certificates", "snis", "vaults"}
KONG_IGNORED_TOP_KEYS = {"upstreams", "targets", "certificates",
                         "ca_certificates", "snis", "vaults"}
KONG_SERVICE_KEYS = {"name", "url", "protocol", "host", "port", "path", "routes", "plugins", "tags", "retries",
                     "connect_timeout", "read_timeout", "write_timeout", "enabled", "tls_verify"}
KONG_ROUTE_KEYS = {"name", "paths", "strip_path", "methods", "hosts", "protocols", "preserve_host", "plugins",
                   "tags", "regex_priority", "https_redirect_status_code", "path_handling",
                   "request_buffering", "response_buffering"}
KONG_PLUGIN_CONFIG_KEYS = {
    "key-auth": {"key_names", "hide_credentials", "anonymous", "key_in_header", "key_in_query", "key_in_body",
                 "run_on_preflight", "realm"},
    "basic-auth": {"anonymous", "hide_credentials", "realm"},
    "acl": {"allow", "deny", "hide_groups_header", "include_consumer_groups", "always_use_authenticated_groups"},
    "cors": {"origins", "methods", "headers", "exposed_headers", "credentials", "max_age", "preflight_continue",
             "private_network"},
    "request-transformer": None,  # accepted, not applied
    "response-transformer": None,
}
KONG_FORMAT_VERSIONS = ("1.1", "2.1", "3.0")
CORS_DEFAULT_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT"


def kong_check(condition, where, message):
    if not condition:
        raise ConfigError(f"in '{where}': {message}")


def kong_fields(obj, allowed, where):
    kong_check(isinstance(obj, dict), where, "expected a record")
    for key in obj:
        kong_check(key in allowed, f"{where}.{key}", "unknown field")


def kong_list(obj, key, where):
    value = obj.get(key, [])
    kong_check(isinstance(value, list), f"{where}.{key}", "expected an array")
    return value


def parse_kong_plugins(items, where):
    plugins = {}
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        kong_fields(item, {"name", "config", "enabled", "tags", "protocols", "service", "route", "consumer",
                           "instance_name", "ordering"}, here)
        name = item.get("name")
        kong_check(name in KONG_PLUGIN_CONFIG_KEYS, f"{here}.name",
                   f"plugin '{name}' not enabled; add it to the 'plugins' configuration property")
        config = item.get("config") or {}
        kong_check(isinstance(config, dict), f"{here}.config", "expected a record")
        allowed = KONG_PLUGIN_CONFIG_KEYS[name]
        if allowed is not None:
            for key in config:
                kong_check(key in allowed, f"{here}.config.{key}", "unknown field")
        if name == "acl":
            kong_check(config.get("allow") or config.get("deny"), f"{here}.config",
                       "at least one of these fields must be non-empty: 'config.allow', 'config.deny'")
        for key in ("allow", "deny", "key_names", "origins", "methods", "headers", "exposed_headers"):
            if key in config:
                kong_check(isinstance(config[key], list) and all(isinstance(v, str) for v in config[key]),
                           f"{here}.config.{key}", "expected an array of strings")
        if item.get("enabled", True):
            plugins[name] = config
    return plugins


def parse_kong_service(item, where):
    kong_fields(item, KONG_SERVICE_KEYS, where)
    kong_check(isinstance(item.get("name"), str) and item["name"], f"{where}.name", "required field missing")
    if item.get("url"):
        url = urllib.parse.urlsplit(str(item["url"]))
        scheme, host, port, path = url.scheme, url.hostname, url.port, url.path
    else:
        scheme, host = item.get("protocol", "http"), item.get("host")
        port, path = item.get("port"), item.get("path")
    kong_check(scheme in ("http", "https", "ws", "wss"), f"{where}.url", f"unsupported scheme {scheme!r}")
    kong_check(bool(host), f"{where}.url", "missing host")
    default_port = 443 if scheme in ("https", "wss") else 80
    return {"name": item["name"], "scheme": scheme, "host": host, "port": int(port or default_port),
            "path": path or "/", "plugins": parse_kong_plugins(kong_list(item, "plugins", where), f"{where}.plugins")}


def parse_kong_route(item, service, where):
    kong_fields(item, KONG_ROUTE_KEYS, where)
    paths = item.get("paths")
    kong_check(isinstance(paths, list) and paths and all(isinstance(p, str) for p in paths),
               f"{where}.paths", "expected a non-empty array of strings")
    for path in paths:
        kong_check(path.startswith(("/", "~")), f"{where}.paths", f"invalid path {path!r}: must start with /")
    strip_path = item.get("strip_path", True)
    kong_check(isinstance(strip_path, bool), f"{where}.strip_path", "expected a boolean")
    plugins = dict(service["plugins"])
    plugins.update(parse_kong_plugins(kong_list(item, "plugins", where), f"{where}.plugins"))
    return {"name": item.get("name", ""), "paths": paths, "strip_path": strip_path, "service": service,
            "methods": [m.upper() for m in item.get("methods") or []],
            "hosts": [h.lower() for h in item.get("hosts") or []], "plugins": plugins}


def parse_kong_consumers(doc):
    consumers, keys = {}, {}
    for i, item in enumerate(kong_list(doc, "consumers", "consumers")):
        where = f"consumers[{i}]"
        kong_fields(item, {"username", "custom_id", "tags", "keyauth_credentials", "basicauth_credentials",
                           "acls", "plugins", "id"}, where)
        name = item.get("username")
        kong_check(isinstance(name, str) and name, f"{where}.username", "required field missing")
        kong_check(name not in consumers, f"{where}.username", f"duplicate consumer {name!r}")
        consumers[name] = {"username": name, "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "consumer:" + name)),
                           "basic": {}, "groups": set()}
        for j, cred in enumerate(kong_list(item, "keyauth_credentials", where)):
            here = f"{where}.keyauth_credentials[{j}]"
            kong_fields(cred, {"key", "tags", "ttl", "id"}, here)
            add_kong_key(keys, cred.get("key"), name, here)
        for j, cred in enumerate(kong_list(item, "basicauth_credentials", where)):
            here = f"{where}.basicauth_credentials[{j}]"
            kong_fields(cred, {"username", "password", "tags", "id"}, here)
            kong_check(cred.get("username") and cred.get("password") is not None, here,
                       "username and password are required")
            consumers[name]["basic"][str(cred["username"])] = str(cred["password"])
        for j, acl in enumerate(kong_list(item, "acls", where)):
            kong_fields(acl, {"group", "tags", "id"}, f"{where}.acls[{j}]")
            consumers[name]["groups"].add(str(acl.get("group")))
    for i, cred in enumerate(kong_list(doc, "keyauth_credentials", "keyauth_credentials")):
        here = f"keyauth_credentials[{i}]"
        kong_fields(cred, {"consumer", "key", "tags", "ttl", "id"}, here)
        kong_check(cred.get("consumer") in consumers, f"{here}.consumer", "consumer does not exist")
        add_kong_key(keys, cred.get("key"), cred["consumer"], here)
    for i, cred in enumerate(kong_list(doc, "basicauth_credentials", "basicauth_credentials")):
        here = f"basicauth_credentials[{i}]"
        kong_fields(cred, {"consumer", "username", "password", "tags", "id"}, here)
        kong_check(cred.get("consumer") in consumers, f"{here}.consumer", "consumer does not exist")
        consumers[cred["consumer"]]["basic"][str(cred.get("username"))] = str(cred.get("password"))
    for i, acl in enumerate(kong_list(doc, "acls", "acls")):
        here = f"acls[{i}]"
        kong_fields(acl, {"consumer", "group", "tags", "id"}, here)
        kong_check(acl.get("consumer") in consumers, f"{here}.consumer",
                   f"consumer {acl.get('consumer')!r} does not exist")
        kong_check(isinstance(acl.get("group"), str) and acl["group"], f"{here}.group", "required field missing")
        consumers[acl["consumer"]]["groups"].add(acl["group"])
    return consumers, keys


def add_kong_key(keys, key, consumer, where):
    kong_check(isinstance(key, str) and key, f"{where}.key", "required field missing")
    kong_check(key not in keys, f"{where}.key", "duplicate key (UNIQUE violation)")
    keys[key] = consumer


def load_kong_config(path):
    try:
        with open(path, encoding="utf-8") as stream:
            doc = yaml.safe_load(stream)
    except OSError as exc:
        raise ConfigError(f"cannot read declarative config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"declarative config {path} is not valid YAML: {exc}") from None
    kong_check(isinstance(doc, dict), "(root)", "expected a record")
    for key in doc:
        kong_check(key in KONG_TOP_KEYS, key, "unknown field")
    version = doc.get("_format_version")
    kong_check(version is not None, "_format_version", "required field missing")
    kong_check(isinstance(version, str), "_format_version", "expected a string (quote the version)")
    kong_check(version in KONG_FORMAT_VERSIONS, "_format_version", f"unsupported version {version!r}")
    kong_check(not doc.get("routes"), "routes", "top-level routes are not supported by this double")
    global_plugins = parse_kong_plugins(kong_list(doc, "plugins", "plugins"), "plugins")
    routes, names = [], set()
    for i, item in enumerate(kong_list(doc, "services", "services")):
        where = f"services[{i}]"
        service = parse_kong_service(item, where)
        kong_check(service["name"] not in names, f"{where}.name", f"duplicate service {service['name']!r}")
        names.add(service["name"])
        service["plugins"] = {**global_plugins, **service["plugins"]}
        for j, route in enumerate(kong_list(item, "routes", where)):
            routes.append(parse_kong_route(route, service, f"{where}.routes[{j}]"))
    consumers, keys = parse_kong_consumers(doc)
    ignored = sorted(k for k in doc if k in KONG_IGNORED_TOP_KEYS and doc[k])
    return {"routes": routes, "consumers": consumers, "keys": keys, "ignored": ignored}


class GatewayService(Service):
    """kong (DB-less): routes, key-auth / basic-auth / acl / cors, reverse proxy and websocket tunnel."""
    name = "gateway"
    proxy_port = 8000
    status_port = 8100

    def __init__(self, env, args):
        super().__init__(env, args)
        if env.get("KONG_DATABASE", "off") != "off":
            raise ConfigError("KONG_DATABASE must be off (only DB-less mode is reproduced)")
        path = env_required(env, "KONG_DECLARATIVE_CONFIG")
        self.config = load_kong_config(path)
        with open(path, "rb") as stream:
            self.config_hash = hashlib.md5(stream.read()).hexdigest()
        self.stats = {"accepted": 0, "lock": threading.Lock()}
        for key in self.config["ignored"]:
            log(f"declarative config: '{key}' accepted but not reproduced")
        log(f"declarative config {path}: {len(self.config['routes'])} routes, "
            f"{len(self.config['consumers'])} consumers")

    # -- routing
    def match_route(self, req):
        host = (req.headers.get("Host") or "").split(":")[0].lower()
        best, best_len = None, -1
        for route in self.config["routes"]:
            if route["methods"] and req.method not in route["methods"]:
                continue
            if route["hosts"] and host not in route["hosts"]:
                continue
            for path in route["paths"]:
                if path.startswith("~"):
                    match = re.match(path[1:], req.path)
                    if match and best_len < 10 ** 6:  # Kong tries regex paths first
                        best, best_len = (route, match.group(0)), 10 ** 6
                elif req.path.startswith(path) and len(path) > best_len:
                    best, best_len = (route, path), len(path)
        return best

    @staticmethod
    def upstream_path(route, prefix, req):
        base = route["service"]["path"]
        if route["strip_path"]:
            rest = req.path[len(prefix):]
            path = base if not rest else base.rstrip("/") + "/" + rest.lstrip("/")
        else:
            path = req.path if base == "/" else base.rstrip("/") + req.path
        return path + (f"?{req.query}" if req.query else "")

    # -- plugins
    def cors_preflight(self, config, req):
        if not (req.method == "OPTIONS" and req.headers.get("Access-Control-Request-Method")):
            return None
        headers = self.cors_headers(config, req)
        headers.append(("Access-Control-Allow-Methods", ",".join(config.get("methods") or [])
                        or CORS_DEFAULT_METHODS))
        allow_headers = ",".join(config.get("headers") or []) or \
            req.headers.get("Access-Control-Request-Headers", "")
        if allow_headers:
            headers.append(("Access-Control-Allow-Headers", allow_headers))
        if config.get("max_age"):
            headers.append(("Access-Control-Max-Age", str(config["max_age"])))
        response = Response(200, b"", content_type=None, headers=headers)
        response.preflight = True
        return response

    @staticmethod
    def cors_headers(config, req):
        origins = config.get("origins") or ["*"]
        origin = req.headers.get("Origin", "")
        if "*" in origins:
            allow = origin if config.get("credentials") and origin else "*"
        else:
            allow = origin if origin in origins else origins[0]
        headers = [("Access-Control-Allow-Origin", allow), ("Vary", "Origin")]
        if config.get("credentials"):
            headers.append(("Access-Control-Allow-Credentials", "true"))
        if config.get("exposed_headers"):
            headers.append(("Access-Control-Expose-Headers", ",".join(config["exposed_headers"])))
        return headers

    def key_auth(self, config, req, drop):
        names = config.get("key_names") or ["apikey"]
        for name in names:
            key = req.headers.get(name) if config.get("key_in_header", True) else None
            if key is None and config.get("key_in_query", True):
                key = req.param(name)
            if key is None:
                continue
            if config.get("hide_credentials"):
                drop.append(name)
            consumer = self.config["keys"].get(key)
            if consumer is None:
                return self.anonymous(config, json_response(
                    401, {"message": "Invalid authentication credentials"},
                    headers=[("WWW-Authenticate", 'Key realm="kong"')]))
            return self.config["consumers"][consumer]
        return self.anonymous(config, json_response(
            401, {"message": "No API key found in request"}, headers=[("WWW-Authenticate", 'Key realm="kong"')]))

    def basic_auth(self, config, req, drop):
        value = req.headers.get("Authorization") or req.headers.get("Proxy-Authorization") or ""
        challenge = [("WWW-Authenticate", 'Basic realm="kong"')]
        if not value.lower().startswith("basic "):
            return self.anonymous(config, json_response(401, {"message": "Unauthorized"}, headers=challenge))
        try:
            username, _sep, password = base64.b64decode(value[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            username, password = None, None
        if config.get("hide_credentials"):
            drop.extend(["Authorization", "Proxy-Authorization"])
        for consumer in self.config["consumers"].values():
            if username in consumer["basic"] and consumer["basic"][username] == password:
                return consumer
        return self.anonymous(config, json_response(
            401, {"message": "Invalid authentication credentials"}, headers=challenge))

    def anonymous(self, config, failure):
        name = config.get("anonymous")
        for consumer in self.config["consumers"].values():
            if name and name in (consumer["username"], consumer["id"]):
                return dict(consumer, anonymous=True)
        return failure

    @staticmethod
    def acl(config, consumer):
        if consumer is None:
            return json_response(401, {"message": "Unauthorized"})
        groups = consumer["groups"]
        if (config.get("allow") and not groups & set(config["allow"])) or \
                (config.get("deny") and groups & set(config["deny"])):
            return json_response(403, {"message": "You cannot consume this service"})
        return None

    def run_plugins(self, plugins, req):
        """Return (error Response or None, consumer, header names to drop)."""
        if "cors" in plugins:
            preflight = self.cors_preflight(plugins["cors"], req)
            if preflight:
                return preflight, None, []
        consumer, drop = None, []
        for name, check in (("key-auth", self.key_auth), ("basic-auth", self.basic_auth)):
            if name in plugins:
                result = check(plugins[name], req, drop)
                if isinstance(result, Response):
                    return result, None, drop
                consumer = result
        if "acl" in plugins:
            error = self.acl(plugins["acl"], consumer)
            if error:
                return error, consumer, drop
        return None, consumer, drop

    # -- proxying
    def upstream_headers(self, req, route, consumer, drop):
        dropped = {name.lower() for name in drop} | HOP_BY_HOP | {"host", "content-length"}
        headers = [(k, v) for k, v in req.headers.items() if k.lower() not in dropped]
        service = route["service"]
        host = req.headers.get("Host", "")
        forwarded_for = req.headers.get("X-Forwarded-For")
        headers += [("Host", f"{service['host']}:{service['port']}"),
                    ("X-Forwarded-For", f"{forwarded_for}, {req.client}" if forwarded_for else req.client),
                    ("X-Forwarded-Proto", req.headers.get("X-Forwarded-Proto", "http")),
                    ("X-Forwarded-Host", host.split(":")[0]),
                    ("X-Forwarded-Port", host.split(":")[1] if ":" in host else str(self.proxy_port)),
                    ("X-Real-IP", req.client)]
        headers = [(k, v) for k, v in headers if not k.lower().startswith("x-consumer-")]
        if consumer:
            headers += [("X-Consumer-ID", consumer["id"]), ("X-Consumer-Username", consumer["username"])]
            if consumer.get("anonymous"):
                headers.append(("X-Anonymous-Consumer", "true"))
            elif consumer["groups"] and not route["plugins"].get("acl", {}).get("hide_groups_header"):
                headers.append(("X-Consumer-Groups", ", ".join(sorted(consumer["groups"]))))
        return headers

    def proxy(self, req, route, path, headers):
        service = route["service"]
        if service["scheme"] not in ("http", "ws"):
            log(f"upstream {service['name']}: scheme {service['scheme']} is not reproduced")
            return json_response(502, {"message": "An invalid response was received from the upstream server"})
        if req.body or req.method in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(req.body))))
        conn = http.client.HTTPConnection(service["host"], service["port"], timeout=60)
        started = time.monotonic()
        try:
            conn.putrequest(req.method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(req.body or None)
            upstream = conn.getresponse()
            body = upstream.read()
        except TimeoutError:
            return json_response(504, {"message": "The upstream server is timed out"})
        except (OSError, http.client.HTTPException) as exc:
            log(f"upstream {service['name']} ({service['host']}:{service['port']}) failed: {exc}")
            return json_response(502, {"message": "An invalid response was received from the upstream server"})
        finally:
            conn.close()
        skip = HOP_BY_HOP | {"content-length", "date", "server"}
        out = [(k, v) for k, v in upstream.getheaders() if k.lower() not in skip]
        out += [("X-Kong-Upstream-Latency", str(int((time.monotonic() - started) * 1000))),
                ("Via", "1.1 kong/double")]
        return Response(upstream.status, body, content_type=None, headers=out)

    def tunnel(self, req, route, path, headers):
        """Forward a websocket upgrade, then copy raw bytes both ways until either side closes."""
        service = route["service"]
        try:
            upstream = socket.create_connection((service["host"], service["port"]), timeout=10)
        except OSError as exc:
            log(f"upstream {service['name']} ({service['host']}:{service['port']}) failed: {exc}")
            return json_response(502, {"message": "An invalid response was received from the upstream server"})
        headers += [("Connection", "Upgrade"), ("Upgrade", req.headers.get("Upgrade", "websocket"))]
        head = f"{req.method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        upstream.sendall(head.encode("latin-1"))
        upstream.settimeout(None)
        handler = req.handler
        handler.close_connection = True

        def client_to_upstream():
            try:
                while True:
                    data = handler.rfile.read1(65536)
                    if not data:
                        break
                    upstream.sendall(data)
            except OSError:
                pass
            try:
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        threading.Thread(target=client_to_upstream, daemon=True).start()
        first = True
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                if first:
                    status = data.split(b"\r\n", 1)[0].decode("latin-1", "replace")
                    log(f'{req.client} "{req.method} {redact(handler.path)}" tunnel -> {service["name"]}: {status}')
                    first = False
                handler.connection.sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
        return HANDLED

    def route(self, req):
        with self.stats["lock"]:
            self.stats["accepted"] += 1
        matched = self.match_route(req)
        if matched is None:
            return json_response(404, {"message": "no Route matched with those values"})
        route, prefix = matched
        response = self.forward(req, route, prefix)
        cors = route["plugins"].get("cors")
        # Like Kong, CORS headers go on every answer of the route, plugin refusals included.
        if cors is not None and response is not HANDLED and not getattr(response, "preflight", False):
            response.headers = [h for h in response.headers if not h[0].lower().startswith("access-control-")]
            response.headers += self.cors_headers(cors, req)
        return response

    def forward(self, req, route, prefix):
        error, consumer, drop = self.run_plugins(route["plugins"], req)
        if error:
            return error
        path = self.upstream_path(route, prefix, req)
        headers = self.upstream_headers(req, route, consumer, drop)
        if req.is_websocket:
            return self.tunnel(req, route, path, headers)
        return self.proxy(req, route, path, headers)

    def status_route(self, req):
        if req.is_read and req.path in ("/status", "/status/"):
            accepted = self.stats["accepted"]
            return json_response(200, {
                "database": {"reachable": True}, "configuration_hash": self.config_hash,
                "server": {"connections_accepted": accepted, "connections_handled": accepted,
                           "connections_active": threading.active_count() - 1, "connections_reading": 0,
                           "connections_writing": 1, "connections_waiting": 0, "total_requests": accepted},
                "memory": {"workers_lua_vms": [], "lua_shared_dicts": {}}})
        if req.is_read and req.path == "/status/ready":
            return json_response(200, {"message": "ready"})
        return json_response(404, {"message": "Not found"})

    def listeners(self):
        return [("", self.proxy_port, self.route), ("", self.status_port, self.status_route)]


# ---------------------------------------------------------------------------------------------------
# LiveKit: strict config, keys, Redis, token checks, RTC/TURN listeners

INT, BOOL, STR, LIST, MAP, ANY, PORTS = "int", "bool", "str", "list", "map", "any", "ports"
LIVEKIT_SCHEMA = {
    "port": INT, "bind_addresses": LIST, "log_level": STR, "development": BOOL, "region": STR,
    "key_file": STR, "keys": MAP, "prometheus_port": INT,
    "rtc": {"tcp_port": INT, "port_range_start": INT, "port_range_end": INT, "udp_port": PORTS,
            "use_external_ip": BOOL, "node_ip": STR, "stun_servers": LIST, "turn_servers": LIST,
            "enable_loopback_candidate": BOOL, "use_ice_lite": BOOL, "packet_buffer_size": INT,
            "congestion_control": ANY, "allow_tcp_fallback": BOOL, "interfaces": ANY, "ips": ANY,
            "use_mdns": BOOL},
    "redis": {"address": STR, "username": STR, "password": STR, "db": INT, "use_tls": BOOL,
              "sentinel_master_name": STR, "sentinel_username": STR, "sentinel_password": STR,
              "sentinel_addresses": LIST, "cluster_addresses": LIST},
    "turn": {"enabled": BOOL, "domain": STR, "tls_port": INT, "udp_port": INT, "external_tls": BOOL,
             "cert_file": STR, "key_file": STR, "relay_range_start": INT, "relay_range_end": INT},
    "room": {"empty_timeout": INT, "departure_timeout": INT, "max_participants": INT, "auto_create": BOOL,
             "enabled_codecs": LIST, "max_metadata_size": INT, "playout_delay": ANY, "sync_streams": BOOL,
             "enable_remote_unmute": BOOL},
    "webhook": {"api_key": STR, "urls": LIST},
    "logging": {"level": STR, "json": BOOL, "pion_level": STR, "sample": BOOL, "component_levels": ANY},
    "prometheus": {"port": INT},
    "node_selector": {"kind": STR, "sort_by": STR, "regions": LIST, "cpu_load_limit": ANY,
                      "sysload_limit": ANY},
    "limit": {"num_tracks": INT, "bytes_per_sec": INT, "subscription_limit_video": INT,
              "subscription_limit_audio": INT},
}


def validate_livekit(node, schema, prefix=""):
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            raise ConfigError(f'unknown configuration key "{dotted}"')
        kind = schema[key]
        if value is None:
            continue
        if isinstance(kind, dict):
            if not isinstance(value, dict):
                raise ConfigError(f'configuration key "{dotted}" must be a mapping')
            validate_livekit(value, kind, dotted + ".")
        elif not livekit_type_ok(kind, value):
            raise ConfigError(f'configuration key "{dotted}" has an invalid value {value!r} (expected {kind})')


def livekit_type_ok(kind, value):
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == STR:
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    if kind == LIST:
        return isinstance(value, list)
    if kind == MAP:
        return isinstance(value, dict) and all(isinstance(v, (str, int)) for v in value.values())
    if kind == PORTS:
        return (isinstance(value, int) and not isinstance(value, bool)) or \
            bool(re.fullmatch(r"\d+(-\d+)?", str(value)))
    return True


def parse_livekit_args(args, env):
    """Flags of livekit-server that matter here; anything else is refused like the real CLI."""
    options = {"config": env.get("LIVEKIT_CONFIG_FILE"), "config_body": env.get("LIVEKIT_CONFIG"),
               "keys": env.get("LIVEKIT_KEYS"), "key_file": None, "bind": None, "node_ip": env.get("NODE_IP")}
    i = 0
    while i < len(args):
        arg = args[i]
        name, has_value, value = arg.lstrip("-").partition("=")
        key = name.replace("-", "_")
        if not arg.startswith("-") or key not in options:
            raise ConfigError(f"flag provided but not defined: {arg}")
        if not has_value:
            i += 1
            if i >= len(args):
                raise ConfigError(f"flag needs an argument: {arg}")
            value = args[i]
        options[key] = value
        i += 1
    return options


def load_livekit_yaml(options):
    if options["config"]:
        try:
            with open(options["config"], encoding="utf-8") as stream:
                text = stream.read()
        except OSError as exc:
            raise ConfigError(f"could not read config file {options['config']}: {exc.strerror}") from None
    else:
        text = options["config_body"] or ""
    try:
        conf = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"could not parse config: {exc}") from None
    if not isinstance(conf, dict):
        raise ConfigError("could not parse config: the top level must be a mapping")
    validate_livekit(conf, LIVEKIT_SCHEMA)
    if options["key_file"]:
        conf["key_file"] = options["key_file"]
    return conf


def load_livekit_keys(conf, options):
    keys = {str(k): str(v) for k, v in (conf.get("keys") or {}).items()}
    if options["keys"]:
        try:
            extra = yaml.safe_load(options["keys"])
        except yaml.YAMLError:
            extra = None
        if not isinstance(extra, dict):
            raise ConfigError('keys must be given as "key: secret"')
        keys.update({str(k): str(v) for k, v in extra.items()})
    key_file = conf.get("key_file")
    if key_file:
        try:
            mode = os.stat(key_file).st_mode
        except OSError as exc:
            raise ConfigError(f"could not read key file {key_file}: {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError("key file others permissions must be set to 0")
        try:
            with open(key_file, encoding="utf-8") as stream:
                data = yaml.safe_load(stream) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"could not read key file {key_file}: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"key file {key_file} must hold a map of api key to secret")
        keys.update({str(k): str(v) for k, v in data.items()})
    if not keys:
        raise ConfigError("one of key-file or keys must be provided in order to support a secure installation")
    return keys


def split_host_port(address, default_port):
    host, _sep, port = str(address).rpartition(":") if ":" in str(address) else (str(address), "", "")
    return host.strip("[]"), int(port) if port else default_port


class LiveKitService(Service):
    """livekit-server: / readiness, /rtc/validate, /rtc websocket, /twirp API, RTC/TURN listeners."""
    name = "livekit"

    def __init__(self, env, args):
        super().__init__(env, args)
        options = parse_livekit_args(args, env)
        conf = load_livekit_yaml(options)
        self.keys = load_livekit_keys(conf, options)
        self.port = parse_port(conf.get("port") or 7880, "port")
        binds = options["bind"].split(",") if options["bind"] else (conf.get("bind_addresses") or [""])
        self.bind_addresses = [str(b) for b in binds]
        rtc = conf.get("rtc") or {}
        self.tcp_port = rtc.get("tcp_port", 7881)
        self.udp_ports = self.rtc_udp_ports(rtc)
        turn = conf.get("turn") or {}
        self.turn_udp = (turn.get("udp_port") or 3478) if turn.get("enabled") else None
        self.turn_tls = None
        if turn.get("enabled") and turn.get("tls_port") and not turn.get("external_tls"):
            # As the real server: TURN/TLS needs its certificate and key at start.
            self.turn_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            try:
                self.turn_tls.load_cert_chain(turn.get("cert_file") or "", turn.get("key_file") or "")
            except (OSError, ssl.SSLError) as exc:
                die(f"could not load TURN TLS certificate: {exc}")
            self.turn_tls_port = parse_port(turn["tls_port"], "turn.tls_port")
        self.redis_conf = conf.get("redis") or {}
        self.redis = None
        self.redis_lock = threading.Lock()

    @staticmethod
    def rtc_udp_ports(rtc):
        if rtc.get("udp_port"):
            low, _sep, high = str(rtc["udp_port"]).partition("-")
            return range(int(low), int(high or low) + 1)
        if rtc.get("port_range_start") and rtc.get("port_range_end"):
            if rtc["port_range_end"] < rtc["port_range_start"]:
                raise ConfigError("rtc.port_range_end must not be below rtc.port_range_start")
            return range(rtc["port_range_start"], rtc["port_range_end"] + 1)
        return range(0)  # the real server then picks ephemeral ports per peer: nothing to publish

    # -- redis
    def redis_client(self):
        conf = self.redis_conf
        common = {"username": conf.get("username") or None, "password": conf.get("password") or None,
                  "db": conf.get("db") or 0, "ssl": bool(conf.get("use_tls")), "socket_timeout": 2,
                  "socket_connect_timeout": 2}
        if conf.get("sentinel_addresses"):
            sentinels = [split_host_port(a, 26379) for a in conf["sentinel_addresses"]]
            sentinel = redis.sentinel.Sentinel(sentinels, sentinel_kwargs={
                "username": conf.get("sentinel_username") or None,
                "password": conf.get("sentinel_password") or None, "socket_timeout": 2})
            return sentinel.master_for(conf.get("sentinel_master_name") or "mymaster", **common)
        address = conf.get("address") or (conf.get("cluster_addresses") or [None])[0]
        host, port = split_host_port(address, 6379)
        return redis.Redis(host=host, port=port, **common)

    def redis_target(self):
        conf = self.redis_conf
        return conf.get("address") or ",".join(conf.get("sentinel_addresses") or conf.get("cluster_addresses") or [])

    def redis_error(self):
        try:
            with self.redis_lock:
                self.redis.ping()
            return None
        except redis.RedisError as exc:
            return str(exc).replace(self.redis_conf.get("password") or "\0", "<redacted>")

    def start(self):
        for key, secret in self.keys.items():
            if len(secret) < 32:
                log(f'ERROR secret is too short, should be at least 32 characters for security (apiKey "{key}")')
        if not self.redis_target():
            log("no redis configured: single-node mode")
            return
        self.redis = self.redis_client()
        deadline = time.monotonic() + 10
        while True:
            reason = self.redis_error()
            if reason is None:
                log(f"connected to redis at {self.redis_target()} (distributed mode)")
                return
            if time.monotonic() >= deadline:
                die(f"unable to connect to redis at {self.redis_target()}: {reason}")
            time.sleep(1)

    # -- tokens
    def token_error(self, token, need_join=False):
        """None when the access token is valid, else the reason."""
        if not token:
            return "no access token"
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            secret = self.keys.get(claims.get("iss"))
            if secret is None:
                return "invalid API key"
            claims = jwt.decode(token, secret, algorithms=["HS256"],
                                options={"require": ["exp"], "verify_aud": False})
        except jwt.PyJWTError as exc:
            return f"invalid token: {exc}"
        if need_join and not (claims.get("video") or {}).get("roomJoin"):
            return "permission denied: token has no roomJoin grant"
        return None

    def route(self, req):
        path = req.path.rstrip("/") or "/"
        if req.is_read and path == "/":
            if self.redis is not None and self.redis_error() is not None:
                return text_response(406, "Not Ready")
            return text_response(200, "OK")
        if path in ("/rtc", "/rtc/validate"):
            error = self.token_error(req.param("access_token") or req.bearer(), need_join=True)
            if error:
                return text_response(401, error)
            if path == "/rtc/validate":
                return text_response(200, "success")
            return websocket_echo(req) if req.is_websocket else text_response(400, "websocket upgrade required")
        if path.startswith("/twirp/"):
            error = self.token_error(req.bearer())
            if error:
                return json_response(401, {"code": "unauthenticated", "msg": error})
            return echo_response(self.name, req)
        return None

    # -- RTC/TURN sockets: real listeners so published ports answer
    def open_rtc_sockets(self):
        selector = selectors.DefaultSelector()
        opened = []
        if self.tcp_port:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("0.0.0.0", self.tcp_port))
            sock.listen(16)
            selector.register(sock, selectors.EVENT_READ, "tcp")
            opened.append(f"rtc tcp {self.tcp_port}")
        udp = list(self.udp_ports) + ([self.turn_udp] if self.turn_udp else [])
        for port in udp:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("0.0.0.0", port))
            selector.register(sock, selectors.EVENT_READ, "udp")
        if self.udp_ports:
            opened.append(f"rtc udp {self.udp_ports[0]}-{self.udp_ports[-1]}")
        if self.turn_udp:
            opened.append(f"turn udp {self.turn_udp}")
        if self.turn_tls:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("0.0.0.0", self.turn_tls_port))
            sock.listen(16)
            threading.Thread(target=self.serve_turn_tls, args=(sock,), daemon=True).start()
            opened.append(f"turn tls {self.turn_tls_port}")
        threading.Thread(target=self.drain, args=(selector,), daemon=True).start()
        return opened

    def serve_turn_tls(self, sock):
        while True:
            conn, address = sock.accept()
            threading.Thread(target=self.answer_stun_binding, args=(conn, address), daemon=True).start()

    def answer_stun_binding(self, conn, address):
        """TURN over TLS as far as a client's first step: a STUN Binding request gets the client's address
        (RFC 8489 XOR-MAPPED-ADDRESS); anything else closes the connection."""
        cookie = 0x2112A442
        try:
            with self.turn_tls.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(10)
                header = read_exact_socket(tls, 20)
                kind, length, magic = struct.unpack("!HHI", header[:8])
                read_exact_socket(tls, length)
                if kind != 0x0001 or magic != cookie:
                    return
                ip = struct.unpack("!I", socket.inet_aton(address[0]))[0] ^ cookie
                value = struct.pack("!BBHI", 0, 1, address[1] ^ (cookie >> 16), ip)
                body = struct.pack("!HH", 0x0020, len(value)) + value
                tls.sendall(struct.pack("!HHI", 0x0101, len(body), cookie) + header[8:20] + body)
        except (OSError, ssl.SSLError, ConnectionError):
            pass

    @staticmethod
    def drain(selector):
        while True:
            for key, _events in selector.select():
                try:
                    if key.data == "tcp":
                        conn, _addr = key.fileobj.accept()
                        conn.close()
                    else:
                        key.fileobj.recvfrom(65536)
                except OSError:
                    pass

    def listeners(self):
        try:
            opened = self.open_rtc_sockets()
        except OSError as exc:
            die(f"could not bind RTC/TURN ports: {exc}")
        log("listening: " + ", ".join([f"http {self.port} on {','.join(a or '*' for a in self.bind_addresses)}"]
                                      + opened))
        return [(address, self.port, self.route) for address in self.bind_addresses]


SERVICES = {cls.name: cls for cls in (AuthService, RestService, RealtimeService, StudioService, MetaService,
                                      StorageService, ImgproxyService, GatewayService, LiveKitService)}


# ---------------------------------------------------------------------------------------------------
# Entry points

def probe(url):
    """Health probe for the `kong health` / `postgrest --ready` shims: exit 0 when the URL answers 2xx."""
    try:
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        conn.request("GET", parts.path)
        status = conn.getresponse().status
    except OSError as exc:
        print(f"not healthy: {exc}", file=sys.stderr)
        return 1
    return 0 if 200 <= status < 300 else 1


def shim(program, args):
    if program == "kong" and args[:1] == ["health"]:
        code = probe(f"http://127.0.0.1:{GatewayService.status_port}/status")
        print("Kong is healthy" if code == 0 else "Kong is not running")
        return code
    if program == "kong" and args[:1] in (["docker-start"], ["start"]):
        return None
    if program == "imgproxy" and args[:1] == ["health"]:
        return probe(f"http://127.0.0.1:{imgproxy_port(os.environ)}/health")
    if program == "postgrest" and args[:1] == ["--ready"]:
        port = os.environ.get("PGRST_ADMIN_SERVER_PORT")
        if not port:
            print("PGRST_ADMIN_SERVER_PORT is not set", file=sys.stderr)
            return 1
        return probe(f"http://127.0.0.1:{port}/ready")
    return None


def pick_service(argv):
    program = os.path.basename(argv[0])
    args = argv[1:]
    if program in ("kong", "postgrest", "imgproxy"):
        code = shim(program, args)
        if code is not None:
            sys.exit(code)
        return {"kong": "gateway", "postgrest": "rest", "imgproxy": "imgproxy"}[program], []
    if args and args[0] in SERVICE_NAMES:
        return args[0], args[1:]
    name = os.environ.get("DOUBLE_SERVICE", "")
    if name not in SERVICE_NAMES:
        print(f"service-double: choose a service with DOUBLE_SERVICE or the first argument: "
              f"{', '.join(SERVICE_NAMES)} (got {name or 'nothing'!r})", file=sys.stderr)
        sys.exit(1)
    return name, args


def main(argv):
    global SERVICE_LABEL
    name, args = pick_service(argv)
    SERVICE_LABEL = f"service-double[{name}]"
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # PID 1 ignores SIGTERM unless handled
    try:
        service = SERVICES[name](dict(os.environ), args)
        service.start()
        listeners = service.listeners()
    except ConfigError as exc:
        die(f"configuration error: {exc}")
    servers = []
    for host, port, route in listeners:
        try:
            servers.append(make_server(host, port, route, name))
        except OSError as exc:
            die(f"cannot listen on {host or '*'}:{port}: {exc}")
        log(f"listening on {host or '*'}:{port} (test double of {name})")
    serve(servers)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except KeyboardInterrupt:
        sys.exit(0)
