"""The URL map: the JSON API under /api/v1/, health, accounts (allauth), the status page, and the console."""

from allauth import urls as allauth_urls
from django.db import transaction
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from bastion.api import api
from bastion.console.views import account_sessions, privacy, sign_in
from bastion.hardening.csp_reports import csp_report
from bastion.hardening.security_txt import security_txt
from bastion.operations.metrics_view import metrics
from bastion.tenancy.access import public


@public
@transaction.non_atomic_requests
def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain")


def _declared_public(patterns):
    """allauth's views decide access themselves (sign-in, sign-up and reset are open; the account,
    MFA and session pages are ``login_required`` and act only on the signed-in user's own
    account), so they are declared public to the tenancy layer: no organisation is involved."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            _declared_public(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            entry.callback.public = True
    return patterns


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path(".well-known/security.txt", security_txt, name="security_txt"),
    path("csp-report/", csp_report, name="csp_report"),
    path("api/v1/", api.urls),
    path("accounts/login/", sign_in.login),  # before allauth's own: routes SSO domains to their IdP
    path("accounts/sso/", sign_in.sso_login, name="sso_login"),
    path("accounts/sessions/<int:session_id>/end/", account_sessions.end_session, name="usersession_end"),
    path("accounts/privacy/", privacy.privacy_settings, name="privacy_settings"),
    path("accounts/privacy/export/", privacy.export_request, name="privacy_export"),
    path("accounts/privacy/export/download/", privacy.export_download, name="privacy_export_download"),
    path("accounts/privacy/profile/", privacy.profile_correct, name="privacy_profile"),
    path("accounts/privacy/delete/", privacy.deletion_request, name="privacy_deletion"),
    path("accounts/privacy/delete/cancel/", privacy.deletion_cancel, name="privacy_deletion_cancel"),
    path("accounts/privacy/cancel-deletion/<str:token>/", privacy.cancel_deletion_link, name="privacy_cancel_link"),
    path("accounts/privacy/cancel-organisation-deletion/<str:token>/", privacy.cancel_organisation_deletion_link,
         name="privacy_cancel_organisation_link"),
    path("accounts/", include(_declared_public(allauth_urls.urlpatterns))),
    path("scim/v2/", include("bastion.identity.scim.urls")),
    path("staff/", include("bastion.incidents.urls_staff")),
    path("staff/", include("bastion.support_access.urls")),
    path("", include("bastion.operations.urls")),
    path("", include("bastion.trust.urls")),
    path("", include("bastion.disclosures.urls")),
    path("", include("bastion.incidents.urls")),
    path("", include("bastion.console.urls")),
]
