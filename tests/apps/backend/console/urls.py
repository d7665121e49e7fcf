from django.urls import path

from console import views

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("ptt/token/", views.PTTTokenView.as_view(), name="ptt-token"),
]
