"""Quota and credit refusals, against a scripted server on loopback: their own RateLimitError
subclasses, never retried automatically even when Retry-After is short; a top-up is a PATCH."""

from __future__ import annotations

import asyncio
import json

import pytest

from aitbc import AITBCClient, AsyncAITBCClient, CreditsExhaustedError, QuotaExceededError, RateLimitError
from sdk_helpers import ScriptedServer, error_json

KEY_JSON = {
    "key_id": "key_1", "tenant_id": "t", "name": "n", "role": "client", "scopes": None, "hint": "h",
    "status": "active", "created_at": "2026-11-18T00:00:00Z", "expires_at": None, "revoked_at": None,
    "last_used_at": None, "last_used_from": None, "rate_limit_per_minute": None,
    "previous_secret_valid_until": None, "metadata": {},
    "credits": {"remaining": 500, "refill": None, "next_refill_at": None},
}


def quota_json() -> dict:
    body = error_json("QUOTA_EXCEEDED", "daily quota used up")
    body["error"]["details"] = {"period": "day", "limit": 5, "retry_after_seconds": 30}
    return body


def test_quota_exceeded_is_its_own_rate_limit_error_and_not_retried(scripted: ScriptedServer) -> None:
    scripted.replies = [(429, {"Retry-After": "1"}, quota_json()), (200, {}, KEY_JSON)]
    with pytest.raises(QuotaExceededError) as raised:
        AITBCClient("k", scripted.url, max_retries=3).api_keys.get("key_1")
    assert isinstance(raised.value, RateLimitError)
    assert raised.value.period == "day" and raised.value.retry_after == 1
    assert len(scripted.requests) == 1


def test_credits_exhausted_is_its_own_error_and_not_retried(scripted: ScriptedServer) -> None:
    body = error_json("CREDITS_EXHAUSTED")
    body["error"]["details"] = {"remaining": 0, "cost": 1}
    scripted.replies = [(429, {"Retry-After": "1"}, body), (200, {}, KEY_JSON)]
    with pytest.raises(CreditsExhaustedError) as raised:
        AITBCClient("k", scripted.url, max_retries=3).api_keys.get("key_1")
    assert raised.value.remaining_credits == 0 and raised.value.code == "CREDITS_EXHAUSTED"
    assert len(scripted.requests) == 1


def test_async_client_does_not_retry_quota_refusals(scripted: ScriptedServer) -> None:
    scripted.replies = [(429, {"Retry-After": "1"}, quota_json()), (200, {}, KEY_JSON)]

    async def call() -> None:
        async with AsyncAITBCClient("k", scripted.url, max_retries=3) as client:
            await client.api_keys.get("key_1")

    with pytest.raises(QuotaExceededError):
        asyncio.run(call())
    assert len(scripted.requests) == 1


def test_top_up_patches_the_balance_and_the_key_shows_credits(scripted: ScriptedServer) -> None:
    scripted.replies = [(200, {}, KEY_JSON)]
    key = AITBCClient("k", scripted.url).api_keys.top_up("key_1", 500)
    assert key.credits == {"remaining": 500, "refill": None, "next_refill_at": None}
    assert scripted.requests[0]["method"] == "PATCH"
    assert json.loads(scripted.requests[0]["body"]) == {"credits": {"remaining": 500}}
