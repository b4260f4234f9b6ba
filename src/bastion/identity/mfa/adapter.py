"""django-allauth's MFA, configured for Bastion: secrets sealed by the KMS, and no way to drop the
last second factor while a policy requires one."""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator

from bastion.crypto import platform_secrets
from bastion.identity.mfa import policy as mfa_policy

PURPOSE = "mfa_authenticator"


class BastionMFAAdapter(DefaultMFAAdapter):
    def _get_site_name(self) -> str:
        return "Bastion"

    def encrypt(self, text: str) -> str:
        # TOTP seeds and the recovery-code seed: never in clear in the database (or its backups).
        return platform_secrets.seal(text, purpose=PURPOSE)

    def decrypt(self, encrypted_text: str) -> str:
        return platform_secrets.open_sealed(encrypted_text, purpose=PURPOSE)

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        if authenticator.type == Authenticator.Type.RECOVERY_CODES:
            return True
        others = Authenticator.objects.filter(user_id=authenticator.user_id).exclude(pk=authenticator.pk).exclude(
            type=Authenticator.Type.RECOVERY_CODES)
        return others.exists() or not mfa_policy.mfa_required_for(authenticator.user)
