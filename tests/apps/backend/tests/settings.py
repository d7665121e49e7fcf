"""Test settings: the real settings module fed with test values and an in-memory SQLite database.

Values already in the environment win, so DATABASE_URL can point the tests at another database.
"""

import os

for _name, _value in {
    "DJANGO_SECRET_KEY": "test-secret-key-not-for-production",
    "DATABASE_URL": "sqlite:///:memory:",
    "SUPABASE_JWT_SECRET": "test-supabase-jwt-secret-at-least-32-chars",
    "LIVEKIT_URL": "wss://ptt.example.org/livekit",
    "LIVEKIT_API_KEY": "APItestkey0001",
    "LIVEKIT_API_SECRET": "test-livekit-api-secret-at-least-32-characters",
    "DJANGO_LOG_LEVEL": "CRITICAL",
}.items():
    os.environ.setdefault(_name, _value)

# The usual Django override: take every setting, then change what the tests need.
from admin_panel.settings import *  # noqa: F403 # pylint: disable=wildcard-import,unused-wildcard-import

# No collectstatic before tests: skip the manifest lookup.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
