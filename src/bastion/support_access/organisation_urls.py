"""Included by ``console/urls.py`` under ``o/<org>/security/access/`` (in the console's namespace)."""

from django.urls import path

from bastion.support_access.views import organisation

urlpatterns = [
    path("", organisation.access_overview, name="access_overview"),
    path("policy/", organisation.policy, name="access_policy"),
    path("feed/", organisation.access_feed, name="access_feed"),
    path("<uuid:access_request_id>/", organisation.access_request, name="access_request"),
    path("<uuid:access_request_id>/approve/", organisation.approve, name="access_approve"),
    path("<uuid:access_request_id>/deny/", organisation.deny, name="access_deny"),
    path("<uuid:access_request_id>/revoke/", organisation.revoke, name="access_revoke"),
    path("<uuid:access_request_id>/review/", organisation.review, name="access_review"),
]
