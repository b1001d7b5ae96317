"""Each exception class, from a real answer of the coordinator."""

from __future__ import annotations

import time

import pytest

from aitbc import AITBCClient
from aitbc.exceptions import (
    AITBCError, AuthenticationError, NotFoundError, PermissionDeniedError, RateLimitError, TransportError,
)
from sdk_helpers import FreshTenant, new_tenant


def test_wrong_key_is_an_authentication_error(url: str) -> None:
    with AITBCClient("not-a-real-key", url) as client:
        with pytest.raises(AuthenticationError) as raised:
            client.me()
    error = raised.value
    assert error.status == 401 and error.code == "INVALID_API_KEY" and error.message
    assert error.request_id and str(error).startswith("INVALID_API_KEY: ")
    assert isinstance(error, AITBCError)


def test_narrowed_key_is_a_permission_error(tenant: FreshTenant) -> None:
    reader = tenant.master().api_keys.create("reader", "client", scopes=["jobs:read"])
    assert reader.api_key
    with pytest.raises(PermissionDeniedError) as raised:
        tenant.client(reader.api_key).jobs.create(payload={"n": 1})
    assert raised.value.status == 403 and raised.value.code == "INSUFFICIENT_SCOPE"
    assert not isinstance(raised.value, PermissionError)


def test_another_tenant_id_is_a_permission_error(tenant: FreshTenant) -> None:
    with pytest.raises(PermissionDeniedError) as raised:
        tenant.client(tenant_id="someone-else").me()
    assert raised.value.code == "TENANT_MISMATCH"


def test_unknown_job_is_not_found(tenant: FreshTenant) -> None:
    with pytest.raises(NotFoundError) as raised:
        tenant.client().jobs.get("job_doesnotexist")
    assert raised.value.status == 404


def test_another_tenants_job_is_invisible(tenant: FreshTenant, other_tenant: FreshTenant, client_key: str) -> None:
    job = tenant.client().jobs.create(payload={"secret": True})
    for outsider in (other_tenant.master(), other_tenant.client(), tenant.client(client_key)):
        with pytest.raises(NotFoundError):
            outsider.jobs.get(job.job_id)
        with pytest.raises(NotFoundError):
            outsider.jobs.cancel(job.job_id)
        assert job.job_id not in [seen.job_id for seen in outsider.jobs.list()]
    assert tenant.client().jobs.get(job.job_id).state == "QUEUED"


def test_over_the_tenant_limit_is_a_rate_limit_error(operator: AITBCClient, url: str) -> None:
    slow = new_tenant(operator, url)
    operator.tenants.update(slow.tenant_id, rate_limit_per_minute=1)
    with AITBCClient(slow.master_key, url, max_retries=0) as client:
        client.me()
        with pytest.raises(RateLimitError) as raised:
            client.me()
    error = raised.value
    assert error.status == 429 and error.code == "RATE_LIMIT_EXCEEDED"
    assert 1 <= error.retry_after <= 60
    assert error.limit == 1 and error.remaining == 0
    assert error.reset is not None and time.time() - 1 <= error.reset <= time.time() + 61
    assert client.last_rate_limit is not None and client.last_rate_limit.limit == 1


def test_over_the_limit_is_not_retried_when_retry_after_exceeds_the_bound(operator: AITBCClient, url: str) -> None:
    slow = new_tenant(operator, url)
    operator.tenants.update(slow.tenant_id, rate_limit_per_minute=1)
    with AITBCClient(slow.master_key, url, max_retries=3, max_retry_delay=0.5) as client:
        client.me()
        started = time.monotonic()
        with pytest.raises(RateLimitError):
            client.me()
        assert time.monotonic() - started < 5


def test_unreachable_server_is_a_transport_error() -> None:
    with AITBCClient("some-key", "http://127.0.0.1:9", timeout=2) as client:
        with pytest.raises(TransportError) as raised:
            client.me()
    assert raised.value.code == "TRANSPORT_ERROR" and raised.value.status is None
