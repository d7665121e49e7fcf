"""Read settings from the environment; a bad or missing value stops start-up with the variable's name."""

import os
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def require(name):
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"Required environment variable {name} is not set.")
    return value


def optional(name, default=""):
    return os.environ.get(name, default).strip()


def boolean(name, default=False):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"Environment variable {name} must be true or false, not {raw!r}.")


def integer(name, default):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"Environment variable {name} must be an integer.") from None


def comma_list(name):
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def parse_database_url(url, name="DATABASE_URL"):
    """Turn postgres://user:pass@host:port/db or sqlite:///path into a Django DATABASES entry."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        # The message would echo the URL, password included.
        raise ImproperlyConfigured(f"Environment variable {name} is not a valid URL.") from None
    scheme = parts.scheme.lower()

    if scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured(f"Environment variable {name} names no SQLite file.")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}

    if scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(
            f"Environment variable {name} must start with postgres://, postgresql:// or sqlite:///."
        )
    database = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not database:
        raise ImproperlyConfigured(f"Environment variable {name} needs a host and a database name.")
    # Query parameters (sslmode, connect_timeout, ...) go to libpq as they are.
    options = dict(parse_qsl(parts.query))
    options.setdefault("connect_timeout", "5")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname),
        "PORT": str(port or 5432),
        "OPTIONS": options,
    }
