"""The synchronous client."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Optional, Type, TypeVar

import httpx

from . import _operations as ops
from ._core import DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_DELAY, DEFAULT_TIMEOUT, Call, Core
from .resources import APIKeys, Jobs, Miners, Receipts, Tenants
from .types import Me, RateLimitState
from .usage import Usage

T = TypeVar("T")


class AITBCClient:
    """The AITBC Coordinator's API.

    ``api_key`` defaults to ``AITBC_API_KEY`` (without either: ``AuthenticationError``), ``base_url``
    to ``AITBC_URL`` or ``http://127.0.0.1:8000``, ``tenant_id`` (sent as ``X-Tenant-ID``) to
    ``AITBC_TENANT_ID``. ``timeout`` bounds each request in seconds (a long-poll adds its wait);
    429 and 503 are retried up to ``max_retries`` times after ``Retry-After``, when that is at most
    ``max_retry_delay`` seconds. The key is sent as ``X-API-Key`` and never logged or shown.
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
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        self._core = Core(api_key, base_url, tenant_id, timeout, max_retries, max_retry_delay)
        self._http = http_client or httpx.Client(follow_redirects=False)
        self.jobs = Jobs(self._send)
        self.api_keys = APIKeys(self._send)
        self.miners = Miners(self._send)
        self.tenants = Tenants(self._send)
        self.receipts = Receipts(self._send)
        self.usage = Usage(self._send)

    @property
    def base_url(self) -> str:
        return self._core.base_url

    @property
    def last_rate_limit(self) -> Optional[RateLimitState]:
        """The budget the last answer that carried ``X-RateLimit-*`` reported."""
        return self._core.last_rate_limit

    def me(self) -> Me:
        """Who the key is: id, role, scopes, tenant, plan and budget."""
        return self._send(ops.me())

    def _send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.send(self._core.request(self._http, call))
            except httpx.HTTPError as error:
                raise self._core.transport_error(error) from None
            delay = self._core.retry_delay(response, attempt)
            if delay is None:
                return self._core.finish(response, call)
            response.close()
            attempt += 1
            time.sleep(delay)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "AITBCClient":
        return self

    def __exit__(
        self, kind: Optional[Type[BaseException]], value: Optional[BaseException], traceback: Optional[TracebackType]
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return self._core.describe(type(self).__name__)
