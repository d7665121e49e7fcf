# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import jwt
import pytest
from jwt.algorithms import ECAlgorithm

from ansible_collections.plusptt.deploy.plugins.module_utils import _jwt_keys

NOW = 1_760_000_000


def decode(token, key, algorithm="HS256"):
    return jwt.decode(token, key, algorithms=[algorithm], issuer="supabase")


def test_new_material_signs_both_roles_with_the_generated_secret():
    material, reasons = _jwt_keys.reconcile(None, now=NOW)
    assert reasons == ["new material"]
    secret = material["jwt_secret"]
    assert len(secret) >= 40
    for role in ("anon", "service_role"):
        claims = decode(material["%s_key" % role], secret)
        assert claims == {"role": role, "iss": "supabase", "iat": NOW, "exp": NOW + 3650 * 86400}


def test_generated_secrets_differ():
    assert len({_jwt_keys.generate_secret() for dummy in range(50)}) == 50


def test_keys_do_not_verify_with_another_secret():
    material, dummy = _jwt_keys.reconcile(None, now=NOW)
    with pytest.raises(jwt.InvalidSignatureError):
        decode(material["anon_key"], "x" * 40)


def test_stored_material_is_reused_unchanged():
    first, dummy = _jwt_keys.reconcile(None, now=NOW)
    second, reasons = _jwt_keys.reconcile(first, now=NOW + 3600)
    assert reasons == []
    assert second == first


def test_given_secret_is_used():
    secret = "s" * 32
    material, dummy = _jwt_keys.reconcile(None, jwt_secret=secret, issuer="plusptt", expires_in_days=1, now=NOW)
    claims = jwt.decode(
        material["service_role_key"], secret, algorithms=["HS256"], issuer="plusptt", options={"verify_exp": False}
    )
    assert claims["exp"] - claims["iat"] == 86400


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_short_secret_is_refused(secret):
    with pytest.raises(_jwt_keys.JWTMaterialError, match="at least 32 characters"):
        _jwt_keys.reconcile(None, jwt_secret=secret)


def test_different_secret_is_refused_unless_regenerate():
    stored, dummy = _jwt_keys.reconcile(None, now=NOW)
    with pytest.raises(_jwt_keys.JWTMaterialError, match="regenerate=always"):
        _jwt_keys.reconcile(stored, jwt_secret="y" * 40, now=NOW)
    material, reasons = _jwt_keys.reconcile(stored, jwt_secret="y" * 40, regenerate="always", now=NOW)
    assert reasons == ["regenerate=always"]
    assert decode(material["anon_key"], "y" * 40)["role"] == "anon"


def test_regenerate_always_makes_a_new_secret():
    stored, dummy = _jwt_keys.reconcile(None, now=NOW)
    material, dummy = _jwt_keys.reconcile(stored, regenerate="always", now=NOW)
    assert material["jwt_secret"] != stored["jwt_secret"]


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(lambda m: m.pop("anon_key"), id="missing-key"),
        pytest.param(lambda m: m.update(anon_key="not-a-jwt"), id="garbage-key"),
        pytest.param(lambda m: m.update(expires_at=NOW - 1, anon_key=_jwt_keys.sign_hs256(
            "anon", m["jwt_secret"], "supabase", NOW - 10, NOW - 1)), id="expired-key"),
        pytest.param(lambda m: m.update(service_role_key=m["anon_key"]), id="wrong-role"),
    ],
)
def test_broken_keys_are_resigned_with_the_same_secret(mutation):
    stored, dummy = _jwt_keys.reconcile(None, now=NOW)
    broken = dict(stored)
    mutation(broken)
    material, reasons = _jwt_keys.reconcile(broken, now=NOW)
    assert reasons and "re-signed" in reasons[0]
    assert material["jwt_secret"] == stored["jwt_secret"]
    assert decode(material["service_role_key"], stored["jwt_secret"])["role"] == "service_role"


def test_issuer_change_resigns():
    stored, dummy = _jwt_keys.reconcile(None, now=NOW)
    material, reasons = _jwt_keys.reconcile(stored, issuer="other", now=NOW)
    assert reasons
    assert jwt.decode(material["anon_key"], stored["jwt_secret"], algorithms=["HS256"], issuer="other")


@pytest.mark.parametrize("stored", [{}, {"jwt_secret": "short"}, {"jwt_secret": 12345}])
def test_unusable_persisted_secret_is_an_error(stored):
    with pytest.raises(_jwt_keys.JWTMaterialError, match="persisted jwt_secret"):
        _jwt_keys.reconcile(stored)


def test_asymmetric_material_verifies_with_the_public_jwk():
    material, dummy = _jwt_keys.reconcile(None, asymmetric=True, now=NOW)
    result = _jwt_keys.module_result(material, asymmetric=True)
    public_jwk = result["jwks"]["keys"][0]
    assert public_jwk["kty"] == "EC" and public_jwk["crv"] == "P-256" and "d" not in public_jwk
    assert public_jwk["kid"] == result["kid"]
    public_key = ECAlgorithm.from_jwk(public_jwk)
    for role in ("anon", "service_role"):
        token = result["%s_key_asymmetric" % role]
        assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": result["kid"], "typ": "JWT"}
        assert decode(token, public_key, "ES256")["role"] == role
    private_jwk, oct_jwk = result["jwt_keys"]
    assert private_jwk["d"] and private_jwk["kid"] == result["kid"]
    # the oct key is the HS256 secret itself: a token signed with it verifies as the anon key does
    oct_key = jwt.PyJWK(oct_jwk).key
    assert decode(result["anon_key"], oct_key)["role"] == "anon"


def test_asymmetric_material_is_stable_and_kid_is_the_thumbprint():
    first, dummy = _jwt_keys.reconcile(None, asymmetric=True, now=NOW)
    second, reasons = _jwt_keys.reconcile(first, asymmetric=True, now=NOW + 60)
    assert reasons == [] and second == first
    kid = _jwt_keys.module_result(first, True)["kid"]
    assert len(kid) == 43  # base64url SHA-256


def test_asymmetric_key_added_to_existing_material():
    stored, dummy = _jwt_keys.reconcile(None, now=NOW)
    material, reasons = _jwt_keys.reconcile(stored, asymmetric=True, now=NOW)
    assert reasons == ["asymmetric key added"]
    assert material["jwt_secret"] == stored["jwt_secret"]
    assert material["anon_key"] == stored["anon_key"]


def test_corrupt_ec_key_is_an_error():
    stored, dummy = _jwt_keys.reconcile(None, asymmetric=True, now=NOW)
    stored["ec_private_key"] = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"
    with pytest.raises(_jwt_keys.JWTMaterialError, match="EC private key"):
        _jwt_keys.reconcile(stored, asymmetric=True, now=NOW)
