"""``AsyncAITBCClient``: the same flow, awaited."""

from __future__ import annotations

import asyncio
import time
from typing import List

import pytest

from aitbc import AsyncAITBCClient
from aitbc.exceptions import AuthenticationError, ConflictError, NotFoundError, RateLimitError
from sdk_helpers import JOB_JSON, FreshTenant, ScriptedServer, error_json


def test_async_full_job_flow(tenant: FreshTenant) -> None:
    async def flow() -> None:
        async with AsyncAITBCClient(tenant.client_key, tenant.url) as client, \
                AsyncAITBCClient(tenant.miner_key, tenant.url) as miner:
            job = await client.jobs.create({"payload": {"prompt": "async"}})
            await miner.miners.register(miner_id="async-gpu", capabilities={"gpu": {"memory_gb": 24}})
            work = await miner.miners.poll(miner_id="async-gpu", max_wait_seconds=5)
            assert work is not None and work.job_id == job.job_id
            await miner.miners.submit_result(job.job_id, {"text": "ok"}, metrics={"duration_ms": 10},
                                             attempt=work.attempt, miner_id="async-gpu")
            done = await client.jobs.wait(job.job_id, timeout=30, poll_interval=0.1)
            assert done.state == "COMPLETED"
            assert (await client.jobs.result(job.job_id)).result == {"text": "ok"}
            with pytest.raises(ConflictError):
                await client.jobs.cancel(job.job_id)
            assert (await client.me()).tenant_id == tenant.tenant_id

    asyncio.run(flow())


def test_async_list_follows_cursors(tenant: FreshTenant) -> None:
    async def flow() -> None:
        async with AsyncAITBCClient(tenant.client_key, tenant.url) as client:
            created = [(await client.jobs.create(payload={"n": n})).job_id for n in range(3)]
            seen: List[str] = [job.job_id async for job in client.jobs.list(limit=1)]
            assert seen == list(reversed(created))
        async with AsyncAITBCClient(tenant.master_key, tenant.url) as master:
            key = await master.api_keys.create("async", "client")
            assert key.key_id in [k.key_id async for k in master.api_keys.list(limit=1)]
            assert (await master.api_keys.revoke(key.key_id)).status == "revoked"

    asyncio.run(flow())


def test_async_errors_are_the_same_classes(tenant: FreshTenant) -> None:
    async def flow() -> None:
        async with AsyncAITBCClient("wrong-key", tenant.url) as client:
            with pytest.raises(AuthenticationError):
                await client.me()
        async with AsyncAITBCClient(tenant.client_key, tenant.url) as client:
            with pytest.raises(NotFoundError):
                await client.jobs.get("job_missing")

    asyncio.run(flow())


def test_async_retries_429(scripted: ScriptedServer) -> None:
    scripted.replies = [(429, {"Retry-After": "1"}, error_json("RATE_LIMIT_EXCEEDED")), (200, {}, JOB_JSON)]

    async def flow() -> None:
        async with AsyncAITBCClient("k", scripted.url) as client:
            started = time.monotonic()
            assert (await client.jobs.get("job_1")).job_id == "job_1"
            assert time.monotonic() - started >= 1.0
        async with AsyncAITBCClient("k", scripted.url, max_retries=0) as client:
            with pytest.raises(RateLimitError):
                scripted.requests.clear()
                await client.jobs.get("job_1")

    asyncio.run(flow())
    assert len(scripted.requests) == 1
