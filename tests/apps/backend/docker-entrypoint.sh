#!/bin/sh
# Start-up as the ops guide orders it: migrate, collectstatic, gunicorn.
# Any arguments run instead (e.g. `python manage.py createsuperuser`, `python manage.py test tests`).
set -eu
cd /app

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

# Fail once with the variable's name instead of retrying a configuration error as if the database were down.
python - <<'PY'
import sys

from django.core.exceptions import ImproperlyConfigured

try:
    import admin_panel.settings  # noqa: F401
except ImproperlyConfigured as exc:
    sys.exit("configuration error: %s" % exc)
PY

# The database may still be starting when the stack comes up together.
attempt=1
retries=${MIGRATE_RETRIES:-20}
until python manage.py migrate --noinput; do
    if [ "$attempt" -ge "$retries" ]; then
        echo "migrate failed $attempt times; giving up" >&2
        exit 1
    fi
    echo "migrate failed (attempt $attempt of $retries); retrying in 3s" >&2
    attempt=$((attempt + 1))
    sleep 3
done

python manage.py collectstatic --noinput

exec gunicorn admin_panel.wsgi:application --bind "0.0.0.0:${PORT:-8010}" --workers "${GUNICORN_WORKERS:-3}" \
    --access-logfile - --timeout 60
