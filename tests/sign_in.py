"""Signing in through the real form (allauth's), as a browser would, for tests of the flow."""

from __future__ import annotations

from django.urls import reverse

LOGIN_URL = "/accounts/login/"


def sign_in(client, email: str, password: str, **extra):
    """POST the sign-in form; a 302 means signed in (or on to the next step, such as MFA)."""
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


def sign_out(client):
    return client.post(reverse("account_logout"))


def totp_code(secret: str, steps: int = 0) -> str:
    """The authenticator-app code for ``secret`` now (or ``steps`` periods away), as RFC 6238 computes it."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + steps))


def reauthenticate(client, password: str):
    """Confirm the password again, as allauth asks before any change to an account's security."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.status_code
    return response


def enrol_totp(client, password: str) -> str:
    """Set up an authenticator app for the signed-in user of ``client``; returns its secret."""
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302 and page.url.startswith(reverse("account_reauthenticate")):
        reauthenticate(client, password)
        page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page.status_code
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content[-2000:]
    return secret


def register_security_key(user):
    """A security key registered for ``user``, as allauth stores one after a WebAuthn registration
    (the ceremony itself needs a physical key; the browser tests of staff sign in with a session)."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.create(user=user, type=Authenticator.Type.WEBAUTHN,
                                        data={"name": "Test key", "credential": {}, "passwordless": False})


def signed_in_with_second_factor(client, user):
    """``client`` signed in as ``user`` just now with a second factor, as allauth records it after the
    MFA step. A user whose roles require MFA and who has none gets an authenticator app first (their
    admins would have made them enrol): the console and API then treat the session as a real one."""
    import time

    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from bastion.identity.mfa import policy as mfa_policy

    client.force_login(user)
    from bastion.identity.models import STAFF_ROLES_NEEDING_SECURITY_KEY

    factors = Authenticator.objects.filter(user_id=user.pk).exclude(type=Authenticator.Type.RECOVERY_CODES)
    if user.staff_role in STAFF_ROLES_NEEDING_SECURITY_KEY:
        factors = factors.filter(type=Authenticator.Type.WEBAUTHN)
    factor = factors.first()
    if factor is None and user.staff_role in STAFF_ROLES_NEEDING_SECURITY_KEY:
        factor = register_security_key(user)
    elif factor is None and mfa_policy.mfa_required_for(user):
        factor = TOTP.activate(user, generate_totp_secret()).instance
    if factor is not None:
        session = client.session
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "password", "at": time.time(), "email": user.email},
            {"method": "mfa", "at": time.time(), "id": factor.pk, "type": factor.type},
        ]
        session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
        session.save()
    return client


def invitation_link(message) -> str:
    """The accept link of an invitation email (path only)."""
    import re

    return re.search(r"https?://[^/\s]+(/invitations/\S+/)", message.body).group(1)


def accept_invitation(client, message):
    """Open the invitation link of ``message`` as ``client``'s user and accept it."""
    link = invitation_link(message)
    assert client.get(link).status_code == 200
    return client.post(link)


def mailed_code(message) -> str:
    """The code allauth mails to prove an address (ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED): entered
    at /accounts/confirm-email/ in the browser that asked for it."""
    import re

    return re.search(r"browser window\.\s+(\S+)", message.body).group(1)


def sign_out_in_browser(page) -> None:
    """Open the header's account menu (a disclosure) and press Sign out, as a person would."""
    page.click("header details.account summary")
    page.click("header form[action='/accounts/logout/'] button")
