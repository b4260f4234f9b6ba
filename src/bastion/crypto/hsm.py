"""The ``pkcs11`` KMS provider: key-encryption keys in a hardware security module (PKCS#11).

Each organisation's KEK version is a non-extractable, sensitive AES-256 key object in the token,
labelled ``bastion/org/<organisation>/v<N>``. A data key is wrapped by AES-GCM *inside the token*
with the wrap context (organisation and data-key version) as associated data, so a wrapped key
moved to another organisation, or altered, does not open; the KEK itself never leaves the HSM.
Shredding destroys the token objects: every copy of the wrapped keys (database, backups) is then
unreadable.

Configured by ``BASTION_PKCS11_LIBRARY`` (the module, e.g. SoftHSM2's or a vendor's),
``BASTION_PKCS11_TOKEN_LABEL`` (the token is found by label: slot numbers change) and
``BASTION_PKCS11_PIN`` or ``BASTION_PKCS11_PIN_FILE`` (read when the session logs in, never kept in
settings, never logged). python-pkcs11 is the binding; nothing here re-implements PKCS#11.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pkcs11
from django.conf import settings
from pkcs11 import Attribute, GCMParams, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import PKCS11Error, UserAlreadyLoggedIn

from bastion import config
from bastion.crypto.kms import _OWNER, NONCE_BYTES, UNWRAPS, KeyUnavailable, Wrapped

LABEL_PREFIX = "bastion/org/"
TAG_BITS = 128


class _Token:
    """One logged-in read-write session per process (PKCS#11 state does not survive a fork), used
    under a lock: sessions are not safe to share between threads mid-operation."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._session: Any = None
        self._pid = 0
        self._where: tuple[str, str] = ("", "")

    def session(self) -> Any:
        where = (settings.BASTION_PKCS11_LIBRARY, settings.BASTION_PKCS11_TOKEN_LABEL)
        if self._session is not None and self._pid == os.getpid() and self._where == where:
            return self._session
        library, label = where
        if not library or not label:
            raise KeyUnavailable("the pkcs11 provider needs BASTION_PKCS11_LIBRARY and BASTION_PKCS11_TOKEN_LABEL")
        pin = config.env("BASTION_PKCS11_PIN", "") or ""
        try:
            token = pkcs11.lib(library).get_token(token_label=label)
            try:
                self._session = token.open(user_pin=pin, rw=True)
            except UserAlreadyLoggedIn:  # PKCS#11 logs in per process: another session of ours already has
                self._session = token.open(rw=True)
        except (PKCS11Error, RuntimeError, OSError) as exc:
            # The PIN is never part of the message: only what failed, by its type.
            raise KeyUnavailable(f"the HSM token {label!r} cannot be opened ({type(exc).__name__})") from None
        self._pid, self._where = os.getpid(), where
        return self._session

    @contextlib.contextmanager
    def operation(self, what: str) -> Iterator[None]:
        """Hold the session's lock for one operation; a token failure (a session gone stale, the HSM
        unreachable) drops the session, so the next call opens a new one, and is ``KeyUnavailable``."""
        with self.lock:
            try:
                yield
            except PKCS11Error as exc:
                self.forget()
                raise KeyUnavailable(f"the HSM refused to {what} ({type(exc).__name__})") from None

    def forget(self) -> None:
        with self.lock:
            if self._session is not None and self._pid == os.getpid():
                try:
                    self._session.close()
                except PKCS11Error:
                    pass
            self._session = None


_token = _Token()


def _label(owner: str, version: int | str) -> str:
    if not _OWNER.fullmatch(owner):
        raise KeyUnavailable(f"not an organisation id: {owner!r}")
    return f"{LABEL_PREFIX}{owner}/v{version}"


class Pkcs11KMS:
    name = "pkcs11"

    def _keys(self, label: str) -> list[Any]:
        """The token's AES key objects with this label (two only if two processes made the same version
        at once: each wrap names the one with the lowest id, each unwrap tries them all)."""
        found = _token.session().get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label})
        return sorted(found, key=lambda key: bytes(key[Attribute.ID]))

    def _versions(self, owner: str) -> list[int]:
        prefix = _label(owner, "")
        versions = set()
        for key in _token.session().get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            label = key[Attribute.LABEL]
            if label.startswith(prefix) and label.removeprefix(prefix).isdigit():
                versions.add(int(label.removeprefix(prefix)))
        return sorted(versions)

    def _create(self, label: str) -> Any:
        return _token.session().generate_key(
            KeyType.AES, 256, label=label, id=secrets.token_bytes(16), store=True,
            template={Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True, Attribute.TOKEN: True,
                      Attribute.ENCRYPT: True, Attribute.DECRYPT: True, Attribute.PRIVATE: True})

    def current_kek_id(self, owner: str) -> str:
        with _token.operation("list the KEKs"):
            versions = self._versions(owner)
        return _label(owner, versions[-1] if versions else 1)

    def wrap(self, key: bytes, context: bytes, *, owner: str) -> Wrapped:
        with _token.operation("wrap a data key"):
            versions = self._versions(owner)
            kek_id = _label(owner, versions[-1] if versions else 1)
            kek = (self._keys(kek_id) or [self._create(kek_id)])[0]
            nonce = secrets.token_bytes(NONCE_BYTES)
            sealed = kek.encrypt(key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, context, TAG_BITS))
        return Wrapped(self.name, kek_id, nonce + bytes(sealed))

    def unwrap(self, wrapped: Wrapped, context: bytes) -> bytes:
        UNWRAPS.labels(self.name).inc()
        owner, _, version = wrapped.kek_id.removeprefix(LABEL_PREFIX).partition("/v")
        if not wrapped.kek_id.startswith(LABEL_PREFIX) or not version.isdigit():
            raise KeyUnavailable(f"unknown KEK {wrapped.kek_id!r}")
        nonce, sealed = wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:]
        with _token.operation("unwrap a data key"):
            keks = self._keys(_label(owner, version))
            if not keks:
                raise KeyUnavailable(f"the KEK {wrapped.kek_id} is not in the HSM (destroyed, or never made there)")
            for kek in keks:
                try:  # SoftHSM answers a wrong tag with a plain GeneralError: any failure is "does not open"
                    return bytes(kek.decrypt(sealed, mechanism=Mechanism.AES_GCM,
                                             mechanism_param=GCMParams(nonce, context, TAG_BITS)))
                except PKCS11Error:
                    continue
        raise KeyUnavailable(f"the wrapped data key does not open under {wrapped.kek_id}")

    def new_kek(self, owner: str) -> str:
        """Rotation: the owner's next KEK version; older ones stay until nothing is wrapped under them."""
        with _token.operation("make a KEK"):
            kek_id = _label(owner, (self._versions(owner) or [0])[-1] + 1)
            self._create(kek_id)
        return kek_id

    def destroy(self, owner: str) -> int:
        """Crypto-shredding: destroy every KEK version of ``owner`` in the token. Irreversible."""
        with _token.operation("destroy a KEK"):
            versions = self._versions(owner)
            for version in versions:
                for kek in self._keys(_label(owner, version)):
                    kek.destroy()
        return len(versions)


def forget_session() -> None:
    """Close this process's session (tests that re-initialise the token; a reconfiguration)."""
    _token.forget()
