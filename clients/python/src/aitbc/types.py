"""What the server answers, as plain dataclasses.

Every object keeps the server's whole JSON in ``raw``: a field newer than this SDK is read with
``obj["field"]`` or ``obj.get("field")``. Timestamps are timezone-aware ``datetime`` objects (UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, Dict, FrozenSet, Generic, List, Optional, TypeVar

from ._allowances import CreditFields, QuotaFields, TenantQuotaFields

__all__ = [
    "Model",
    "RateLimitState",
    "JobView",
    "JobResult",
    "Receipt",
    "ReceiptKey",
    "APIKey",
    "Me",
    "UsageBucket",
    "KeyUsage",
    "Miner",
    "AssignedJob",
    "MinerReleased",
    "Tenant",
    "Page",
    "parse_time",
]

#: A signed receipt exactly as the server sent it (AITBC's format: the payload's fields beside
#: ``signature`` and, optionally, ``attestations``). Kept as parsed JSON so that it still verifies.
Receipt = Dict[str, Any]

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$"
)


def parse_time(value: Any) -> Optional[datetime]:
    """An RFC 3339 timestamp as an aware ``datetime`` (None stays None); any precision, ``Z`` or offset."""
    if value is None:
        return None
    match = _RFC3339.match(str(value))
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timezone.utc
    if not zulu:
        delta = timedelta(hours=int(off_h), minutes=int(off_m))
        offset = timezone(-delta if sign == "-" else delta)
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, offset)
    return moment.astimezone(timezone.utc)


def _time(value: Any) -> datetime:
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError("a required timestamp is null")
    return parsed


class Model:
    """Shared behaviour: ``obj["wire_name"]`` and ``obj.get(...)`` read the server's JSON."""

    raw: Dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.raw[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.raw.get(name, default)

    def to_dict(self) -> Dict[str, Any]:
        """The server's JSON for this object (a copy)."""
        return dict(self.raw)


@dataclass(frozen=True)
class RateLimitState:
    """A budget as the server reported it: requests per minute, requests admitted right now, and
    the Unix time (seconds) when it is full again."""

    limit: int
    remaining: int
    reset: int

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "RateLimitState":
        return cls(limit=int(data["limit"]), remaining=int(data["remaining"]), reset=int(data["reset"]))


@dataclass
class JobView(Model):
    """A job: ``state`` is QUEUED, RUNNING, COMPLETED, FAILED, CANCELED or EXPIRED."""

    job_id: str
    state: str
    assigned_miner_id: Optional[str]
    requested_at: datetime
    expires_at: datetime
    error: Optional[str]
    error_code: Optional[str]
    ttl_seconds: Optional[int]
    started_at: Optional[datetime]
    finished_at: Optional[datetime]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    FINISHED_STATES: ClassVar[FrozenSet[str]] = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})

    @property
    def finished(self) -> bool:
        """True once the job can no longer change."""
        return self.state in self.FINISHED_STATES

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "JobView":
        return cls(
            job_id=data["job_id"], state=data["state"], assigned_miner_id=data.get("assigned_miner_id"),
            requested_at=_time(data["requested_at"]), expires_at=_time(data["expires_at"]),
            error=data.get("error"), error_code=data.get("error_code"), ttl_seconds=data.get("ttl_seconds"),
            started_at=parse_time(data.get("started_at")), finished_at=parse_time(data.get("finished_at")), raw=data,
        )


@dataclass
class JobResult(Model):
    """``GET /v1/jobs/{id}/result``: the miner's result and the job's receipt."""

    result: Any
    receipt: Optional[Receipt]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "JobResult":
        return cls(result=data.get("result"), receipt=data.get("receipt"), raw=data)


@dataclass
class ReceiptKey(Model):
    """A key receipts are verified with (``GET /v1/receipts/keys``)."""

    key_id: str
    alg: str
    public_key: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "ReceiptKey":
        return cls(key_id=data["key_id"], alg=data.get("alg", "Ed25519"), public_key=data["public_key"], raw=data)


@dataclass
class APIKey(CreditFields, Model):
    """An API key as listings show it; ``api_key`` holds the secret only in the answer to create and
    regenerate (shown once, never in ``repr``)."""

    key_id: str
    tenant_id: str
    name: str
    role: str
    scopes: Optional[List[str]]
    hint: str
    status: str
    created_at: datetime
    expires_at: Optional[datetime]
    revoked_at: Optional[datetime]
    last_used_at: Optional[datetime]
    last_used_from: Optional[str]
    rate_limit_per_minute: Optional[int]
    previous_secret_valid_until: Optional[datetime]
    metadata: Dict[str, Any]
    api_key: Optional[str] = field(default=None, repr=False)
    #: CIDRs the key may be used from (canonical, e.g. ``203.0.113.0/24``); ``None``: anywhere.
    allowed_ips: Optional[List[str]] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "APIKey":
        return cls(
            key_id=data["key_id"], tenant_id=data["tenant_id"], name=data["name"], role=data["role"],
            scopes=data.get("scopes"), hint=data.get("hint", ""), status=data["status"],
            created_at=_time(data["created_at"]), expires_at=parse_time(data.get("expires_at")),
            revoked_at=parse_time(data.get("revoked_at")), last_used_at=parse_time(data.get("last_used_at")),
            last_used_from=data.get("last_used_from"), rate_limit_per_minute=data.get("rate_limit_per_minute"),
            previous_secret_valid_until=parse_time(data.get("previous_secret_valid_until")),
            metadata=data.get("metadata") or {}, api_key=data.get("api_key"), allowed_ips=data.get("allowed_ips"),
            raw=data,
        )


@dataclass
class Me(QuotaFields, Model):
    """``GET /v1/me``: the calling key, its tenant and plan, and its budget right now."""

    key_id: str
    name: str
    role: str
    scopes: List[str]
    tenant_id: str
    plan: str
    expires_at: Optional[datetime]
    rate_limit: RateLimitState
    #: CIDRs the key may be used from; ``None``: anywhere.
    allowed_ips: Optional[List[str]] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Me":
        return cls(
            key_id=data["key_id"], name=data["name"], role=data["role"], scopes=list(data.get("scopes") or []),
            tenant_id=data["tenant_id"], plan=data["plan"], expires_at=parse_time(data.get("expires_at")),
            rate_limit=RateLimitState.from_dict(data["rate_limit"]), allowed_ips=data.get("allowed_ips"), raw=data,
        )


@dataclass
class UsageBucket(Model):
    """Requests of one minute or hour (or the totals): admitted, rate limited, errors."""

    start: Optional[datetime]
    admitted: int
    rate_limited: int
    errors: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "UsageBucket":
        return cls(
            start=parse_time(data.get("start")), admitted=int(data["admitted"]),
            rate_limited=int(data["rate_limited"]), errors=int(data["errors"]), raw=data,
        )


@dataclass
class KeyUsage(Model):
    """``GET /v1/api-keys/{id}/usage``."""

    key_id: str
    last_used_at: Optional[datetime]
    last_used_from: Optional[str]
    totals: UsageBucket
    minutes: List[UsageBucket]
    hours: List[UsageBucket]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "KeyUsage":
        return cls(
            key_id=data["key_id"], last_used_at=parse_time(data.get("last_used_at")),
            last_used_from=data.get("last_used_from"), totals=UsageBucket.from_dict(data["totals"]),
            minutes=[UsageBucket.from_dict(b) for b in data.get("minutes") or []],
            hours=[UsageBucket.from_dict(b) for b in data.get("hours") or []], raw=data,
        )


@dataclass
class Miner(Model):
    """A miner as the miner routes answer it; ``status`` is ONLINE, DRAINING or OFFLINE."""

    miner_id: str
    status: str
    concurrency: int
    region: Optional[str]
    running: int
    capabilities: Dict[str, Any]
    registered_at: Optional[datetime]
    last_seen_at: Optional[datetime]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Miner":
        return cls(
            miner_id=data["miner_id"], status=data["status"], concurrency=int(data.get("concurrency", 1)),
            region=data.get("region"), running=int(data.get("running", 0)), capabilities=data.get("capabilities") or {},
            registered_at=parse_time(data.get("registered_at")), last_seen_at=parse_time(data.get("last_seen_at")),
            raw=data,
        )


@dataclass
class AssignedJob(Model):
    """Work a poll handed to a miner; send ``attempt`` back with the result or failure."""

    job_id: str
    payload: Any
    constraints: Dict[str, Any]
    attempt: Optional[int]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "AssignedJob":
        return cls(
            job_id=data["job_id"], payload=data.get("payload"), constraints=data.get("constraints") or {},
            attempt=data.get("attempt"), raw=data,
        )


@dataclass
class MinerReleased(Model):
    """``DELETE /v1/miners/{id}``: the id is free again; its running jobs went back to the queue."""

    miner_id: str
    released: bool
    requeued_jobs: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "MinerReleased":
        return cls(
            miner_id=data["miner_id"], released=bool(data.get("released", True)),
            requeued_jobs=int(data.get("requeued_jobs", 0)), raw=data,
        )


@dataclass
class Tenant(TenantQuotaFields, Model):
    """A tenant (operator routes); ``master_key`` is its first master key, only in the answer to create."""

    tenant_id: str
    name: str
    plan: str
    rate_limit_per_minute: int
    custom_rate_limit_per_minute: Optional[int]
    created_at: Optional[datetime]
    master_key: Optional[APIKey] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Tenant":
        master = data.get("master_key")
        return cls(
            tenant_id=data["tenant_id"], name=data["name"], plan=data["plan"],
            rate_limit_per_minute=int(data["rate_limit_per_minute"]),
            custom_rate_limit_per_minute=data.get("custom_rate_limit_per_minute"),
            created_at=parse_time(data.get("created_at")),
            master_key=APIKey.from_dict(master) if isinstance(master, dict) else None, raw=data,
        )


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of a listing; ``next_cursor`` fetches the next (None on the last)."""

    items: List[T]
    next_cursor: Optional[str]
    has_more: bool
