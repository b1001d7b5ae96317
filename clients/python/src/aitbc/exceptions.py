"""Errors the SDK raises: one class per kind of server answer, all under :class:`AITBCError`.

No name here shadows a Python builtin, so ``from aitbc.exceptions import *`` is safe: the 403 error
is :class:`PermissionDeniedError` (the Swift SDK's ``PermissionError``; Python already has a
builtin ``PermissionError``, an ``OSError``), and a failure to reach the server is
:class:`TransportError` (not ``ConnectionError``).

=============  ==========================================================
status         class
=============  ==========================================================
401            :class:`AuthenticationError` (also a client without a key)
403            :class:`PermissionDeniedError`
404, 405       :class:`NotFoundError`
409            :class:`ConflictError`
425            :class:`JobNotReadyError` (a :class:`ConflictError`)
429            :class:`RateLimitError` (:class:`QuotaExceededError`, :class:`CreditsExhaustedError`)
other 4xx      :class:`ValidationError` (400, 413, 422, …)
5xx            :class:`ServerError`
no answer      :class:`TransportError`
=============  ==========================================================
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

__all__ = [
    "AITBCError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "JobNotReadyError",
    "ValidationError",
    "RateLimitError",
    "QuotaExceededError",
    "CreditsExhaustedError",
    "ServerError",
    "TransportError",
    "WaitTimeoutError",
    "error_for_status",
]


class AITBCError(Exception):
    """Every error the SDK raises.

    ``code`` is the server's error code (``INVALID_API_KEY``, …; ``TRANSPORT_ERROR`` when no answer
    came), ``message`` its message, ``status`` the HTTP status (None without an answer), ``details``
    the error's ``details`` object and ``request_id`` the answer's ``X-Request-ID``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "AITBC_ERROR",
        status: Optional[int] = None,
        details: Optional[Mapping[str, Any]] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details: Dict[str, Any] = dict(details or {})
        self.request_id = request_id

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class AuthenticationError(AITBCError):
    """401: no key, an unknown key, a revoked or expired key (also raised when no key is configured)."""


class PermissionDeniedError(AITBCError):
    """403: the key lacks the role or scope (``INSUFFICIENT_SCOPE``), names another tenant, is used from
    an address outside its allow-list (``IP_NOT_ALLOWED``), or another key owns the miner id."""


class NotFoundError(AITBCError):
    """404 (no such job, key, tenant or route) and 405 (a known path with another method)."""


class ConflictError(AITBCError):
    """409: the state does not allow it (``CONFLICT_STATE``, ``IDEMPOTENCY_CONFLICT``, ``LAST_MASTER_KEY``)."""


class JobNotReadyError(ConflictError):
    """425 ``JOB_NOT_READY``: the job has no result yet."""


class ValidationError(AITBCError):
    """400, 413, 422 and other 4xx: the request itself is wrong; ``field`` names the culprit when known."""

    @property
    def field(self) -> Optional[str]:
        value = self.details.get("field")
        return value if isinstance(value, str) else None


class RateLimitError(AITBCError):
    """429: over the rate limit, a quota, the credits or a resource bound.

    ``retry_after`` is the server's ``Retry-After`` in seconds (at least 1); ``limit``,
    ``remaining`` and ``reset`` (Unix seconds) come from the ``X-RateLimit-*`` headers when sent.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: int = 1,
        limit: Optional[int] = None,
        remaining: Optional[int] = None,
        reset: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.limit = limit
        self.remaining = remaining
        self.reset = reset


class QuotaExceededError(RateLimitError):
    """429 ``QUOTA_EXCEEDED``: the tenant's daily or monthly request quota is used up.

    ``period`` is ``"day"`` or ``"month"``; ``retry_after`` runs to its end (UTC). Never retried
    automatically: waiting hours inside a call is never what the caller wants.
    """

    @property
    def period(self) -> Optional[str]:
        value = self.details.get("period")
        return value if isinstance(value, str) else None


class CreditsExhaustedError(RateLimitError):
    """429 ``CREDITS_EXHAUSTED``: the key's credits are spent.

    ``retry_after`` runs to the next refill (86400 when the key never refills: a master must top it
    up). Never retried automatically.
    """

    @property
    def remaining_credits(self) -> Optional[int]:
        value = self.details.get("remaining")
        return value if isinstance(value, int) else None


#: Codes of 429s that are never retried automatically, whatever their ``Retry-After``.
NOT_RETRIED_CODES = frozenset({"QUOTA_EXCEEDED", "CREDITS_EXHAUSTED"})


class ServerError(AITBCError):
    """5xx: the server failed (503 ``STORAGE_UNAVAILABLE`` or ``DRAINING`` is retried first)."""


class TransportError(AITBCError):
    """No usable answer: connection refused, timeout, a redirect, or a body that is not the contract's JSON."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "TRANSPORT_ERROR")
        super().__init__(message, **kwargs)


class WaitTimeoutError(AITBCError):
    """``jobs.wait`` gave up before the job finished; ``state`` is the job's last state seen."""

    def __init__(self, message: str, *, state: str, **kwargs: Any) -> None:
        kwargs.setdefault("code", "WAIT_TIMEOUT")
        super().__init__(message, **kwargs)
        self.state = state


def error_for_status(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any],
    *,
    request_id: Optional[str] = None,
    retry_after: Optional[int] = None,
    limit: Optional[int] = None,
    remaining: Optional[int] = None,
    reset: Optional[int] = None,
) -> AITBCError:
    """The error class for a status, filled with the server's fields."""
    common: Dict[str, Any] = {"code": code, "status": status, "details": details, "request_id": request_id}
    if status == 429:
        kind429 = {"QUOTA_EXCEEDED": QuotaExceededError, "CREDITS_EXHAUSTED": CreditsExhaustedError}.get(
            code, RateLimitError)
        return kind429(
            message, retry_after=max(1, retry_after or 1), limit=limit, remaining=remaining, reset=reset, **common
        )
    kinds = {401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError, 405: NotFoundError,
             409: ConflictError, 425: JobNotReadyError}
    kind = kinds.get(status)
    if kind is None:
        kind = ValidationError if 400 <= status < 500 else ServerError
    return kind(message, **common)
