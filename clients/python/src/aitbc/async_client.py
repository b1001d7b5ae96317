"""The asyncio client: the same surface as :class:`aitbc.AITBCClient`, every call awaited."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Optional, Type, TypeVar

import httpx

from . import _operations as ops
from ._core import DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_DELAY, DEFAULT_TIMEOUT, Call, Core
from .async_resources import AsyncAPIKeys, AsyncJobs, AsyncMiners, AsyncReceipts, AsyncTenants
from .types import Me, RateLimitState
from .usage import AsyncUsage

T = TypeVar("T")


class AsyncAITBCClient:
    """The AITBC Coordinator's API for asyncio; see :class:`aitbc.AITBCClient` for the arguments.

    ``async with AsyncAITBCClient() as client: job = await client.jobs.create(payload=...)``;
    listings are async iterators (``async for job in client.jobs.list()``).
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        tenant_id: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY,
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        self._core = Core(api_key, base_url, tenant_id, timeout, max_retries, max_retry_delay)
        self._http = http_client or httpx.AsyncClient(follow_redirects=False)
        self.jobs = AsyncJobs(self._send)
        self.api_keys = AsyncAPIKeys(self._send)
        self.miners = AsyncMiners(self._send)
        self.tenants = AsyncTenants(self._send)
        self.receipts = AsyncReceipts(self._send)
        self.usage = AsyncUsage(self._send)

    @property
    def base_url(self) -> str:
        return self._core.base_url

    @property
    def last_rate_limit(self) -> Optional[RateLimitState]:
        """The budget the last answer that carried ``X-RateLimit-*`` reported."""
        return self._core.last_rate_limit

    async def me(self) -> Me:
        """Who the key is: id, role, scopes, tenant, plan and budget."""
        return await self._send(ops.me())

    async def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.send(self._core.request(self._http, call))
            except httpx.HTTPError as error:
                raise self._core.transport_error(error) from None
            delay = self._core.retry_delay(response, attempt)
            if delay is None:
                return self._core.finish(response, call)
            await response.aclose()
            attempt += 1
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncAITBCClient":
        return self

    async def __aexit__(
        self, kind: Optional[Type[BaseException]], value: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return self._core.describe(type(self).__name__)
