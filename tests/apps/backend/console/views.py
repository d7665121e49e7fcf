import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from livekit import api as livekit_api
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from console.models import Channel

logger = logging.getLogger(__name__)

CHANNEL_PATTERN = r"\A[A-Za-z0-9_.-]{1,64}\Z"


class HealthView(APIView):
    """Liveness plus a real round trip to the database."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            # The class name is enough to debug and cannot leak the connection string.
            logger.warning("health check: database unreachable (%s)", type(exc).__name__)
            connection.close()
            return Response({"status": "error", "database": "unreachable"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ok", "database": "reachable"})


class TokenRequestSerializer(serializers.Serializer):
    channel = serializers.RegexField(
        CHANNEL_PATTERN,
        max_length=64,
        trim_whitespace=False,
        error_messages={"invalid": "Channel may use only letters, digits, '_', '.' and '-' (1 to 64 characters)."},
    )


class PTTTokenView(APIView):
    """Exchange a Supabase user JWT for a LiveKit token that joins one channel's room."""

    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        if not serializer.is_valid():
            return Response(
                {"detail": "Invalid channel.", "errors": serializer.errors}, status=status.HTTP_400_BAD_REQUEST
            )
        channel = serializer.validated_data["channel"]
        identity = request.user.id

        try:
            Channel.objects.get_or_create(name=channel)
        except DatabaseError as exc:
            logger.warning("token request: database unavailable (%s)", type(exc).__name__)
            return Response({"detail": "Database unavailable."}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        token = (
            livekit_api.AccessToken(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
            .with_identity(identity)
            .with_ttl(timedelta(seconds=settings.LIVEKIT_TOKEN_TTL))
            .with_grants(livekit_api.VideoGrants(room_join=True, room=channel, can_publish=True, can_subscribe=True))
            .to_jwt()
        )
        logger.info("issued LiveKit token: identity=%s channel=%s", identity, channel)
        return Response({"token": token, "url": settings.LIVEKIT_URL, "channel": channel, "identity": identity})
