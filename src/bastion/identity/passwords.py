"""The password policy (NIST SP 800-63B §5.1.1.2) and the hashers.

Length is what counts: at least ``BASTION_PASSWORD_MIN_LENGTH`` (12) characters, up to 256, any
characters, no composition rules. A password is refused if it is on a list of over 100,000
commonly used and breached passwords shipped with Bastion, or if it contains the user's email
address (or its local part) or name. Passwords are hashed with Argon2id; older PBKDF2 hashes still
verify and are replaced by Argon2id at the next successful sign-in (Django rehashes on login when
the first hasher differs).
"""

from __future__ import annotations

import hashlib
import mmap
import re
import threading
from pathlib import Path

from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ValidationError

LIST_FILE = Path(__file__).with_name("data") / "common-passwords.bin"
RECORD = 8  # bytes: the first 8 of SHA-256 of the lower-cased password (see scripts/build-password-list)
MAX_LENGTH = 256  # long passphrases welcome; the bound keeps hashing a request's body cheap


class BastionArgon2Hasher(Argon2PasswordHasher):
    """Argon2id with RFC 9106's second recommended setting (t=3, 64 MiB, p=4), also argon2-cffi's
    default: about 100 ms a hash here, above OWASP's minimum (t=2, 19 MiB, p=1)."""

    algorithm = "argon2"
    time_cost = 3
    memory_cost = 64 * 1024
    parallelism = 4


class _CommonPasswords:
    """Binary search in the sorted, memory-mapped list: nothing is read into memory up front, and
    the pages a lookup touches (about 17) are shared by every process through the page cache."""

    def __init__(self, path: Path):
        self.path = path
        self._map: mmap.mmap | None = None
        self._lock = threading.Lock()

    def _mapped(self) -> mmap.mmap:
        with self._lock:
            if self._map is None:
                with open(self.path, "rb") as handle:
                    self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            return self._map

    def __len__(self) -> int:
        return len(self._mapped()) // RECORD

    def __contains__(self, password: str) -> bool:
        needle = hashlib.sha256(password.lower().encode()).digest()[:RECORD]
        data = self._mapped()
        low, high = 0, len(data) // RECORD
        while low < high:
            middle = (low + high) // 2
            record = data[middle * RECORD:(middle + 1) * RECORD]
            if record == needle:
                return True
            if record < needle:
                low = middle + 1
            else:
                high = middle
        return False


COMMON_PASSWORDS = _CommonPasswords(LIST_FILE)


class LengthValidator:
    def __init__(self, min_length: int = 12, max_length: int = MAX_LENGTH):
        self.min_length, self.max_length = min_length, max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(f"Use at least {self.min_length} characters; a few words make a good password.",
                                  code="password_too_short")
        if len(password) > self.max_length:
            raise ValidationError(f"Use at most {self.max_length} characters.", code="password_too_long")

    def get_help_text(self) -> str:
        return f"At least {self.min_length} characters, any you like; a few words make a good password."


class CommonPasswordValidator:
    def validate(self, password: str, user=None) -> None:
        if password.strip() in COMMON_PASSWORDS or password in COMMON_PASSWORDS:
            raise ValidationError("This password is on a list of common or breached passwords; choose another.",
                                  code="password_common")

    def get_help_text(self) -> str:
        return "Not a commonly used or previously breached password."


class PersonalDataValidator:
    """Refuses a password containing the user's email address, its local part, or a name of theirs
    (parts shorter than 3 characters are ignored: they occur in too many words)."""

    def validate(self, password: str, user=None) -> None:
        if user is None:
            return
        email = (getattr(user, "email", "") or "").lower()
        parts = {email, email.split("@")[0]}
        for attribute in ("first_name", "last_name"):
            name = (getattr(user, attribute, "") or "").lower()
            parts |= {name, *re.split(r"[\s.'-]+", name)}
        lowered = password.lower()
        if any(len(part) >= 3 and part in lowered for part in parts):
            raise ValidationError("The password must not contain your email address or your name.",
                                  code="password_personal")

    def get_help_text(self) -> str:
        return "Not containing your email address or your name."
