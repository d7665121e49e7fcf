"""PlusPTT backend settings: every value comes from the environment (see README.md)."""

from pathlib import Path

from admin_panel import env

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = env.require("DJANGO_SECRET_KEY")
DEBUG = env.boolean("DJANGO_DEBUG", default=False)

# Loopback names stay allowed so the container's own health check gets through.
ALLOWED_HOSTS = [*env.comma_list("DJANGO_ALLOWED_HOSTS"), "localhost", "127.0.0.1", "[::1]"]
CORS_ALLOWED_ORIGINS = env.comma_list("CORS_ALLOWED_ORIGINS")
CSRF_TRUSTED_ORIGINS = env.comma_list("CSRF_TRUSTED_ORIGINS")

# nginx terminates TLS and forwards the original host and scheme.
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.boolean("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

SUPABASE_URL = env.optional("SUPABASE_URL")
SUPABASE_JWT_SECRET = env.require("SUPABASE_JWT_SECRET")
SUPABASE_SERVICE_ROLE_KEY = env.optional("SUPABASE_SERVICE_ROLE_KEY")
SUPABASE_JWT_AUDIENCE = "authenticated"

LIVEKIT_URL = env.optional("LIVEKIT_URL")
LIVEKIT_API_KEY = env.require("LIVEKIT_API_KEY")
LIVEKIT_API_SECRET = env.require("LIVEKIT_API_SECRET")
LIVEKIT_TOKEN_TTL = env.integer("LIVEKIT_TOKEN_TTL", 3600)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "admin_panel.urls"
WSGI_APPLICATION = "admin_panel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.parse_database_url(env.require("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.integer("DJANGO_CONN_MAX_AGE", 60)
# A connection dropped by a database restart is replaced instead of failing the next request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/api/static/"
STATIC_ROOT = Path(env.optional("DJANGO_STATIC_ROOT", "/app/staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["console.authentication.SupabaseJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}

LOG_LEVEL = env.optional("DJANGO_LOG_LEVEL", "INFO").upper()
# Everything to stdout for `docker logs`; request bodies and headers (tokens) are never logged.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    # Replaces Django's own console handler so DEBUG does not print every line twice.
    "loggers": {"django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False}},
}
