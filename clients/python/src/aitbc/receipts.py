"""Local verification of AITBC's signed receipts.

A receipt is the signed payload's members beside ``signature`` (``{alg: "Ed25519", key_id, sig}``,
``key_id`` and ``sig`` base64url without padding, ``key_id`` the raw public key) and an optional
``attestations`` list. The signature covers the canonical JSON of the payload: keys sorted, ``(",", ":")``
separators, ``null`` members (and ``null`` list items) removed, non-ASCII escaped as ``json.dumps``
does — AITBC's ``aitbc_crypto.canonical_json``. Verification needs PyNaCl (``pip install aitbc[verify]``).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Dict, Iterable, Optional

from .types import Receipt, ReceiptKey

__all__ = ["canonical_json", "signed_payload", "verify_receipt"]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value if item is not None]
    return value


def canonical_json(payload: Dict[str, Any]) -> str:
    """The text a receipt's signature covers."""
    return json.dumps(_without_nulls(payload), separators=(",", ":"), sort_keys=True)


def signed_payload(receipt: Receipt) -> Dict[str, Any]:
    """The receipt without its signatures: what was signed."""
    return {key: value for key, value in receipt.items() if key not in ("signature", "attestations")}


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_key(key: ReceiptKey) -> Optional[bytes]:
    """The key's 32 bytes from ``public_key`` (base64url, base64 or hex), else from ``key_id``."""
    for text in (key.public_key, key.key_id):
        candidates = []
        try:
            candidates.append(bytes.fromhex(text))
        except ValueError:
            pass
        for decode in (_b64url, base64.b64decode):
            try:
                candidates.append(decode(text))
            except (binascii.Error, ValueError):
                pass
        for candidate in candidates:
            if len(candidate) == 32:
                return candidate
    return None


def verify_receipt(receipt: Receipt, keys: Iterable[ReceiptKey]) -> bool:
    """True when ``receipt["signature"]`` is an Ed25519 signature of the receipt's payload by one of
    ``keys`` (the one whose ``key_id`` it names); False for a changed field, an unknown key or a
    malformed signature."""
    try:
        from nacl.exceptions import BadSignatureError
        from nacl.signing import VerifyKey
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise ImportError("verifying receipts needs PyNaCl: pip install 'aitbc[verify]'") from error
    signature = receipt.get("signature")
    if not isinstance(signature, dict) or signature.get("alg") != "Ed25519":
        return False
    key = next((k for k in keys if k.key_id == signature.get("key_id")), None)
    public = _public_key(key) if key is not None else None
    if public is None:
        return False
    try:
        sig = _b64url(str(signature["sig"]))
        VerifyKey(public).verify(canonical_json(signed_payload(receipt)).encode("utf-8"), sig)
    except (BadSignatureError, KeyError, ValueError, binascii.Error, TypeError):
        return False
    return True
