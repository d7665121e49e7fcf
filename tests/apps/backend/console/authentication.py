"""Authenticate API calls with the Supabase user JWT the frontend already holds."""

import jwt
from django.conf import settings
from rest_framework import authentication, exceptions


class SupabaseUser:
    """The caller as the Supabase token describes it; no Django user row behind it."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, claims):
        self.claims = claims
        self.id = claims["sub"]
        self.email = claims.get("email", "")

    def __str__(self):
        return self.id


class SupabaseJWTAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: expected 'Bearer <token>'.")
        try:
            token = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None

        try:
            claims = jwt.decode(
                token,
                settings.SUPABASE_JWT_SECRET,
                algorithms=["HS256"],
                audience=settings.SUPABASE_JWT_AUDIENCE,
                options={"require": ["sub", "exp", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise exceptions.AuthenticationFailed("Token has expired.") from None
        except (jwt.InvalidAudienceError, jwt.MissingRequiredClaimError) as exc:
            # Names only the claim, never the token.
            raise exceptions.AuthenticationFailed(f"Invalid token: {exc}.") from None
        except jwt.InvalidTokenError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None

        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise exceptions.AuthenticationFailed("Invalid token: empty subject.")
        return SupabaseUser(claims), claims

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) with a WWW-Authenticate challenge.
        return self.keyword
