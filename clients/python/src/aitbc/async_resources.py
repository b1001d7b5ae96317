"""The resource groups of :class:`aitbc.AsyncAITBCClient`: the calls of :mod:`aitbc.resources`,
built by the same :mod:`aitbc._operations`, awaited."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, AsyncIterator, Awaitable, Dict, List, Mapping, Optional, Protocol, TypeVar, Union

from . import _operations as ops
from ._core import Call
from .receipts import verify_receipt
from .types import (
    APIKey, AssignedJob, JobResult, JobView, KeyUsage, Miner, MinerReleased, Page, Receipt, ReceiptKey, Tenant,
)

T = TypeVar("T")
UNSET = ops.UNSET


class AsyncRunner(Protocol):
    def __call__(self, call: Call[T]) -> Awaitable[T]: ...


class AsyncJobs:
    """``client.jobs``; see :class:`aitbc.resources.Jobs`."""

    def __init__(self, run: AsyncRunner) -> None:
        self._run = run

    async def create(
        self, body: Optional[Mapping[str, Any]] = None, *, payload: Any = UNSET, constraints: Any = UNSET,
        ttl_seconds: Any = UNSET, idempotency_key: Optional[str] = None,
    ) -> JobView:
        return await self._run(ops.create_job(body, payload, constraints, ttl_seconds, idempotency_key))

    async def get(self, job_id: str) -> JobView:
        return await self._run(ops.get_job(job_id))

    async def page(
        self, *, state: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> Page[JobView]:
        return await self._run(ops.list_jobs(state, limit, cursor))

    async def list(self, *, state: Optional[str] = None, limit: Optional[int] = None) -> AsyncIterator[JobView]:
        """Every job, newest first, ``limit`` per page: ``async for job in client.jobs.list()``."""
        cursor: Optional[str] = None
        while True:
            page = await self.page(state=state, limit=limit, cursor=cursor)
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def cancel(self, job_id: str) -> JobView:
        return await self._run(ops.cancel_job(job_id))

    async def result(self, job_id: str) -> JobResult:
        return await self._run(ops.job_result(job_id))

    async def receipt(self, job_id: str) -> Receipt:
        return await self._run(ops.job_receipt(job_id))

    async def receipts(self, job_id: str) -> List[Receipt]:
        return await self._run(ops.job_receipts(job_id))

    async def wait(self, job_id: str, *, timeout: float = 900.0, poll_interval: float = 1.0) -> JobView:
        waiter = ops.Waiter(job_id, timeout, poll_interval)
        while True:
            job = await self.get(job_id)
            pause = waiter.next_sleep(job)
            if pause is None:
                return job
            await asyncio.sleep(pause)


class AsyncAPIKeys:
    """``client.api_keys``; see :class:`aitbc.resources.APIKeys`."""

    def __init__(self, run: AsyncRunner) -> None:
        self._run = run

    async def create(
        self, name: str, role: str, *, scopes: Optional[List[str]] = None, expires_at: Union[datetime, str, None] = None,
        rate_limit_per_minute: Optional[int] = None, metadata: Optional[Dict[str, Any]] = None,
        tenant_id: Optional[str] = None, allowed_ips: Optional[List[str]] = None, **extra: Any,
    ) -> APIKey:
        return await self._run(
            ops.create_key(name, role, scopes, expires_at, rate_limit_per_minute, metadata, tenant_id, extra, allowed_ips))

    async def page(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page[APIKey]:
        return await self._run(ops.list_keys(limit, cursor))

    async def list(self, *, limit: Optional[int] = None) -> AsyncIterator[APIKey]:
        cursor: Optional[str] = None
        while True:
            page = await self.page(limit=limit, cursor=cursor)
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def get(self, key_id: str) -> APIKey:
        return await self._run(ops.get_key(key_id))

    async def update(self, key_id: str, **changes: Any) -> APIKey:
        return await self._run(ops.update_key(key_id, changes))

    async def top_up(self, key_id: str, remaining: int) -> APIKey:
        """Sets the credit balance of ``key_id`` to ``remaining`` (audited; master or operator)."""
        return await self._run(ops.update_key(key_id, {"credits": {"remaining": remaining}}))

    async def revoke(self, key_id: str) -> APIKey:
        return await self._run(ops.revoke_key(key_id))

    async def regenerate(self, key_id: str, *, grace_period_seconds: int = 0) -> APIKey:
        return await self._run(ops.regenerate_key(key_id, grace_period_seconds))

    async def usage(self, key_id: str) -> KeyUsage:
        return await self._run(ops.key_usage(key_id))


class AsyncMiners:
    """``client.miners``; see :class:`aitbc.resources.Miners`."""

    def __init__(self, run: AsyncRunner) -> None:
        self._run = run

    async def register(
        self, *, miner_id: Optional[str] = None, capabilities: Optional[Dict[str, Any]] = None,
        concurrency: Optional[int] = None, region: Optional[str] = None,
    ) -> Miner:
        return await self._run(ops.register_miner(miner_id, capabilities, concurrency, region))

    async def heartbeat(
        self, *, miner_id: Optional[str] = None, inflight: int = 0, status: str = "ONLINE",
        metadata: Optional[Dict[str, Any]] = None,
    ) -> Miner:
        return await self._run(ops.heartbeat(miner_id, inflight, status, metadata))

    async def poll(self, *, miner_id: Optional[str] = None, max_wait_seconds: float = 15.0) -> Optional[AssignedJob]:
        return await self._run(ops.poll(miner_id, max_wait_seconds))

    async def submit_result(
        self, job_id: str, result: Any, *, metrics: Optional[Dict[str, Any]] = None, attempt: Optional[int] = None,
        miner_id: Optional[str] = None,
    ) -> JobView:
        return await self._run(ops.submit_result(job_id, miner_id, result, metrics, attempt))

    async def fail(
        self, job_id: str, *, error_code: str, error_message: str, metrics: Optional[Dict[str, Any]] = None,
        attempt: Optional[int] = None, miner_id: Optional[str] = None,
    ) -> JobView:
        return await self._run(ops.fail_job(job_id, miner_id, error_code, error_message, metrics, attempt))

    async def drain(self, *, miner_id: Optional[str] = None) -> Miner:
        return await self._run(ops.drain(miner_id))

    async def release(self, miner_id: str) -> MinerReleased:
        return await self._run(ops.release(miner_id))


class AsyncTenants:
    """``client.tenants``; see :class:`aitbc.resources.Tenants`."""

    def __init__(self, run: AsyncRunner) -> None:
        self._run = run

    async def create(self, name: str, plan: str, *, tenant_id: Optional[str] = None) -> Tenant:
        return await self._run(ops.create_tenant(name, plan, tenant_id))

    async def page(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page[Tenant]:
        return await self._run(ops.list_tenants(limit, cursor))

    async def get(self, tenant_id: str) -> Tenant:
        return await self._run(ops.get_tenant(tenant_id))

    async def update(self, tenant_id: str, **changes: Any) -> Tenant:
        return await self._run(ops.update_tenant(tenant_id, changes))


class AsyncReceipts:
    """``client.receipts``; see :class:`aitbc.resources.Receipts`."""

    def __init__(self, run: AsyncRunner) -> None:
        self._run = run

    async def keys(self) -> List[ReceiptKey]:
        return await self._run(ops.receipt_keys())

    async def verify(self, receipt: Receipt, keys: Optional[List[ReceiptKey]] = None) -> bool:
        return verify_receipt(receipt, keys if keys is not None else await self.keys())
