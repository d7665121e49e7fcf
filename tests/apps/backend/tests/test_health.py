from unittest import mock

from django.db import OperationalError
from django.test import TestCase


class HealthViewTests(TestCase):
    def test_reachable_database(self):
        response = self.client.get("/api/health/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "database": "reachable"})

    def test_unreachable_database_is_503(self):
        with mock.patch("console.views.connection.cursor", side_effect=OperationalError("down")):
            response = self.client.get("/api/health/")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json(), {"status": "error", "database": "unreachable"})

    def test_admin_is_served_under_api(self):
        response = self.client.get("/api/admin/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/api/admin/login/"))
