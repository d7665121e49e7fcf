"""Run inside the backend container by playbooks/doctor.yml: what the running backend sees, as JSON.

Its CORS origins (Django's settings), whether its own database connection opens, and the LiveKit key it signs
with (the key's name and a SHA-256 of its secret; the secret itself is never printed)."""
import hashlib
import json
import os

report = {
    "livekit_key": os.environ.get("LIVEKIT_API_KEY", ""),
    "livekit_secret_sha256": hashlib.sha256(os.environ.get("LIVEKIT_API_SECRET", "").encode()).hexdigest(),
}
try:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    report["cors"] = sorted(getattr(settings, "CORS_ALLOWED_ORIGINS", None) or [])
    try:
        connection.ensure_connection()
        report["database"] = ""
    except Exception as exc:  # the reason is the report
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        report["database"] = lines[0] if lines else type(exc).__name__
except Exception as exc:  # no Django settings in this container
    report["django"] = "%s: %s" % (type(exc).__name__, exc)
print(json.dumps(report))
