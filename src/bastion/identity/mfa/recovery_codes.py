"""Recovery codes stored as keyed hashes, shown once.

allauth keeps a recovery-code *seed* (which we would seal with the KMS) and derives the codes from
it whenever asked, so whoever can open the seed can read every code. Here each code is random and
only its HMAC-SHA-256 (keyed by a key file outside the database) is kept; the codes themselves are
kept sealed only until their owner has been shown them, once, and then forgotten. Without the key,
a database copy cannot even be brute-forced (8 digits would fall to an unkeyed hash in seconds).

allauth has no hook for the storage of recovery codes, so ``install()`` (called at start-up)
points the two places that name its class at this subclass; its views and flows are unchanged.
"""

from __future__ import annotations

import hmac
import json
import secrets

from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal import auth as allauth_codes
from allauth.mfa.recovery_codes.internal import flows as allauth_flows
from allauth.mfa.utils import decrypt, encrypt
from django.db import transaction

from bastion.crypto import platform_secrets

PURPOSE = "mfa_recovery_code"


def _digest(code: str) -> str:
    return platform_secrets.keyed_digest("".join(code.split()), purpose=PURPOSE)


class HashedRecoveryCodes(allauth_codes.RecoveryCodes):
    instance: Authenticator

    @classmethod
    def activate(cls, user) -> HashedRecoveryCodes:
        instance = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.RECOVERY_CODES).first()
        if instance:
            return cls(instance)
        digits = app_settings.RECOVERY_CODE_DIGITS
        codes = [f"{secrets.randbelow(10 ** digits):0{digits}d}" for _ in range(app_settings.RECOVERY_CODE_COUNT)]
        instance = Authenticator(user=user, type=Authenticator.Type.RECOVERY_CODES, data={
            "hashes": [_digest(code) for code in codes], "used_mask": 0,
            "unshown": encrypt(json.dumps(codes)),  # until their owner has seen them once
        })
        instance.save()
        return cls(instance)

    def _hashed(self) -> bool:
        return "hashes" in self.instance.data

    def generate_codes(self) -> list[str]:
        if not self._hashed():
            return super().generate_codes()
        unshown = self.instance.data.get("unshown")
        if unshown:
            return json.loads(decrypt(unshown))
        return ["*" * app_settings.RECOVERY_CODE_DIGITS] * len(self.instance.data["hashes"])

    def get_unused_codes(self) -> list[str]:
        if not self._hashed():
            return super().get_unused_codes()
        unused = [code for i, code in enumerate(self.generate_codes()) if not self._is_code_used(i)]
        if self.did_view and "unshown" in self.instance.data:
            # allauth marks the codes viewed, then reads them to show them: this is that last time.
            del self.instance.data["unshown"]
            self.instance.save(update_fields=["data"])
        return unused

    @transaction.atomic
    def validate_code(self, code: str) -> bool:
        if not self._hashed():
            return super().validate_code(code)
        self.instance = Authenticator.objects.select_for_update().get(pk=self.instance.pk)
        offered = _digest(code)
        for i, stored in enumerate(self.instance.data["hashes"]):
            if not self._is_code_used(i) and hmac.compare_digest(stored, offered):
                self._mark_code_used(i)
                return True
        return False


def install() -> None:
    allauth_codes.RecoveryCodes = HashedRecoveryCodes  # what Authenticator.wrap() looks up
    allauth_flows.RecoveryCodes = HashedRecoveryCodes  # what generating codes calls
