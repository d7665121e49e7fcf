# -*- coding: utf-8 -*-
# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Supabase JWT material: the shared HS256 secret, the anon / service_role API keys and,
optionally, an EC P-256 signing key published as a JWK.

Private to this collection; the interface may change without notice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.plusptt.deploy.plugins.module_utils import _secret_file
from ansible_collections.plusptt.deploy.plugins.module_utils._module_error import ModuleError

try:
    import jwt
    from jwt.algorithms import ECAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    HAS_CRYPTO_LIBS = True
    CRYPTO_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the environment
    HAS_CRYPTO_LIBS = False
    CRYPTO_IMPORT_ERROR = exc

ROLES = ("anon", "service_role")
MIN_SECRET_LENGTH = 32
GENERATED_SECRET_BYTES = 48  # 64 URL-safe characters
FORMAT_VERSION = 1


class JWTMaterialError(Exception):
    """Input or persisted material that must not be used."""


def generate_secret():
    """A new HS256 secret from the OS CSPRNG (64 URL-safe characters)."""
    return secrets.token_urlsafe(GENERATED_SECRET_BYTES)


def check_secret(secret, name="jwt_secret"):
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        raise JWTMaterialError(
            "%s must be a string of at least %d characters (got %d); generate one with "
            "'openssl rand -base64 48' or leave it unset to have one generated"
            % (name, MIN_SECRET_LENGTH, len(secret) if isinstance(secret, str) else 0)
        )


def claims(role, issuer, issued_at, expires_at):
    return {"role": role, "iss": issuer, "iat": int(issued_at), "exp": int(expires_at)}


def sign_hs256(role, secret, issuer, issued_at, expires_at):
    # HS256 signatures are deterministic: same inputs, same token.
    return jwt.encode(claims(role, issuer, issued_at, expires_at), secret, algorithm="HS256")


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate_ec_private_pem():
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")


def load_ec_private_key(pem):
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, AttributeError) as exc:
        raise JWTMaterialError("the stored EC private key cannot be loaded: %s" % exc) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise JWTMaterialError("the stored asymmetric key is not an EC P-256 private key")
    return key


def jwk_thumbprint(public_jwk):
    """RFC 7638 thumbprint of an EC public JWK: a stable, content-derived key id."""
    members = {name: public_jwk[name] for name in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return _b64url(digest.digest())


def ec_jwks(private_pem, secret):
    """Return (kid, private_jwk, public_jwk, oct_jwk) for an EC P-256 key and the HS256 secret."""
    key = load_ec_private_key(private_pem)
    private_jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    public_jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    kid = jwk_thumbprint(public_jwk)
    common = {"kid": kid, "alg": "ES256", "use": "sig"}
    private_jwk.update(common, key_ops=["sign", "verify"])
    public_jwk.update(common, key_ops=["verify"])
    oct_jwk = {
        "kty": "oct",
        "k": _b64url(secret.encode("utf-8")),
        "kid": "legacy-hs256",
        "alg": "HS256",
        "key_ops": ["sign", "verify"],
    }
    return kid, private_jwk, public_jwk, oct_jwk


def sign_es256(role, private_pem, kid, issuer, issued_at, expires_at):
    key = load_ec_private_key(private_pem)
    return jwt.encode(claims(role, issuer, issued_at, expires_at), key, algorithm="ES256", headers={"kid": kid})


def token_is_valid(token, key, algorithm, role, issuer, now):
    """True when ``token`` verifies with ``key``, carries the expected claims and is not expired."""
    if not isinstance(token, str):
        return False
    try:
        payload = jwt.decode(
            token, key, algorithms=[algorithm], issuer=issuer, options={"require": ["exp", "iat", "iss", "role"]}
        )
    except jwt.PyJWTError:
        return False
    return payload.get("role") == role and payload["exp"] > now


def reconcile(stored, jwt_secret=None, issuer="supabase", expires_in_days=3650, regenerate="never",
              asymmetric=False, now=None):
    """Compute the material to keep from what is stored and what was asked.

    Returns ``(material, reasons)``: the mapping to persist, and a list of human-readable reasons
    why it differs from ``stored`` (empty when nothing changes).
    Raises JWTMaterialError for input that must not be applied.
    """
    now = int(time.time() if now is None else now)
    if jwt_secret is not None:
        check_secret(jwt_secret)
    if expires_in_days < 1:
        raise JWTMaterialError("expires_in_days must be at least 1 (got %d)" % expires_in_days)

    reasons = []
    if stored is None or regenerate == "always":
        reasons.append("new material" if stored is None else "regenerate=always")
        material = {"format": FORMAT_VERSION, "jwt_secret": jwt_secret or generate_secret()}
    else:
        material = dict(stored)
        persisted = material.get("jwt_secret")
        try:
            check_secret(persisted, name="the persisted jwt_secret")
        except JWTMaterialError as exc:
            raise JWTMaterialError("%s; fix the file or set regenerate=always to replace it" % exc) from exc
        if jwt_secret is not None and jwt_secret != persisted:
            raise JWTMaterialError(
                "jwt_secret differs from the persisted secret; existing keys and sessions depend on it. "
                "Set regenerate=always to replace it deliberately"
            )

    secret = material["jwt_secret"]
    token_window_ok = all(
        token_is_valid(material.get("%s_key" % role), secret, "HS256", role, issuer, now) for role in ROLES
    )
    if not token_window_ok:
        if stored is not None and regenerate != "always":
            reasons.append("anon/service_role keys re-signed (missing, expired or issuer changed)")
        material["issued_at"] = now
        material["expires_at"] = now + int(expires_in_days) * 86400
        material["issuer"] = issuer
        for role in ROLES:
            material["%s_key" % role] = sign_hs256(role, secret, issuer, material["issued_at"], material["expires_at"])

    if asymmetric:
        pem = material.get("ec_private_key")
        if pem is None:
            pem = material["ec_private_key"] = generate_ec_private_pem()
            if stored is not None and regenerate != "always":
                reasons.append("asymmetric key added")
        kid = ec_jwks(pem, secret)[0]
        public_key = load_ec_private_key(pem).public_key()
        asym_ok = all(
            token_is_valid(material.get("%s_key_asymmetric" % role), public_key, "ES256", role, issuer, now)
            for role in ROLES
        )
        if not asym_ok or not token_window_ok:
            if stored is not None and regenerate != "always" and "asymmetric key added" not in reasons:
                reasons.append("asymmetric anon/service_role keys re-signed")
            for role in ROLES:
                material["%s_key_asymmetric" % role] = sign_es256(
                    role, pem, kid, material["issuer"], material["issued_at"], material["expires_at"]
                )
    return material, reasons


def module_result(material, asymmetric):
    """The values the module returns for ``material``."""
    result = {
        "jwt_secret": material["jwt_secret"],
        "anon_key": material["anon_key"],
        "service_role_key": material["service_role_key"],
        "issuer": material["issuer"],
        "issued_at": material["issued_at"],
        "expires_at": material["expires_at"],
    }
    if asymmetric:
        kid, private_jwk, public_jwk, oct_jwk = ec_jwks(material["ec_private_key"], material["jwt_secret"])
        result.update(
            kid=kid,
            jwt_keys=[private_jwk, oct_jwk],
            jwks={"keys": [public_jwk]},
            anon_key_asymmetric=material["anon_key_asymmetric"],
            service_role_key_asymmetric=material["service_role_key_asymmetric"],
        )
    return result


# Options of plusptt.deploy.jwt_keys, for the module and for its controller-side action plugin.
ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    jwt_secret=dict(type="str", no_log=True),
    issuer=dict(type="str", default="supabase"),
    expires_in_days=dict(type="int", default=3650),
    regenerate=dict(type="str", default="never", choices=["never", "always"]),
    asymmetric=dict(type="bool", default=False),
)


def ensure(params, check_mode=False, diff=False):
    """The work of plusptt.deploy.jwt_keys on validated options: the material kept in params["path"] (written
    unless check_mode), as the module's result. Raises ModuleError."""
    if not HAS_CRYPTO_LIBS:
        raise ModuleError(missing_required_lib("PyJWT and cryptography"), exception=str(CRYPTO_IMPORT_ERROR))
    if not _secret_file.HAS_YAML:
        raise ModuleError(missing_required_lib("PyYAML"), exception=str(_secret_file.YAML_IMPORT_ERROR))

    path = params["path"]
    try:
        stored = _secret_file.load(path)
        material, reasons = reconcile(
            stored,
            jwt_secret=params["jwt_secret"],
            issuer=params["issuer"],
            expires_in_days=params["expires_in_days"],
            regenerate=params["regenerate"],
            asymmetric=params["asymmetric"],
        )
    except (_secret_file.SecretFileError, JWTMaterialError) as exc:
        raise ModuleError("%s (file: %s)" % (exc, path)) from exc

    changed = bool(reasons)
    mode_fixed = False
    if not check_mode:
        if changed:
            _secret_file.dump(
                path, material, header="Supabase JWT material, managed by plusptt.deploy.jwt_keys. Keep secret."
            )
        elif stored is not None and not _secret_file.mode_is_private(path):
            mode_fixed = _secret_file.ensure_private(path)
    elif stored is not None and not changed and not _secret_file.mode_is_private(path):
        mode_fixed = True
    if mode_fixed:
        reasons.append("file mode tightened to 0600")
    try:
        folder_fixed = _secret_file.ensure_private_folder(path, check_mode)
    except OSError as exc:
        raise ModuleError("cannot make the folder of %s private (0700): %s" % (path, exc)) from exc
    if folder_fixed:
        reasons.append("folder mode tightened to 0700")

    result = dict(changed=changed or mode_fixed or folder_fixed, path=path, reasons=reasons)
    result.update(module_result(material, params["asymmetric"]))
    if params["jwt_secret"] is not None:
        # Ansible masks a no_log option's value wherever it appears in the result: returned, the given secret
        # would come back as a public placeholder. The caller has it already.
        del result["jwt_secret"]
    if diff:
        result["diff"] = dict(
            before_header=path,
            after_header=path,
            before="" if stored is None else "material present\n",
            after="material present\n" + "".join("%s\n" % reason for reason in reasons),
        )
    return result
