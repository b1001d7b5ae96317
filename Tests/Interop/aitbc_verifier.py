"""AITBC's receipt verification, written from its public format (package ``aitbc_crypto``).

A receipt is a JSON object; its ``signature`` is ``{alg: "Ed25519", key_id, sig}`` with the public
key and the signature in unpadded base64url. The signed message is the canonical JSON of the
receipt without ``signature`` (and ``attestations``): ``None`` members and list elements removed
at every depth, then ``json.dumps(sort_keys=True, separators=(",", ":"))`` (``ensure_ascii``).
Only httpx's JSON and PyNaCl are used; nothing from the coordinator's code.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey


def remove_none(value: Any) -> Any:
    """The value without ``None`` members or list elements, at every depth."""
    if isinstance(value, dict):
        return {k: remove_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [remove_none(x) for x in value if x is not None]
    return value


def canonical_json(payload: dict[str, Any]) -> str:
    """The text that is signed."""
    return json.dumps(remove_none(payload), separators=(",", ":"), sort_keys=True)


def b64url_decode(text: str) -> bytes:
    """Unpadded (or padded) base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def verify_payload(payload: dict[str, Any], signature: dict[str, Any], verify_key: bytes) -> bool:
    """Whether ``signature`` signs ``payload`` with ``verify_key`` (AITBC's ``ReceiptVerifier.verify``)."""
    if signature.get("alg") != "Ed25519":
        return False
    try:
        sig = b64url_decode(signature["sig"])
    except (KeyError, ValueError, TypeError):
        return False
    try:
        VerifyKey(verify_key).verify(canonical_json(payload).encode("utf-8"), sig)
        return True
    except BadSignatureError:
        return False


def verify_receipt(receipt: dict[str, Any], trusted_keys: list[dict[str, Any]]) -> bool:
    """Whether ``receipt`` is signed by one of ``trusted_keys`` (``GET /v1/receipts/keys`` items)."""
    signature = receipt.get("signature")
    if not isinstance(signature, dict):
        return False
    keys = {k["key_id"]: b64url_decode(k["public_key"]) for k in trusted_keys if k.get("alg") == "Ed25519"}
    key = keys.get(signature.get("key_id"))
    if key is None:
        return False
    payload = {k: v for k, v in receipt.items() if k not in ("signature", "attestations")}
    return verify_payload(payload, signature, key)
