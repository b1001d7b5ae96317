"""Receipts of a live coordinator verified with AITBC's verifier logic (``aitbc_verifier``).

The runner starts the coordinator with OPERATOR_API_KEY, MASTER_API_KEY, CLIENT_API_KEY and
MINER_API_KEY set to the AITBC_TEST_* keys below and AITBC_MAX_POLL_WAIT_SECONDS=1, and points
AITBC_URL at it. Each test runs in a tenant of its own, so no other test's miners or jobs meet it.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
from typing import Any

import httpx
import pytest

from aitbc_verifier import b64url_decode, canonical_json, verify_payload, verify_receipt

URL = os.environ.get("AITBC_URL", "http://127.0.0.1:8000").rstrip("/")
OPERATOR_KEY = os.environ.get("AITBC_TEST_OPERATOR_KEY", "")
CLIENT_KEY = os.environ.get("AITBC_TEST_CLIENT_KEY", "")

# Written by hand, not by json.dumps: every awkward case the canonical form must get right.
PAYLOAD = (
    '{"prompt": "caf\u00e9 \\ud83d\\ude80 \U0001d11e \\u2028 \\u2029 \\"quoted\\" back\\\\slash / tab\\t nl\\n \\u0001 \\u007f",'
    ' "big": 12345678901234567890, "ints": [9007199254740993, -42, 0, -9223372036854775808],'
    ' "floats": [0.1, 1e-7, 1e21, 2.5, -0.0, 1.7976931348623157e308, 5e-324, 0.0001, 0.00001, 123456.789, 1e16, 1.0],'
    ' "nested": {"a": null, "b": [null, {"c": null}, []]}, "empty": {},'
    ' "keys": {"\u00e9": 1, "z": 2, "A": 3, "\\ud83d\\ude00": 4, "\\uffff": 5, "\u2028": 6}}'
)
RESULT = (
    '{"text": "r\u00e9sultat \\ud83e\\udd16 \\u2028\\u2029 \\"\\\\/", "score": 0.30000000000000004,'
    ' "big": 12345678901234567890, "tiny": -1e-300, "none": null, "list": [1, null, 2.5]}'
)


def call(method: str, path: str, key: str | None = None, body: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["X-API-Key"] = key
    return httpx.request(method, URL + path, headers=headers, content=body, timeout=10)


@pytest.fixture()
def tenant() -> dict[str, str]:
    """A tenant of its own with a client key and a miner key."""
    tenant_id = "interop-" + secrets.token_hex(4)
    created = call("POST", "/v1/tenants", OPERATOR_KEY, json.dumps({"tenant_id": tenant_id, "name": tenant_id, "plan": "enterprise"}))
    assert created.status_code == 201, created.text
    master = created.json()["master_key"]["api_key"]
    keys = {}
    for role in ("client", "miner"):
        made = call("POST", "/v1/api-keys", master, json.dumps({"name": "interop " + role, "role": role}))
        assert made.status_code == 201, made.text
        keys[role] = made.json()["api_key"]
    keys["miner_id"] = "interop-gpu"
    registered = call("POST", "/v1/miners/register?miner_id=interop-gpu", keys["miner"], "{}")
    assert registered.status_code == 200, registered.text
    return keys


def run_job(tenant: dict[str, str], report: str, body: str) -> str:
    """Submits PAYLOAD, takes it with the tenant's miner and reports on it."""
    submitted = call("POST", "/v1/jobs", tenant["client"], '{"payload": ' + PAYLOAD + '}')
    assert submitted.status_code == 201, submitted.text
    job_id = submitted.json()["job_id"]
    polled = call("POST", "/v1/miners/poll?miner_id=interop-gpu", tenant["miner"], '{"max_wait_seconds": 1}')
    assert polled.status_code == 200, polled.text
    assert polled.json()["job_id"] == job_id
    reported = call("POST", f"/v1/miners/{job_id}/{report}?miner_id=interop-gpu", tenant["miner"], body)
    assert reported.status_code == 200, reported.text
    return job_id


def receipt_keys() -> list[dict[str, Any]]:
    answer = httpx.get(URL + "/v1/receipts/keys", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def test_a_completed_jobs_receipt_verifies_with_aitbcs_verifier(tenant: dict[str, str]) -> None:
    job_id = run_job(tenant, "result", '{"result": ' + RESULT + ', "metrics": {"duration_ms": 1234, "note": "\\u2028"}}')
    answer = call("GET", f"/v1/jobs/{job_id}/receipt", tenant["client"])
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    keys = receipt_keys()
    assert verify_receipt(receipt, keys)
    current = [k for k in keys if k["current"]]
    assert len(current) == 1 and current[0]["key_id"] == receipt["signature"]["key_id"]
    assert len(b64url_decode(current[0]["public_key"])) == 32

    assert receipt["version"] == "1.0"
    assert receipt["job_id"] == job_id
    assert receipt["provider"] == "interop-gpu"
    assert receipt["status"] == "COMPLETED"
    assert receipt["units"] == 1.234 and receipt["unit_type"] == "gpu_seconds"
    assert receipt["unit_price"] == 0.02 and receipt["price"] == round(1.234 * 0.02, 6)
    assert isinstance(receipt["started_at"], int) and receipt["completed_at"] >= receipt["started_at"]
    sent = json.loads(PAYLOAD)
    got = receipt["metadata"]["job_payload"]
    assert got["prompt"] == sent["prompt"]
    assert got["keys"] == sent["keys"]
    assert got["ints"] == sent["ints"]
    # Every number as Python reads it: the integer beyond 64 bits in full, -0.0 and 1.0 still floats.
    assert got["big"] == 12345678901234567890 and isinstance(got["big"], int)
    assert [repr(x) for x in got["floats"]] == [repr(x) for x in sent["floats"]]
    assert json.dumps(got, sort_keys=True) == json.dumps(sent, sort_keys=True)
    assert receipt["metadata"]["result"]["text"] == json.loads(RESULT)["text"]
    assert receipt["metadata"]["result"]["big"] == 12345678901234567890
    assert '"big":12345678901234567890,' in answer.text
    # units is duration_ms / 1000 and price round(units * unit_price, 6): floats in Python.
    assert isinstance(receipt["units"], float) and isinstance(receipt["unit_price"], float)
    assert isinstance(receipt["price"], float)

    # The text served is exactly what Python's json.dumps writes of it: the canonical form, nulls kept.
    assert json.dumps(json.loads(answer.text), sort_keys=True, separators=(",", ":")) == answer.text

    # The result route and the list carry the same receipt.
    result = call("GET", f"/v1/jobs/{job_id}/result", tenant["client"]).json()
    assert verify_receipt(result["receipt"], keys)
    listed = call("GET", f"/v1/jobs/{job_id}/receipts", tenant["client"]).json()["items"]
    assert listed == [receipt]


def test_a_changed_field_fails_verification(tenant: dict[str, str]) -> None:
    job_id = run_job(tenant, "result", '{"result": ' + RESULT + ', "metrics": {"duration_ms": 2000}}')
    receipt = call("GET", f"/v1/jobs/{job_id}/receipt", tenant["client"]).json()
    keys = receipt_keys()
    assert verify_receipt(receipt, keys)
    # 2000 / 1000 is 2.0 in Python: a float, not 2.
    assert receipt["units"] == 2.0 and isinstance(receipt["units"], float)
    for change in (
        lambda r: r.__setitem__("price", r["price"] + 0.01),
        lambda r: r.__setitem__("units", r["units"] + 1),
        lambda r: r.__setitem__("provider", "someone-else"),
        lambda r: r["metadata"]["job_payload"].__setitem__("prompt", r["metadata"]["job_payload"]["prompt"] + " "),
        lambda r: r["metadata"]["job_payload"]["nested"].__setitem__("a", 0),
        lambda r: r["metadata"]["result"].__setitem__("big", r["metadata"]["result"]["big"] + 1e5),
        lambda r: r["signature"].__setitem__("sig", r["signature"]["sig"][:-2] + ("AA" if r["signature"]["sig"][-2:] != "AA" else "BA")),
    ):
        changed = copy.deepcopy(receipt)
        change(changed)
        assert not verify_receipt(changed, keys)
    # AITBC's canonical form leaves nulls out: dropping one changes nothing that was signed.
    unchanged = copy.deepcopy(receipt)
    del unchanged["metadata"]["job_payload"]["nested"]["a"]
    assert verify_receipt(unchanged, keys)
    # Another key never verifies it.
    payload = {k: v for k, v in receipt.items() if k != "signature"}
    assert not verify_payload(payload, receipt["signature"], bytes(32 * [7]))
    assert canonical_json(payload) == canonical_json(json.loads(json.dumps(payload)))


def test_a_failed_jobs_receipt_carries_its_status_and_verifies(tenant: dict[str, str]) -> None:
    job_id = run_job(tenant, "fail", '{"error_code": "OOM", "error_message": "out of m\u00e9mory \\u2028", "metrics": {"units": 3, "unit_price": 0.1}}')
    receipt = call("GET", f"/v1/jobs/{job_id}/receipt", tenant["client"]).json()
    assert receipt["status"] == "FAILED"
    assert receipt["units"] == 3 and receipt["price"] == pytest.approx(0.3)
    assert isinstance(receipt["units"], float)
    assert verify_receipt(receipt, receipt_keys())


def test_receipts_are_visible_only_as_their_job_is(tenant: dict[str, str]) -> None:
    job_id = run_job(tenant, "result", '{"result": 1}')
    queued = call("POST", "/v1/jobs", tenant["client"], '{"payload": {"n": 1}}').json()["job_id"]
    assert call("GET", f"/v1/jobs/{queued}/receipt", tenant["client"]).status_code == 404
    assert call("GET", f"/v1/jobs/{queued}/receipts", tenant["client"]).json() == {"items": []}
    # test-tenant's client key does not see another tenant's job, nor its receipt.
    other = call("GET", f"/v1/jobs/{job_id}/receipt", CLIENT_KEY)
    assert other.status_code == 404
    assert "signature" not in other.text
    assert call("GET", f"/v1/jobs/{job_id}/receipt").status_code == 401
    # The keys need no API key.
    assert httpx.get(URL + "/v1/receipts/keys", timeout=10).status_code == 200


def test_the_payload_reaches_the_miner_and_the_result_the_client_number_for_number(tenant: dict[str, str]) -> None:
    submitted = call("POST", "/v1/jobs", tenant["client"], '{"payload": ' + PAYLOAD + '}')
    assert submitted.status_code == 201, submitted.text
    job_id = submitted.json()["job_id"]
    expected = json.dumps(json.loads(PAYLOAD), sort_keys=True)
    polled = call("POST", "/v1/miners/poll?miner_id=interop-gpu", tenant["miner"], '{"max_wait_seconds": 1}')
    assert polled.status_code == 200, polled.text
    assert json.dumps(polled.json()["payload"], sort_keys=True) == expected
    assert '"big":12345678901234567890,' in polled.text
    reported = call("POST", f"/v1/miners/{job_id}/result?miner_id=interop-gpu", tenant["miner"], '{"result": ' + RESULT + '}')
    assert reported.status_code == 200, reported.text
    result = call("GET", f"/v1/jobs/{job_id}/result", tenant["client"])
    assert json.dumps(result.json()["result"], sort_keys=True) == json.dumps(json.loads(RESULT), sort_keys=True)
