"""What the sync and async clients share: configuration, building requests, reading answers,
mapping errors and deciding retries. The clients only add the I/O (send, sleep)."""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Generic, Mapping, Optional, TypeVar, Union
from urllib.parse import quote

import httpx

from ._version import __version__
from .exceptions import NOT_RETRIED_CODES, AITBCError, AuthenticationError, TransportError, error_for_status
from .types import RateLimitState

T = TypeVar("T")

logger = logging.getLogger("aitbc")

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_DELAY = 60.0
USER_AGENT = f"aitbc-python/{__version__}"

_NO_BODY: Any = object()


def segment(value: str) -> str:
    """A path segment, percent-encoded (a ``/`` in an id cannot reach another route)."""
    return quote(str(value), safe="")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call: the request to send and how to read a successful answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Optional[str]] = field(default_factory=dict)
    body: Any = _NO_BODY
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Seconds added to the client's timeout (a long-poll's own wait).
    extra_timeout: float = 0.0


class _Secret:
    """Holds the API key so that no ``repr``, ``vars`` dump or traceback local shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


class Core:
    """Configuration and the request/answer logic of one client."""

    def __init__(
        self,
        api_key: Optional[str],
        base_url: Optional[str],
        tenant_id: Optional[str],
        timeout: float,
        max_retries: int,
        max_retry_delay: float,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("AITBC_API_KEY")
        if not key:
            raise AuthenticationError(
                "No API key: pass api_key= or set the AITBC_API_KEY environment variable",
                code="MISSING_API_KEY", status=None,
            )
        self._key = _Secret(key)
        url = base_url or os.environ.get("AITBC_URL") or DEFAULT_URL
        self.base_url = url.rstrip("/")
        self.tenant_id = tenant_id or os.environ.get("AITBC_TENANT_ID") or None
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.max_retry_delay = float(max_retry_delay)
        self.last_rate_limit: Optional[RateLimitState] = None

    def describe(self, kind: str) -> str:
        return f"{kind}(base_url={self.base_url!r}, api_key='***')"

    def request(self, http: Union[httpx.Client, httpx.AsyncClient], call: Call[Any]) -> httpx.Request:
        headers: Dict[str, str] = {
            "X-API-Key": self._key.reveal(),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if self.tenant_id:
            headers["X-Tenant-ID"] = self.tenant_id
        headers.update(call.headers)
        content: Optional[bytes] = None
        if call.body is not _NO_BODY:
            headers["Content-Type"] = "application/json"
            content = json.dumps(call.body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
        params = {name: value for name, value in call.params.items() if value is not None}
        return http.build_request(
            call.method, self.base_url + call.path, params=params, headers=headers, content=content,
            timeout=self.timeout + call.extra_timeout,
        )

    def transport_error(self, error: Exception) -> TransportError:
        return TransportError(f"No answer from {self.base_url}: {type(error).__name__}: {error}")

    def retry_delay(self, response: httpx.Response, attempt: int) -> Optional[float]:
        """Seconds to wait before sending the call again, or None to stop here.

        Only 429 and 503 are retried (nothing was done), at most ``max_retries`` times, after
        ``Retry-After`` plus up to 25% jitter. A ``Retry-After`` longer than ``max_retry_delay``
        (a daily quota, say) is not waited for: the error is raised at once.
        """
        if response.status_code not in (429, 503) or attempt >= self.max_retries:
            return None
        if response.status_code == 429 and _error_code(response) in NOT_RETRIED_CODES:
            return None
        self._remember_rate_limit(response)
        after = _retry_after(response)
        base = float(after) if after is not None else float(2 ** min(attempt + 1, 5))
        if base > self.max_retry_delay:
            return None
        delay = min(base * random.uniform(1.0, 1.25), self.max_retry_delay)
        logger.debug(
            "retrying %s %s after %s in %.2f s (attempt %d of %d)", response.request.method,
            response.request.url.path, response.status_code, delay, attempt + 1, self.max_retries,
        )
        return delay

    def finish(self, response: httpx.Response, call: Call[T]) -> T:
        """The parsed answer, or the typed error it carries."""
        self._remember_rate_limit(response)
        status = response.status_code
        if 200 <= status < 300:
            try:
                return call.parse(response)
            except (KeyError, TypeError, ValueError) as error:
                raise TransportError(
                    f"The answer to {call.method} {call.path} could not be read: {type(error).__name__}: {error}",
                    status=status, request_id=response.headers.get("X-Request-ID"),
                ) from None
        if 300 <= status < 400:
            raise TransportError(
                f"{call.method} {call.path} was redirected to {response.headers.get('Location')!r}; the SDK does not "
                "follow redirects (the API key is sent only to the base URL): use the coordinator's address",
                status=status,
            )
        raise self.error(response)

    def error(self, response: httpx.Response) -> AITBCError:
        status = response.status_code
        code, message = f"HTTP_{status}", f"The server answered {status}"
        details: Dict[str, Any] = {}
        try:
            body = response.json()
            error = body.get("error") if isinstance(body, dict) else None
            if isinstance(error, dict):
                code = str(error.get("code") or code)
                message = str(error.get("message") or message)
                found = error.get("details")
                details = found if isinstance(found, dict) else {}
        except ValueError:
            pass
        state = _rate_limit(response)
        return error_for_status(
            status, code, message, details, request_id=response.headers.get("X-Request-ID"),
            retry_after=_retry_after(response), limit=state.limit if state else None,
            remaining=state.remaining if state else None, reset=state.reset if state else None,
        )

    def _remember_rate_limit(self, response: httpx.Response) -> None:
        state = _rate_limit(response)
        if state is not None:
            self.last_rate_limit = state


def _rate_limit(response: httpx.Response) -> Optional[RateLimitState]:
    try:
        return RateLimitState(
            limit=int(response.headers["X-RateLimit-Limit"]),
            remaining=int(response.headers["X-RateLimit-Remaining"]),
            reset=int(response.headers["X-RateLimit-Reset"]),
        )
    except (KeyError, ValueError):
        return None


def _error_code(response: httpx.Response) -> Optional[str]:
    """The answer's ``error.code``, or None when it has none."""
    try:
        code = response.json()["error"]["code"]
    except Exception:
        return None
    return code if isinstance(code, str) else None


def _retry_after(response: httpx.Response) -> Optional[int]:
    """``Retry-After`` in whole seconds: a number, or an HTTP date."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0, int(value.strip()))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int(moment.timestamp() - time.time() + 0.999))


def json_body(response: httpx.Response) -> Any:
    return response.json()
