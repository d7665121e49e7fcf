"""Everything lives under /api/: nginx sends /api/ to this service."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/admin/", admin.site.urls),
    path("api/", include("console.urls")),
]
