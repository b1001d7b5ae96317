"""``aitbc.webhooks.verify`` against headers made as the coordinator makes them (no coordinator needed;
the Swift suite checks the coordinator's own signatures with the same rule)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from aitbc import webhooks
from aitbc.webhooks import WebhookVerificationError

BODY = json.dumps({"id": "evt_1", "type": "api_key.revoked", "created_at": "2026-12-03T12:00:00Z",
                   "data": {"key_id": "key_1"}}, separators=(",", ":"), sort_keys=True)
SECRET = "whsec_test"
NOW = 1_800_000_000


def header(secret: str = SECRET, t: int = NOW, body: str = BODY, extra: str = "") -> str:
    mac = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}{extra}"


def test_a_signature_made_with_the_secret_verifies_and_returns_the_event() -> None:
    event = webhooks.verify(BODY.encode(), header(), SECRET, now=NOW)
    assert event["type"] == "api_key.revoked"


def test_a_changed_body_is_refused() -> None:
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(BODY.replace("key_1", "key_2"), header(), SECRET, now=NOW)


def test_another_secret_is_refused() -> None:
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(BODY, header(secret="whsec_other"), SECRET, now=NOW)


def test_a_timestamp_beyond_the_tolerance_is_refused() -> None:
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(BODY, header(t=NOW - 301), SECRET, now=NOW)
    webhooks.verify(BODY, header(t=NOW - 299), SECRET, now=NOW)


def test_any_of_several_v1_signatures_may_match_during_a_rotation() -> None:
    old = header(secret="whsec_old")
    new_only = header(secret="whsec_new").split(",")[1]
    both = f"{old},{new_only}"
    webhooks.verify(BODY, both, "whsec_old", now=NOW)
    webhooks.verify(BODY, both, "whsec_new", now=NOW)


def test_a_header_without_t_or_v1_is_refused() -> None:
    for bad in ["", "v1=abc", f"t={NOW}", "garbage"]:
        with pytest.raises(WebhookVerificationError):
            webhooks.verify(BODY, bad, SECRET, now=NOW)
