"""The resource groups of :class:`aitbc.AITBCClient`: ``jobs``, ``api_keys``, ``miners``, ``tenants``,
``receipts``. Each method builds its call in :mod:`aitbc._operations` (shared with the async client)
and runs it."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Dict, Iterator, List, Mapping, Optional, Protocol, TypeVar, Union


from . import _operations as ops
from ._core import Call
from .receipts import verify_receipt
from .types import (
    APIKey, AssignedJob, JobResult, JobView, KeyUsage, Miner, MinerReleased, Page, Receipt, ReceiptKey, Tenant,
)

T = TypeVar("T")
UNSET = ops.UNSET


class Runner(Protocol):
    def __call__(self, call: Call[T]) -> T: ...


class Jobs:
    """``client.jobs``: submit, read, cancel and wait for jobs (client or master key)."""

    def __init__(self, run: Runner) -> None:
        self._run = run

    def create(
        self, body: Optional[Mapping[str, Any]] = None, *, payload: Any = UNSET, constraints: Any = UNSET,
        ttl_seconds: Any = UNSET, idempotency_key: Optional[str] = None,
    ) -> JobView:
        """Submits a job: ``create({"payload": ..., "constraints": ...})`` or ``create(payload=...)``.
        With ``idempotency_key``, a repeat of the same request returns the same job."""
        return self._run(ops.create_job(body, payload, constraints, ttl_seconds, idempotency_key))

    def get(self, job_id: str) -> JobView:
        return self._run(ops.get_job(job_id))

    def page(self, *, state: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page[JobView]:
        """One page of the tenant's jobs, newest first."""
        return self._run(ops.list_jobs(state, limit, cursor))

    def list(self, *, state: Optional[str] = None, limit: Optional[int] = None) -> Iterator[JobView]:
        """Every job (or every job in ``state``), newest first, fetched ``limit`` per page as iterated."""
        cursor: Optional[str] = None
        while True:
            page = self.page(state=state, limit=limit, cursor=cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def cancel(self, job_id: str) -> JobView:
        """Cancels a QUEUED or RUNNING job; a finished one raises ``ConflictError``."""
        return self._run(ops.cancel_job(job_id))

    def result(self, job_id: str) -> JobResult:
        """The result and receipt; ``JobNotReadyError`` (425) before the job is done."""
        return self._run(ops.job_result(job_id))

    def receipt(self, job_id: str) -> Receipt:
        """The job's latest signed receipt (``NotFoundError`` before there is one)."""
        return self._run(ops.job_receipt(job_id))

    def receipts(self, job_id: str) -> List[Receipt]:
        """Every signed receipt of the job, oldest first."""
        return self._run(ops.job_receipts(job_id))

    def wait(self, job_id: str, *, timeout: float = 900.0, poll_interval: float = 1.0) -> JobView:
        """Reads the job every ``poll_interval`` seconds until it is COMPLETED, FAILED, CANCELED or
        EXPIRED; ``WaitTimeoutError`` after ``timeout`` seconds."""
        waiter = ops.Waiter(job_id, timeout, poll_interval)
        while True:
            job = self.get(job_id)
            pause = waiter.next_sleep(job)
            if pause is None:
                return job
            time.sleep(pause)


class APIKeys:
    """``client.api_keys``: the tenant's keys (master key, or operator)."""

    def __init__(self, run: Runner) -> None:
        self._run = run

    def create(
        self, name: str, role: str, *, scopes: Optional[List[str]] = None, expires_at: Union[datetime, str, None] = None,
        rate_limit_per_minute: Optional[int] = None, metadata: Optional[Dict[str, Any]] = None,
        tenant_id: Optional[str] = None, allowed_ips: Optional[List[str]] = None, **extra: Any,
    ) -> APIKey:
        """Creates a key; the answer's ``api_key`` is the secret, shown this once. ``allowed_ips`` (CIDRs or
        addresses, IPv4 or IPv6) limits where it may be used from; ``None``: the calling key's own list, ``[]``:
        anywhere."""
        return self._run(
            ops.create_key(name, role, scopes, expires_at, rate_limit_per_minute, metadata, tenant_id, extra, allowed_ips))

    def page(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page[APIKey]:
        return self._run(ops.list_keys(limit, cursor))

    def list(self, *, limit: Optional[int] = None) -> Iterator[APIKey]:
        """Every key, newest first, ``limit`` per page; never a secret."""
        cursor: Optional[str] = None
        while True:
            page = self.page(limit=limit, cursor=cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def get(self, key_id: str) -> APIKey:
        return self._run(ops.get_key(key_id))

    def update(self, key_id: str, **changes: Any) -> APIKey:
        """Changes ``name``, ``scopes``, ``expires_at``, ``rate_limit_per_minute``, ``metadata``, ``allowed_ips``…;
        ``None`` clears ``scopes``, ``expires_at``, ``rate_limit_per_minute`` or ``allowed_ips``."""
        return self._run(ops.update_key(key_id, changes))

    def top_up(self, key_id: str, remaining: int) -> APIKey:
        """Sets the credit balance of ``key_id`` to ``remaining`` (audited; master or operator)."""
        return self._run(ops.update_key(key_id, {"credits": {"remaining": remaining}}))

    def revoke(self, key_id: str) -> APIKey:
        """Revokes the key; it is refused from the moment this returns."""
        return self._run(ops.revoke_key(key_id))

    def regenerate(self, key_id: str, *, grace_period_seconds: int = 0) -> APIKey:
        """A new secret (in ``api_key``); the old one keeps working ``grace_period_seconds``."""
        return self._run(ops.regenerate_key(key_id, grace_period_seconds))

    def usage(self, key_id: str) -> KeyUsage:
        return self._run(ops.key_usage(key_id))


class Miners:
    """``client.miners``: what a miner does (miner key); ``miner_id=`` is sent as ``X-Miner-ID``."""

    def __init__(self, run: Runner) -> None:
        self._run = run

    def register(
        self, *, miner_id: Optional[str] = None, capabilities: Optional[Dict[str, Any]] = None,
        concurrency: Optional[int] = None, region: Optional[str] = None,
    ) -> Miner:
        return self._run(ops.register_miner(miner_id, capabilities, concurrency, region))

    def heartbeat(
        self, *, miner_id: Optional[str] = None, inflight: int = 0, status: str = "ONLINE",
        metadata: Optional[Dict[str, Any]] = None,
    ) -> Miner:
        return self._run(ops.heartbeat(miner_id, inflight, status, metadata))

    def poll(self, *, miner_id: Optional[str] = None, max_wait_seconds: float = 15.0) -> Optional[AssignedJob]:
        """Long-polls for work; None when none came within the wait."""
        return self._run(ops.poll(miner_id, max_wait_seconds))

    def submit_result(
        self, job_id: str, result: Any, *, metrics: Optional[Dict[str, Any]] = None, attempt: Optional[int] = None,
        miner_id: Optional[str] = None,
    ) -> JobView:
        """Delivers a result; pass the poll's ``attempt`` so a result of an assignment taken back
        meanwhile is refused (409) instead of landing on the job's next assignment."""
        return self._run(ops.submit_result(job_id, miner_id, result, metrics, attempt))

    def fail(
        self, job_id: str, *, error_code: str, error_message: str, metrics: Optional[Dict[str, Any]] = None,
        attempt: Optional[int] = None, miner_id: Optional[str] = None,
    ) -> JobView:
        return self._run(ops.fail_job(job_id, miner_id, error_code, error_message, metrics, attempt))

    def drain(self, *, miner_id: Optional[str] = None) -> Miner:
        return self._run(ops.drain(miner_id))

    def release(self, miner_id: str) -> MinerReleased:
        return self._run(ops.release(miner_id))


class Tenants:
    """``client.tenants``: tenant administration (operator key)."""

    def __init__(self, run: Runner) -> None:
        self._run = run

    def create(self, name: str, plan: str, *, tenant_id: Optional[str] = None) -> Tenant:
        """Creates a tenant; ``master_key.api_key`` is its first master key, shown once."""
        return self._run(ops.create_tenant(name, plan, tenant_id))

    def page(self, *, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page[Tenant]:
        return self._run(ops.list_tenants(limit, cursor))

    def get(self, tenant_id: str) -> Tenant:
        return self._run(ops.get_tenant(tenant_id))

    def update(self, tenant_id: str, **changes: Any) -> Tenant:
        """Changes ``plan``, ``name`` or ``rate_limit_per_minute`` (None clears the custom limit)."""
        return self._run(ops.update_tenant(tenant_id, changes))


class Receipts:
    """``client.receipts``: the coordinator's receipt verification keys, and local verification."""

    def __init__(self, run: Runner) -> None:
        self._run = run

    def keys(self) -> List[ReceiptKey]:
        """The keys receipts are signed with, current and rotated out (``GET /v1/receipts/keys``)."""
        return self._run(ops.receipt_keys())

    def verify(self, receipt: Receipt, keys: Optional[List[ReceiptKey]] = None) -> bool:
        """True when the receipt's signature verifies with one of ``keys`` (default: the server's)."""
        return verify_receipt(receipt, keys if keys is not None else self.keys())
