import os
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase

from admin_panel import env


class DatabaseUrlTests(SimpleTestCase):
    def test_postgres_url_is_percent_decoded(self):
        db = env.parse_database_url("postgres://app%40ptt:p%40ss%3Aw%2Fd@db.internal:6543/ptt%2Ddb?sslmode=require")
        self.assertEqual(db["ENGINE"], "django.db.backends.postgresql")
        self.assertEqual(db["USER"], "app@ptt")
        self.assertEqual(db["PASSWORD"], "p@ss:w/d")
        self.assertEqual(db["HOST"], "db.internal")
        self.assertEqual(db["PORT"], "6543")
        self.assertEqual(db["NAME"], "ptt-db")
        self.assertEqual(db["OPTIONS"], {"sslmode": "require", "connect_timeout": "5"})

    def test_postgresql_scheme_and_default_port(self):
        db = env.parse_database_url("postgresql://postgres:secret@supabase-db/postgres")
        self.assertEqual(db["PORT"], "5432")
        self.assertEqual(db["NAME"], "postgres")

    def test_sqlite_paths(self):
        self.assertEqual(env.parse_database_url("sqlite:////var/lib/app/db.sqlite3")["NAME"], "/var/lib/app/db.sqlite3")
        self.assertEqual(env.parse_database_url("sqlite:///db.sqlite3")["NAME"], "db.sqlite3")
        self.assertEqual(env.parse_database_url("sqlite:///:memory:")["NAME"], ":memory:")

    def test_bad_urls_name_the_variable_without_echoing_the_password(self):
        for url in ("mysql://u:topsecret@h/db", "postgres://u:topsecret@h", "postgres://u:topsecret@h:notaport/db"):
            with self.subTest(url=url), self.assertRaises(ImproperlyConfigured) as ctx:
                env.parse_database_url(url)
            self.assertIn("DATABASE_URL", str(ctx.exception))
            self.assertNotIn("topsecret", str(ctx.exception))


class EnvHelperTests(SimpleTestCase):
    def test_missing_required_variable_is_named(self):
        with mock.patch.dict(os.environ, {}, clear=True), self.assertRaises(ImproperlyConfigured) as ctx:
            env.require("LIVEKIT_API_SECRET")
        self.assertIn("LIVEKIT_API_SECRET", str(ctx.exception))

    def test_boolean(self):
        with mock.patch.dict(os.environ, {"DJANGO_DEBUG": "True"}):
            self.assertTrue(env.boolean("DJANGO_DEBUG"))
        with mock.patch.dict(os.environ, {}, clear=True):
            self.assertFalse(env.boolean("DJANGO_DEBUG"))
        with mock.patch.dict(os.environ, {"DJANGO_DEBUG": "maybe"}), self.assertRaises(ImproperlyConfigured):
            env.boolean("DJANGO_DEBUG")

    def test_comma_list(self):
        with mock.patch.dict(os.environ, {"CORS_ALLOWED_ORIGINS": " https://a.example , ,https://b.example"}):
            self.assertEqual(env.comma_list("CORS_ALLOWED_ORIGINS"), ["https://a.example", "https://b.example"])
