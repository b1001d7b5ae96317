"""The key never shows: not in logs (httpx and httpcore at DEBUG), not in ``repr``, not in errors."""

from __future__ import annotations

import logging

import pytest

from aitbc import AITBCClient, AsyncAITBCClient
from aitbc.exceptions import AITBCError
from sdk_helpers import FreshTenant, ScriptedServer, error_json, JOB_JSON


def test_key_is_not_in_repr() -> None:
    secret = "aitbc_client_SuperSecretValue123456"
    for client in (AITBCClient(secret, "http://127.0.0.1:9"), AsyncAITBCClient(secret, "http://127.0.0.1:9")):
        assert secret not in repr(client) and secret not in str(client)
        assert secret not in repr(vars(client)) and secret not in repr(vars(client._core))


def test_key_is_not_logged(tenant: FreshTenant, scripted: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    scripted.replies = [(429, {"Retry-After": "0"}, error_json("RATE_LIMIT_EXCEEDED")), (200, {}, JOB_JSON)]
    AITBCClient(tenant.client_key, scripted.url).jobs.get("job_1")
    client = tenant.client()
    job = client.jobs.create(payload={"n": 1})
    client.jobs.cancel(job.job_id)
    errors = []
    for action in (lambda: client.jobs.cancel(job.job_id), lambda: AITBCClient(tenant.master_key + "x", tenant.url).me()):
        try:
            action()
        except AITBCError as error:
            errors.append(f"{error!s} {error!r} {error.details}")
    assert len(errors) == 2
    assert any(record.name.startswith(("httpx", "httpcore")) for record in caplog.records)
    assert any(record.name == "aitbc" for record in caplog.records)
    for secret in (tenant.client_key, tenant.master_key):
        assert secret not in caplog.text
        assert all(secret not in text for text in errors)
