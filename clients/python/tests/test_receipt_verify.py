"""``verify_receipt`` against receipts signed here the way AITBC's ``aitbc_crypto`` signs them
(works without a coordinator; the live receipts are checked in test_jobs.py)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any, Dict

from nacl.signing import SigningKey

from aitbc import ReceiptKey, canonical_json, verify_receipt


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def signed(key: SigningKey, payload: Dict[str, Any]) -> Dict[str, Any]:
    message = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    receipt = dict(payload)
    receipt["signature"] = {"alg": "Ed25519", "key_id": b64url(key.verify_key.encode()),
                            "sig": b64url(key.sign(message).signature)}
    return receipt


def listed(key: SigningKey) -> ReceiptKey:
    public = b64url(key.verify_key.encode())
    return ReceiptKey(key_id=public, alg="Ed25519", public_key=public)


PAYLOAD: Dict[str, Any] = {
    "version": "1.0", "receipt_id": "0f" * 16, "job_id": "job_1", "provider": "gpu-1", "client": "key_1",
    "status": "COMPLETED", "units": 1.5, "unit_type": "gpu_seconds", "unit_price": 0.02, "price": 0.03,
    "started_at": 1796290000, "completed_at": 1796290002,
    "metadata": {"job_payload": {"prompt": "héllo \u2028 \"q\" ✓"}, "job_constraints": {},
                 "result": {"big": 2 ** 70, "tiny": 1e-7}, "metrics": {"duration_ms": 1500}},
}


def test_a_receipt_signed_in_aitbcs_format_verifies() -> None:
    key = SigningKey.generate()
    assert verify_receipt(signed(key, PAYLOAD), [listed(key)])


def test_a_changed_field_fails() -> None:
    key = SigningKey.generate()
    receipt = signed(key, PAYLOAD)
    for change in (("units", 2.0), ("provider", "gpu-2"), ("status", "FAILED")):
        tampered = copy.deepcopy(receipt)
        tampered[change[0]] = change[1]
        assert not verify_receipt(tampered, [listed(key)])
    nested = copy.deepcopy(receipt)
    nested["metadata"]["result"]["big"] += 1
    assert not verify_receipt(nested, [listed(key)])


def test_an_unlisted_key_fails() -> None:
    signer, other = SigningKey.generate(), SigningKey.generate()
    assert not verify_receipt(signed(signer, PAYLOAD), [listed(other)])
    assert not verify_receipt(signed(signer, PAYLOAD), [])


def test_a_listed_key_given_in_hex_verifies() -> None:
    key = SigningKey.generate()
    entry = ReceiptKey(key_id=b64url(key.verify_key.encode()), alg="Ed25519", public_key=key.verify_key.encode().hex())
    assert verify_receipt(signed(key, PAYLOAD), [entry])


def test_attestations_are_not_part_of_the_signed_payload() -> None:
    key = SigningKey.generate()
    receipt = signed(key, PAYLOAD)
    receipt["attestations"] = [{"alg": "Ed25519", "key_id": "x", "sig": "y"}]
    assert verify_receipt(receipt, [listed(key)])


def test_canonical_json_drops_nulls_and_escapes_non_ascii() -> None:
    assert canonical_json({"b": None, "a": "é", "c": [1, None, {"d": None}]}) == '{"a":"\\u00e9","c":[1,{}]}'
