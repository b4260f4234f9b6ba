"""Key-encryption keys (KEKs) live in a KMS, never in the database.

Each organisation has its own KEK, versioned, which wraps that organisation's data keys. Keeping
it outside the database is what makes crypto-shredding real: destroying an organisation's KEK
leaves its ciphertexts unreadable in the database *and in every backup of it*.

``local``: AES-256-GCM KEKs in ``$BASTION_DATA_DIR/keys/orgs/<organisation>-v<N>.key`` (0600).
``aws-kms``: one AWS KMS key per organisation and version, named by the alias
``alias/bastion/org/<organisation>/v<N>``.
``pkcs11``: a non-extractable AES-256 key object per organisation and version in an HSM (``hsm.py``).
Every unwrap is counted. ``BASTION_KMS`` picks the provider that wraps; a wrapped key is always
unwrapped by the provider that wrapped it, so rotation can move an installation to another one.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from prometheus_client import Counter

from bastion.crypto import keyfiles

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

UNWRAPS = Counter("bastion_crypto_key_unwraps", "Data keys unwrapped by the KMS", ["provider"])
NONCE_BYTES = 12
_OWNER = re.compile(r"[0-9a-f-]{36}")


class KeyUnavailable(Exception):
    """A wrapped key cannot be unwrapped: wrong KEK, altered, or its KEK was destroyed."""


@dataclass(frozen=True)
class Wrapped:
    provider: str
    kek_id: str
    blob: bytes


class LocalKMS:
    name = "local"

    def _directory(self) -> Path:
        return keyfiles.key_directory() / "orgs"

    def _versions(self, owner: str) -> list[int]:
        directory = self._directory()
        if not directory.is_dir():
            return []
        pattern = re.compile(rf"{re.escape(owner)}-v(\d+)\.key")
        return sorted(int(m.group(1)) for p in directory.iterdir() if (m := pattern.fullmatch(p.name)))

    def current_kek_id(self, owner: str) -> str:
        versions = self._versions(owner)
        return f"{owner}/v{versions[-1] if versions else 1}"

    def _kek(self, kek_id: str, *, create: bool) -> bytes:
        owner, _, version = kek_id.partition("/")
        if not _OWNER.fullmatch(owner) or not re.fullmatch(r"v\d+", version):
            raise KeyUnavailable(f"unknown KEK {kek_id!r}")
        name = f"orgs/{owner}-{version}.key"
        if not create and not (keyfiles.key_directory() / name).exists():
            raise KeyUnavailable(f"the KEK {kek_id} does not exist (destroyed, or never made here)")
        return keyfiles.read_or_create(name)

    def wrap(self, key: bytes, context: bytes, *, owner: str) -> Wrapped:
        kek_id = self.current_kek_id(owner)
        nonce = secrets.token_bytes(NONCE_BYTES)
        return Wrapped(self.name, kek_id, nonce + AESGCM(self._kek(kek_id, create=True)).encrypt(nonce, key, context))

    def unwrap(self, wrapped: Wrapped, context: bytes) -> bytes:
        UNWRAPS.labels(self.name).inc()
        try:
            kek = self._kek(wrapped.kek_id, create=False)
            return AESGCM(kek).decrypt(wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:], context)
        except InvalidTag as exc:
            raise KeyUnavailable("the wrapped data key does not open under its KEK") from exc

    def new_kek(self, owner: str) -> str:
        """Rotation: the owner's next KEK version; older ones stay until nothing is wrapped under them."""
        kek_id = f"{owner}/v{(self._versions(owner) or [0])[-1] + 1}"
        self._kek(kek_id, create=True)
        return kek_id

    def destroy(self, owner: str) -> int:
        """Crypto-shredding: overwrite and remove every KEK version of ``owner``. Irreversible."""
        destroyed = 0
        for version in self._versions(owner):
            path = self._directory() / f"{owner}-v{version}.key"
            with open(path, "r+b") as handle:
                handle.write(secrets.token_bytes(path.stat().st_size))
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
            destroyed += 1
        return destroyed


_clients: dict[tuple[str | None, str], KMSClient] = {}
_clients_lock = threading.Lock()


def _aws_client() -> KMSClient:
    """One boto3 KMS client per endpoint and region, made on first use (boto3 clients are thread-safe,
    creating them is not)."""
    where = (settings.BASTION_AWS_KMS_ENDPOINT_URL or None, settings.BASTION_AWS_REGION)
    with _clients_lock:
        if where not in _clients:
            _clients[where] = boto3.client("kms", endpoint_url=where[0], region_name=where[1])
        return _clients[where]


class AwsKMS:
    """The KEK id is the version's alias: readable, and once ``destroy`` has removed the aliases no
    wrapped key (from the database or a backup) names a usable key any more."""

    name = "aws-kms"
    PENDING_DAYS = 7  # the shortest deletion window AWS KMS allows

    def _alias(self, owner: str, version: int | str) -> str:
        if not _OWNER.fullmatch(owner):
            raise KeyUnavailable(f"not an organisation id: {owner!r}")
        return f"alias/bastion/org/{owner}/v{version}"

    def _versions(self, owner: str) -> dict[int, str]:
        """version -> KMS key id, oldest first."""
        prefix = self._alias(owner, "")
        found = {}
        for page in _aws_client().get_paginator("list_aliases").paginate():
            for alias in page["Aliases"]:
                number = alias["AliasName"].removeprefix(prefix)
                if alias["AliasName"].startswith(prefix) and number.isdigit():
                    found[int(number)] = alias["TargetKeyId"]
        return dict(sorted(found.items()))

    def _create(self, owner: str, version: int) -> str:
        client = _aws_client()
        key_id = client.create_key(
            Description=f"Bastion key-encryption key v{version} of organisation {owner}",
            Tags=[{"TagKey": "bastion:organisation", "TagValue": owner},
                  {"TagKey": "bastion:kek-version", "TagValue": str(version)}],
        )["KeyMetadata"]["KeyId"]
        alias = self._alias(owner, version)
        try:
            client.create_alias(AliasName=alias, TargetKeyId=key_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "AlreadyExistsException":
                raise
            # Another process made this version first: use theirs, drop ours.
            client.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=self.PENDING_DAYS)
        return alias

    def current_kek_id(self, owner: str) -> str:
        versions = self._versions(owner)
        return self._alias(owner, max(versions) if versions else 1)

    def wrap(self, key: bytes, context: bytes, *, owner: str) -> Wrapped:
        versions = self._versions(owner)
        kek_id = self._alias(owner, max(versions)) if versions else self._create(owner, 1)
        blob = _aws_client().encrypt(KeyId=kek_id, Plaintext=key, EncryptionContext={"bastion": context.decode()})
        return Wrapped(self.name, kek_id, blob["CiphertextBlob"])

    def unwrap(self, wrapped: Wrapped, context: bytes) -> bytes:
        UNWRAPS.labels(self.name).inc()
        try:
            return _aws_client().decrypt(KeyId=wrapped.kek_id, CiphertextBlob=wrapped.blob,
                                         EncryptionContext={"bastion": context.decode()})["Plaintext"]
        except ClientError as exc:
            raise KeyUnavailable(f"AWS KMS refused to unwrap a data key under {wrapped.kek_id} "
                                 f"({exc.response['Error']['Code']}): altered, not this organisation's, "
                                 "or its KEK is disabled or destroyed") from exc
        except ParamValidationError:
            raise KeyUnavailable(f"not a wrapped key AWS KMS can open (KEK {wrapped.kek_id!r})") from None
        except BotoCoreError as exc:  # unreachable, timed out, no credentials
            raise KeyUnavailable(f"AWS KMS is unavailable ({type(exc).__name__})") from exc

    def new_kek(self, owner: str) -> str:
        """Rotation: the owner's next KEK version; older ones stay until nothing is wrapped under them."""
        return self._create(owner, max(self._versions(owner), default=0) + 1)

    def destroy(self, owner: str) -> int:
        """Crypto-shredding: disable every KEK version of ``owner``, schedule its deletion after the
        shortest window AWS allows, and remove its alias. Irreversible once the window has passed."""
        client = _aws_client()
        versions = self._versions(owner)
        for version, key_id in versions.items():
            if client.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] != "PendingDeletion":  # not on a retry
                client.disable_key(KeyId=key_id)
                client.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=self.PENDING_DAYS)
            client.delete_alias(AliasName=self._alias(owner, version))  # last, so a failed run can be retried
        return len(versions)


class Provider(Protocol):
    name: str

    def current_kek_id(self, owner: str) -> str: ...
    def wrap(self, key: bytes, context: bytes, *, owner: str) -> Wrapped: ...
    def unwrap(self, wrapped: Wrapped, context: bytes) -> bytes: ...
    def new_kek(self, owner: str) -> str: ...
    def destroy(self, owner: str) -> int: ...


PROVIDER_NAMES = ("local", "aws-kms", "pkcs11")


def provider_for(name: str) -> Provider:
    """The provider that wrapped a key (``Wrapped.provider``), to unwrap it with."""
    if name == "local":
        return LocalKMS()
    if name == "aws-kms":
        return AwsKMS()
    if name == "pkcs11":
        from bastion.crypto.hsm import Pkcs11KMS  # loads the PKCS#11 binding only where an HSM is used

        return Pkcs11KMS()
    raise KeyUnavailable(f"unknown KMS provider {name!r}")


def provider() -> Provider:
    """The configured provider (``BASTION_KMS``): the one new keys are wrapped with."""
    return provider_for(settings.BASTION_KMS)
