"""``bastion-verify-trust trust.json [--key KEY]``: check a ``/trust.json`` signature without Bastion,
its database or Django (standard library, ``rfc8785`` and ``cryptography`` only).

``--key`` is the public key fetched separately from ``/trust/key`` (PEM, or the base64 of the raw
32 bytes); without it the key inside the envelope is used, which proves integrity, not origin.
Exit status: 0 verified, 1 not verified, 2 unreadable input."""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key


def key_id(raw: bytes) -> str:
    """The same id as ``bastion.audit.format.key_id``: the first 16 bytes of SHA-256 of the key, hex."""
    return hashlib.sha256(raw).hexdigest()[:32]


def load_key(text: str) -> Ed25519PublicKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the key is not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


def verify(envelope: dict[str, Any], key: Ed25519PublicKey | None = None) -> tuple[bool, str]:
    """(verified, one line saying why)."""
    try:
        body, sig = envelope["document"], envelope["signature"]
        if key is None:
            key = load_key(envelope["public_key"]["ed25519_raw_base64"])
        if sig["key_id"] != key_id(key.public_bytes(Encoding.Raw, PublicFormat.Raw)):
            return False, f"signed with key {sig['key_id']}, not the key given"
        key.verify(base64.b64decode(sig["value"], validate=True), rfc8785.dumps(body))
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        return False, f"malformed trust document: {exc}"
    except InvalidSignature:
        return False, "the signature does not match the document and key"
    controls = body.get("controls", [])
    failing = [c["ref_id"] for c in controls if c.get("status") == "fail"]
    return True, f"verified: {len(controls)} controls, {len(failing)} failing{': ' + ', '.join(failing) if failing else ''}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bastion-verify-trust", description=__doc__.split("\n\n")[0])
    parser.add_argument("document", help="a saved /trust.json")
    parser.add_argument("--key", help="the public key file from /trust/key (PEM or base64)")
    args = parser.parse_args(argv)
    try:
        with open(args.document, encoding="utf-8") as handle:
            envelope = json.load(handle)
        key = None
        if args.key:
            with open(args.key, encoding="utf-8") as handle:
                key = load_key(handle.read())
    except (OSError, ValueError, binascii.Error) as exc:
        print(f"bastion-verify-trust: {exc}", file=sys.stderr)
        sys.exit(2)
    ok, message = verify(envelope, key)
    print(message)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
