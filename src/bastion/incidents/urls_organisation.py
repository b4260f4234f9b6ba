"""Included by ``console/urls.py`` under ``o/<org>/security/notices/`` (in the console's namespace)."""

from django.urls import path

from bastion.incidents.views import organisation_notices

urlpatterns = [
    path("", organisation_notices.notices, name="security_notices"),
]
