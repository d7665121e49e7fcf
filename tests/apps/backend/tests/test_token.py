import json
import time
from unittest import mock

import jwt
from django.conf import settings
from django.db import OperationalError
from django.test import Client, TestCase
from livekit import api as livekit_api

from console.models import Channel

URL = "/api/ptt/token/"
USER_ID = "6f1c2b9e-3d4a-4e5f-9a8b-7c6d5e4f3a2b"


def supabase_jwt(secret=None, **overrides):
    now = int(time.time())
    claims = {
        "sub": USER_ID,
        "aud": "authenticated",
        "role": "authenticated",
        "email": "operator@example.org",
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    claims = {key: value for key, value in claims.items() if value is not None}
    return jwt.encode(claims, secret or settings.SUPABASE_JWT_SECRET, algorithm="HS256")


class PTTTokenViewTests(TestCase):
    def setUp(self):
        # CSRF enforced as in production: the view must not need it.
        self.client = Client(enforce_csrf_checks=True)

    def post(self, body, token=None, auth=None):
        headers = {}
        if auth is not None:
            headers["HTTP_AUTHORIZATION"] = auth
        elif token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        data = body if isinstance(body, str) else json.dumps(body)
        return self.client.post(URL, data=data, content_type="application/json", **headers)

    def assert_unauthorized(self, response):
        self.assertEqual(response.status_code, 401, response.content)
        self.assertIn("detail", response.json())
        self.assertEqual(response["WWW-Authenticate"], "Bearer")
        self.assertFalse(Channel.objects.exists())

    def test_valid_jwt_returns_livekit_token_for_the_channel(self):
        response = self.post({"channel": "ops-1"}, token=supabase_jwt())

        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        self.assertEqual(body["url"], settings.LIVEKIT_URL)
        self.assertEqual(body["channel"], "ops-1")
        self.assertEqual(body["identity"], USER_ID)

        claims = livekit_api.TokenVerifier(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET).verify(body["token"])
        self.assertEqual(claims.identity, USER_ID)
        self.assertEqual(claims.video.room, "ops-1")
        self.assertTrue(claims.video.room_join)
        self.assertTrue(claims.video.can_publish)
        self.assertTrue(claims.video.can_subscribe)

        raw = jwt.decode(body["token"], options={"verify_signature": False})
        self.assertEqual(raw["iss"], settings.LIVEKIT_API_KEY)
        self.assertLessEqual(raw["exp"] - time.time(), settings.LIVEKIT_TOKEN_TTL + 5)
        self.assertTrue(Channel.objects.filter(name="ops-1").exists())

    def test_tokens_are_not_logged(self):
        supabase_token = supabase_jwt()
        with self.assertLogs(level="DEBUG") as logs:
            body = self.post({"channel": "ops-1"}, token=supabase_token).json()
            self.post({"channel": "ops-1"}, token=supabase_jwt(exp=int(time.time()) - 60))
        output = "\n".join(logs.output)
        self.assertIn("ops-1", output)
        self.assertNotIn(supabase_token, output)
        self.assertNotIn(body["token"], output)
        self.assertNotIn(settings.SUPABASE_JWT_SECRET, output)
        self.assertNotIn(settings.LIVEKIT_API_SECRET, output)

    def test_token_signed_with_another_livekit_secret_does_not_verify(self):
        body = self.post({"channel": "ops-1"}, token=supabase_jwt()).json()
        verifier = livekit_api.TokenVerifier(settings.LIVEKIT_API_KEY, "another-secret-of-enough-length-0000")
        with self.assertRaises(jwt.InvalidSignatureError):
            verifier.verify(body["token"])

    def test_channel_is_recorded_once(self):
        self.assertEqual(self.post({"channel": "ops-1"}, token=supabase_jwt()).status_code, 200)
        self.assertEqual(self.post({"channel": "ops-1"}, token=supabase_jwt()).status_code, 200)
        self.assertEqual(Channel.objects.filter(name="ops-1").count(), 1)

    def test_missing_authorization_is_401(self):
        self.assert_unauthorized(self.post({"channel": "ops-1"}))

    def test_other_auth_scheme_is_401(self):
        self.assert_unauthorized(self.post({"channel": "ops-1"}, auth="Basic dXNlcjpwYXNz"))

    def test_malformed_bearer_header_is_401(self):
        self.assert_unauthorized(self.post({"channel": "ops-1"}, auth="Bearer"))
        self.assert_unauthorized(self.post({"channel": "ops-1"}, auth="Bearer a b"))

    def test_garbage_token_is_401(self):
        self.assert_unauthorized(self.post({"channel": "ops-1"}, token="not-a-jwt"))

    def test_wrong_signature_is_401(self):
        token = supabase_jwt(secret="some-other-secret-that-is-long-enough")
        self.assert_unauthorized(self.post({"channel": "ops-1"}, token=token))

    def test_expired_jwt_is_401(self):
        response = self.post({"channel": "ops-1"}, token=supabase_jwt(exp=int(time.time()) - 60))
        self.assert_unauthorized(response)
        self.assertIn("expired", response.json()["detail"])

    def test_wrong_audience_is_401(self):
        self.assert_unauthorized(self.post({"channel": "ops-1"}, token=supabase_jwt(aud="anon")))

    def test_missing_audience_is_401(self):
        # Supabase's anon and service_role keys carry no audience.
        self.assert_unauthorized(self.post({"channel": "ops-1"}, token=supabase_jwt(aud=None, role="anon")))

    def test_missing_sub_is_401(self):
        self.assert_unauthorized(self.post({"channel": "ops-1"}, token=supabase_jwt(sub=None)))

    def test_missing_exp_is_401(self):
        self.assert_unauthorized(self.post({"channel": "ops-1"}, token=supabase_jwt(exp=None)))

    def test_alg_none_is_401(self):
        token = jwt.encode({"sub": USER_ID, "aud": "authenticated", "exp": int(time.time()) + 60}, None, "none")
        self.assert_unauthorized(self.post({"channel": "ops-1"}, token=token))

    def test_invalid_channel_is_400(self):
        token = supabase_jwt()
        for body in (
            {},
            {"channel": ""},
            {"channel": "ops 1"},
            {"channel": "ops-1\n"},
            {"channel": "ops/1"},
            {"channel": "x" * 65},
            {"channel": None},
            {"channel": ["ops-1"]},
            ["ops-1"],
        ):
            with self.subTest(body=body):
                response = self.post(body, token=token)
                self.assertEqual(response.status_code, 400, response.content)
                self.assertIn("detail", response.json())
        self.assertFalse(Channel.objects.exists())

    def test_longest_allowed_channel(self):
        name = "A_z.9-" + "x" * 58
        response = self.post({"channel": name}, token=supabase_jwt())
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["channel"], name)

    def test_malformed_json_is_400(self):
        self.assertEqual(self.post("{not json", token=supabase_jwt()).status_code, 400)

    def test_database_down_is_503(self):
        with mock.patch("console.views.Channel.objects.get_or_create", side_effect=OperationalError("down")):
            response = self.post({"channel": "ops-1"}, token=supabase_jwt())
        self.assertEqual(response.status_code, 503, response.content)
        self.assertIn("detail", response.json())

    def test_get_is_not_allowed(self):
        response = self.client.get(URL, HTTP_AUTHORIZATION=f"Bearer {supabase_jwt()}")
        self.assertEqual(response.status_code, 405)
