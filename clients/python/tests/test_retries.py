"""Retries, against a scripted server on loopback: 429 and 503 are retried after Retry-After,
nothing else is, and a redirect is never followed with the key."""

from __future__ import annotations

import time

import pytest

from aitbc import AITBCClient, __version__
from aitbc.exceptions import RateLimitError, ServerError, TransportError
from sdk_helpers import JOB_JSON, ScriptedServer, error_json

LIMITS = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1796290655"}


def test_429_is_retried_after_retry_after(scripted: ScriptedServer) -> None:
    scripted.replies = [(429, {"Retry-After": "1", **LIMITS}, error_json("RATE_LIMIT_EXCEEDED")), (201, {}, JOB_JSON)]
    started = time.monotonic()
    job = AITBCClient("k", scripted.url).jobs.create(payload={"n": 1}, idempotency_key="order-7")
    assert job.job_id == "job_1"
    assert time.monotonic() - started >= 1.0
    assert len(scripted.requests) == 2
    assert [r["headers"].get("Idempotency-Key") for r in scripted.requests] == ["order-7", "order-7"]
    assert scripted.requests[0]["body"] == scripted.requests[1]["body"]


def test_503_is_retried(scripted: ScriptedServer) -> None:
    scripted.replies = [(503, {"Retry-After": "0"}, error_json("STORAGE_UNAVAILABLE")), (200, {}, JOB_JSON)]
    assert AITBCClient("k", scripted.url).jobs.get("job_1").state == "QUEUED"
    assert len(scripted.requests) == 2


def test_retries_stop_after_max_retries(scripted: ScriptedServer) -> None:
    scripted.replies = [(429, {"Retry-After": "0", **LIMITS}, error_json("RATE_LIMIT_EXCEEDED"))]
    with pytest.raises(RateLimitError) as raised:
        AITBCClient("k", scripted.url, max_retries=2).me()
    assert len(scripted.requests) == 3
    assert raised.value.retry_after == 1 and raised.value.limit == 60 and raised.value.remaining == 0
    assert raised.value.reset == 1796290655


def test_a_retry_after_longer_than_the_bound_is_raised_at_once(scripted: ScriptedServer) -> None:
    scripted.replies = [(429, {"Retry-After": "3600"}, error_json("QUOTA_EXCEEDED"))]
    started = time.monotonic()
    with pytest.raises(RateLimitError) as raised:
        AITBCClient("k", scripted.url, max_retry_delay=60).me()
    assert raised.value.retry_after == 3600 and raised.value.code == "QUOTA_EXCEEDED"
    assert len(scripted.requests) == 1 and time.monotonic() - started < 2


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_post_failing_with_other_5xx_is_not_retried(scripted: ScriptedServer, status: int) -> None:
    scripted.replies = [(status, {}, error_json("INTERNAL_ERROR")), (201, {}, JOB_JSON)]
    with pytest.raises(ServerError) as raised:
        AITBCClient("k", scripted.url).jobs.create(payload={"n": 1})
    assert raised.value.status == status and len(scripted.requests) == 1


def test_other_errors_are_not_retried(scripted: ScriptedServer) -> None:
    scripted.replies = [(401, {}, error_json("INVALID_API_KEY")), (200, {}, JOB_JSON)]
    with pytest.raises(Exception):
        AITBCClient("k", scripted.url).jobs.get("job_1")
    assert len(scripted.requests) == 1


def test_a_redirect_is_not_followed_with_the_key(scripted: ScriptedServer) -> None:
    elsewhere = ScriptedServer()
    try:
        elsewhere.replies = [(200, {}, JOB_JSON)]
        scripted.replies = [(302, {"Location": elsewhere.url + "/v1/jobs/job_1"}, None)]
        with pytest.raises(TransportError) as raised:
            AITBCClient("k", scripted.url).jobs.get("job_1")
        assert "redirected" in raised.value.message and elsewhere.requests == []
    finally:
        elsewhere.close()


def test_requests_carry_the_key_user_agent_and_miner_id(scripted: ScriptedServer) -> None:
    scripted.replies = [(204, {}, None)]
    assert AITBCClient("the-key", scripted.url, tenant_id="acme").miners.poll(miner_id="gpu 1/a",
                                                                              max_wait_seconds=0) is None
    headers = scripted.requests[0]["headers"]
    assert headers["X-API-Key"] == "the-key" and headers["X-Miner-ID"] == "gpu 1/a" and headers["X-Tenant-ID"] == "acme"
    assert headers["User-Agent"] == f"aitbc-python/{__version__}" and __version__ == "0.1.0"


def test_ids_are_escaped_in_paths(scripted: ScriptedServer) -> None:
    scripted.replies = [(200, {}, JOB_JSON)]
    AITBCClient("k", scripted.url).jobs.get("../api-keys")
    assert scripted.requests[0]["path"] == "/v1/jobs/..%2Fapi-keys"


def test_an_answer_that_is_not_the_contracts_json_is_a_transport_error(scripted: ScriptedServer) -> None:
    scripted.replies = [(200, {}, {"unexpected": True})]
    with pytest.raises(TransportError) as raised:
        AITBCClient("k", scripted.url).jobs.get("job_1")
    assert raised.value.status == 200
