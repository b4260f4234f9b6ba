"""Customer-managed keys (BYOK): an organisation's data keys wrapped under a KMS key in the
customer's own AWS account.

Bastion reaches the key through a role in the customer's account that it may assume only with the
organisation's external id (AWS's guard against the confused deputy); the customer grants that role
``kms:Encrypt``, ``kms:Decrypt`` and ``kms:DescribeKey`` on the key, and can take them back, disable
the key or schedule its deletion at any moment. Before each unwrap the key's state is read: only an
``Enabled`` key is used (AWS refuses the others anyway; asking first gives the organisation the exact
reason). Unwrapped data keys stay in memory for ``BASTION_DATA_KEY_CACHE_SECONDS`` at most, which bounds
how long a disabled key's data stays readable. Each wrap and unwrap is announced
(``signals.customer_key_used``) so that it is recorded in the organisation's audit chain.
"""

from __future__ import annotations

import re
import threading
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from django.conf import settings

from bastion.crypto.key_models import CustomerKey
from bastion.crypto.kms import UNWRAPS, KeyUnavailable, Wrapped
from bastion.crypto.signals import customer_key_used

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

NAME = "aws-kms-customer"
KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):key/[0-9a-f-]{36}")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,128}")
UNAVAILABLE_MESSAGE = ("This organisation's own encryption key cannot be used (disabled, deleted, or access to it "
                       "revoked in the organisation's key account): its data is unreadable until the key is restored.")
SESSION_SECONDS = 3600  # AWS's default for an assumed role; renewed five minutes before it ends


class CustomerKeyUnavailable(KeyUnavailable):
    """The organisation's own key cannot be used: disabled, pending deletion, deleted, or Bastion's
    access to it revoked. Requests that need it answer ``customer_key_unavailable``."""


# The refusal met while serving this request (reset per request by ``middleware.py``): a refusal that
# surfaced only as a failed attribute while a response was serialised still answers as one.
_refusal: ContextVar[CustomerKeyUnavailable | None] = ContextVar("customer_key_refusal", default=None)


def region_of(key_arn: str) -> str:
    match = KEY_ARN.fullmatch(key_arn)
    if not match:
        raise CustomerKeyUnavailable(f"not a KMS key ARN: {key_arn!r}")
    return match.group(1)


_clients: dict[tuple[str, str, str], tuple[float, KMSClient]] = {}
_clients_lock = threading.Lock()


def _client(role_arn: str, external_id: str, region: str, organisation_id: str) -> KMSClient:
    """A KMS client with the assumed role's credentials, kept until shortly before they expire."""
    where = (role_arn, external_id, region)
    with _clients_lock:
        cached = _clients.get(where)
        if cached and cached[0] > time.monotonic():
            return cached[1]
    endpoint = settings.BASTION_AWS_KMS_ENDPOINT_URL or None
    sts = boto3.client("sts", endpoint_url=endpoint, region_name=region)
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=f"bastion-{organisation_id}"[:64],
                                  ExternalId=external_id, DurationSeconds=SESSION_SECONDS)["Credentials"]
    client = boto3.client("kms", endpoint_url=endpoint, region_name=region,
                          aws_access_key_id=credentials["AccessKeyId"],
                          aws_secret_access_key=credentials["SecretAccessKey"],
                          aws_session_token=credentials["SessionToken"])
    with _clients_lock:
        _clients[where] = (time.monotonic() + SESSION_SECONDS - 300, client)
    return client


def forget_clients() -> None:
    with _clients_lock:
        _clients.clear()


class CustomerAwsKMS:
    """The provider for one organisation's customer key. Its KEK id is the key's ARN; the role and
    external id come from the organisation's ``CustomerKey`` row (keyring passes them)."""

    name = NAME

    def __init__(self, *, organisation_id: str, key_arn: str, role_arn: str, external_id: str) -> None:
        self.organisation_id, self.key_arn = organisation_id, key_arn
        self.role_arn, self.external_id = role_arn, external_id

    @classmethod
    def for_key(cls, key: CustomerKey) -> CustomerAwsKMS:
        return cls(organisation_id=str(key.organisation_id), key_arn=key.key_arn, role_arn=key.role_arn,
                   external_id=key.external_id)

    def _key_state(self, key_arn: str) -> tuple[KMSClient, str]:
        client = _client(self.role_arn, self.external_id, region_of(key_arn), self.organisation_id)
        return client, str(client.describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"])

    def _call(self, what: str, key_arn: str, operation: Any) -> Any:
        try:
            return self._call_once(what, key_arn, operation)
        except CustomerKeyUnavailable as refusal:
            _refusal.set(refusal)
            raise

    def _call_once(self, what: str, key_arn: str, operation: Any) -> Any:
        try:
            client, state = self._key_state(key_arn)
            if state != "Enabled":
                raise CustomerKeyUnavailable(f"the organisation's own key {key_arn} is {state}: it cannot {what}")
            return operation(client)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            raise CustomerKeyUnavailable(f"the organisation's own key {key_arn} refused to {what} ({code}): "
                                         "disabled, deleted, or Bastion's access to it revoked") from None
        except (BotoCoreError, ParamValidationError) as exc:
            raise CustomerKeyUnavailable(f"the organisation's own key {key_arn} cannot be reached "
                                         f"({type(exc).__name__})") from None

    def state(self) -> str:
        """The key's state as its account reports it (``Enabled``, ``Disabled``, ``PendingDeletion`` …),
        or ``unreachable`` with why."""
        try:
            return self._key_state(self.key_arn)[1]
        except ClientError as exc:
            return f"unreachable ({exc.response['Error']['Code']})"
        except (BotoCoreError, ParamValidationError, KeyUnavailable) as exc:
            return f"unreachable ({type(exc).__name__})"

    def current_kek_id(self, owner: str) -> str:
        return self.key_arn

    def wrap(self, key: bytes, context: bytes, *, owner: str) -> Wrapped:
        blob = self._call("wrap a data key", self.key_arn, lambda client: client.encrypt(
            KeyId=self.key_arn, Plaintext=key, EncryptionContext={"bastion": context.decode()})["CiphertextBlob"])
        customer_key_used.send(CustomerAwsKMS, organisation_id=owner, key_arn=self.key_arn, operation="wrap")
        return Wrapped(self.name, self.key_arn, blob)

    def unwrap(self, wrapped: Wrapped, context: bytes) -> bytes:
        UNWRAPS.labels(self.name).inc()
        material: bytes = self._call("unwrap a data key", wrapped.kek_id, lambda client: client.decrypt(
            KeyId=wrapped.kek_id, CiphertextBlob=wrapped.blob,
            EncryptionContext={"bastion": context.decode()})["Plaintext"])
        customer_key_used.send(CustomerAwsKMS, organisation_id=self.organisation_id, key_arn=wrapped.kek_id,
                               operation="unwrap")
        return material

    def new_kek(self, owner: str) -> str:
        """Rotation re-wraps under the same key: the customer rotates its material in their account."""
        return self.key_arn

    def destroy(self, owner: str) -> int:
        """The key is the customer's: Bastion never deletes it. Shredding deletes the wrapped data keys;
        backups taken earlier stay readable only while the customer keeps their key enabled."""
        return 0


def unavailable_in(exc: BaseException | None) -> CustomerKeyUnavailable | None:
    """The customer key refusal behind ``exc`` (a failed decryption, an unreadable file), or met while
    serving this request, if any."""
    found = _refusal.get()
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, CustomerKeyUnavailable):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return found


def forget_refusal() -> None:
    _refusal.set(None)
