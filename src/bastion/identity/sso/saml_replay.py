"""A SAML assertion signs in once. Its id is remembered in the shared cache until it can no longer
be accepted anyway (its NotOnOrAfter plus the allowed clock skew), so a captured SAMLResponse
cannot be posted again within its validity window — which matters most for IdP-initiated sign-in,
where no request of ours ties the response to one browser."""

from __future__ import annotations

import hashlib

from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.core.cache import cache
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from bastion.identity.sso.models import SSOConnection

# python3-saml accepts an assertion without a SubjectConfirmationData NotOnOrAfter: remember those
# this long.
WITHOUT_EXPIRY_SECONDS = 24 * 3600


class ReplayCheckedSAMLProvider(SAMLProvider):
    """allauth's SAML provider, handing the validated assertion's id and expiry on with the login
    (allauth keeps only its attributes)."""

    def sociallogin_from_response(self, request, response):
        login = super().sociallogin_from_response(request, response)
        login.saml_assertion = (response.get_last_assertion_id(), response.get_last_assertion_not_on_or_after())
        return login


def first_use(connection: SSOConnection, sociallogin, skew_seconds: int) -> bool:
    """Whether this SAML sign-in's assertion is used for the first time (and from now on, used).
    OpenID Connect logins pass: their one-time code and nonce already bind them to one browser."""
    if connection.protocol != SSOConnection.SAML:
        return True
    assertion_id, not_on_or_after = getattr(sociallogin, "saml_assertion", (None, None))
    if not assertion_id:
        return False  # nothing to remember it by: refused rather than replayable
    now = OneLogin_Saml2_Utils.now()
    seconds = (not_on_or_after - now if not_on_or_after else WITHOUT_EXPIRY_SECONDS) + skew_seconds
    digest = hashlib.sha256(assertion_id.encode()).hexdigest()
    # add() writes only if the key is absent (Redis SET NX; the database cache's primary key), so
    # of two concurrent uses only one wins.
    return cache.add(f"bastion:saml-assertion:{connection.id}:{digest}", 1, timeout=max(int(seconds), 1))
