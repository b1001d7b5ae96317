"""Verifying webhooks the coordinator sends.

Each delivery carries ``AITBC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``
(two ``v1`` values while a rotated secret's grace period lasts). Verify over the raw body exactly as
received, before parsing it::

    from aitbc import webhooks

    event = webhooks.verify(request.body, request.headers["AITBC-Signature"], "whsec_…")
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Dict, List, Optional, Union

__all__ = ["WebhookVerificationError", "verify", "sign"]


class WebhookVerificationError(Exception):
    """The webhook's signature header is malformed, too old or too new, or matches no signature."""


def _parse(header: str) -> "tuple[Optional[int], List[str]]":
    timestamp: Optional[int] = None
    signatures: List[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
        elif name == "v1":
            signatures.append(value.strip().lower())
    return timestamp, signatures


def sign(payload: Union[bytes, str], secret: str, timestamp: int) -> str:
    """The hex ``v1`` signature of ``payload`` at ``timestamp`` under ``secret`` (as the coordinator makes it)."""
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(payload: Union[bytes, str], header: str, secret: str, tolerance: float = 300,
           now: Optional[float] = None) -> Dict[str, Any]:
    """Checks ``header`` (the ``AITBC-Signature`` value) against ``payload`` (the raw body) and
    ``secret``; returns the parsed event ``{id, type, created_at, data}``. Raises
    :class:`WebhookVerificationError` when the header is malformed, its timestamp is further than
    ``tolerance`` seconds from now, or no ``v1`` signature matches (compared in constant time)."""
    timestamp, signatures = _parse(header or "")
    if timestamp is None or not signatures:
        raise WebhookVerificationError("the AITBC-Signature header has no t= or no v1=")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError("the webhook's timestamp is outside the tolerance")
    expected = sign(payload, secret, timestamp)
    matched = False
    for candidate in signatures:
        if hmac.compare_digest(candidate, expected):
            matched = True
    if not matched:
        raise WebhookVerificationError("no v1 signature matches the payload under this secret")
    body = payload.decode() if isinstance(payload, (bytes, bytearray)) else payload
    return json.loads(body)
