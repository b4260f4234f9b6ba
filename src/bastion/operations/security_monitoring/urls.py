"""Included by ``console/urls.py`` under ``o/<org>/security/alerts/`` (in the console's namespace)."""

from django.urls import path

from bastion.operations.security_monitoring import views

urlpatterns = [
    path("", views.security_alerts, name="security_alerts"),
]
