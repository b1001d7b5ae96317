"""Every API call as a :class:`Call`: path, body and parser, written once for both clients."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, TypeVar, Union

import httpx

from ._core import Call, segment
from .exceptions import WaitTimeoutError
from .types import (
    APIKey, AssignedJob, JobResult, JobView, KeyUsage, Me, Miner, MinerReleased, Page, Receipt, ReceiptKey, Tenant,
)

T = TypeVar("T")


class _Unset:
    """Marks an argument left out, as opposed to ``None`` (which clears a field in an update)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _object(parse: Callable[[Dict[str, Any]], T]) -> Callable[[httpx.Response], T]:
    def read(response: httpx.Response) -> T:
        data = response.json()
        if not isinstance(data, dict):
            raise TypeError("expected a JSON object")
        return parse(data)
    return read


def _page(parse: Callable[[Dict[str, Any]], T]) -> Callable[[httpx.Response], Page[T]]:
    def read(response: httpx.Response) -> Page[T]:
        data = response.json()
        cursor = data.get("next_cursor")
        items = [parse(item) for item in data["items"]]
        return Page(items=items, next_cursor=cursor, has_more=bool(data.get("has_more", cursor is not None)))
    return read


def _raw(response: httpx.Response) -> Dict[str, Any]:
    data = response.json()
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    return data


def _receipts(response: httpx.Response) -> List[Receipt]:
    items = response.json()["items"]
    if not isinstance(items, list):
        raise TypeError("expected a list of receipts")
    return [item for item in items if isinstance(item, dict)]


def _keys(response: httpx.Response) -> List[ReceiptKey]:
    return [ReceiptKey.from_dict(item) for item in response.json()["items"]]


def _timestamp(value: Union[datetime, str, None]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _compact(**fields: Any) -> Dict[str, Any]:
    """The fields that were given (``UNSET`` ones left out; ``None`` kept, to clear)."""
    return {name: value for name, value in fields.items() if value is not UNSET}


def _miner(miner_id: Optional[str]) -> Dict[str, str]:
    return {"X-Miner-ID": miner_id} if miner_id else {}


# jobs


def create_job(
    body: Optional[Mapping[str, Any]], payload: Any, constraints: Any, ttl_seconds: Any, idempotency_key: Optional[str]
) -> Call[JobView]:
    """``jobs.create({...})`` or ``jobs.create(payload=..., ...)``; keywords win over the dict's members."""
    document: Dict[str, Any] = dict(body or {})
    document.update(_compact(payload=payload, constraints=constraints, ttl_seconds=ttl_seconds))
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return Call("POST", "/v1/jobs", _object(JobView.from_dict), body=document, headers=headers)


def list_jobs(state: Optional[str], limit: Optional[int], cursor: Optional[str]) -> Call[Page[JobView]]:
    params = {"state": state, "limit": None if limit is None else str(limit), "cursor": cursor}
    return Call("GET", "/v1/jobs", _page(JobView.from_dict), params=params)


def get_job(job_id: str) -> Call[JobView]:
    return Call("GET", f"/v1/jobs/{segment(job_id)}", _object(JobView.from_dict))


def cancel_job(job_id: str) -> Call[JobView]:
    return Call("POST", f"/v1/jobs/{segment(job_id)}/cancel", _object(JobView.from_dict))


def job_result(job_id: str) -> Call[JobResult]:
    return Call("GET", f"/v1/jobs/{segment(job_id)}/result", _object(JobResult.from_dict))


def job_receipt(job_id: str) -> Call[Receipt]:
    return Call("GET", f"/v1/jobs/{segment(job_id)}/receipt", _raw)


def job_receipts(job_id: str) -> Call[List[Receipt]]:
    return Call("GET", f"/v1/jobs/{segment(job_id)}/receipts", _receipts)


class Waiter:
    """The clock of ``jobs.wait``: when to give up, how long to sleep between reads."""

    def __init__(self, job_id: str, timeout: float, poll_interval: float) -> None:
        self.job_id = job_id
        self.timeout = timeout
        self.poll_interval = max(0.01, poll_interval)
        self.deadline = time.monotonic() + timeout

    def next_sleep(self, job: JobView) -> Optional[float]:
        """None when the job is finished; else the sleep before the next read (raises past the deadline)."""
        if job.finished:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise WaitTimeoutError(
                f"Gave up waiting for {self.job_id} after {self.timeout:g} s; it is {job.state}", state=job.state
            )
        return min(self.poll_interval, left)


# api keys


def create_key(
    name: str, role: str, scopes: Optional[List[str]], expires_at: Union[datetime, str, None],
    rate_limit_per_minute: Optional[int], metadata: Optional[Dict[str, Any]], tenant_id: Optional[str],
    extra: Mapping[str, Any], allowed_ips: Optional[List[str]] = None,
) -> Call[APIKey]:
    body: Dict[str, Any] = {"name": name, "role": role}
    optional = {"scopes": scopes, "expires_at": _timestamp(expires_at), "rate_limit_per_minute": rate_limit_per_minute,
                "metadata": metadata, "tenant_id": tenant_id, "allowed_ips": allowed_ips}
    body.update({name: value for name, value in optional.items() if value is not None})
    body.update(extra)
    return Call("POST", "/v1/api-keys", _object(APIKey.from_dict), body=body)


def list_keys(limit: Optional[int], cursor: Optional[str]) -> Call[Page[APIKey]]:
    params = {"limit": None if limit is None else str(limit), "cursor": cursor}
    return Call("GET", "/v1/api-keys", _page(APIKey.from_dict), params=params)


def get_key(key_id: str) -> Call[APIKey]:
    return Call("GET", f"/v1/api-keys/{segment(key_id)}", _object(APIKey.from_dict))


def update_key(key_id: str, changes: Dict[str, Any]) -> Call[APIKey]:
    body = dict(changes)
    if "expires_at" in body:
        body["expires_at"] = _timestamp(body["expires_at"])
    return Call("PATCH", f"/v1/api-keys/{segment(key_id)}", _object(APIKey.from_dict), body=body)


def revoke_key(key_id: str) -> Call[APIKey]:
    return Call("DELETE", f"/v1/api-keys/{segment(key_id)}", _object(APIKey.from_dict))


def regenerate_key(key_id: str, grace_period_seconds: int) -> Call[APIKey]:
    body = {"grace_period_seconds": int(grace_period_seconds)}
    return Call("POST", f"/v1/api-keys/{segment(key_id)}/regenerate", _object(APIKey.from_dict), body=body)


def key_usage(key_id: str) -> Call[KeyUsage]:
    return Call("GET", f"/v1/api-keys/{segment(key_id)}/usage", _object(KeyUsage.from_dict))


# miners


def register_miner(
    miner_id: Optional[str], capabilities: Optional[Dict[str, Any]], concurrency: Optional[int], region: Optional[str]
) -> Call[Miner]:
    body = {name: value for name, value in
            {"capabilities": capabilities or {}, "concurrency": concurrency, "region": region}.items() if value is not None}
    return Call("POST", "/v1/miners/register", _object(Miner.from_dict), body=body, headers=_miner(miner_id))


def heartbeat(miner_id: Optional[str], inflight: int, status: str, metadata: Optional[Dict[str, Any]]) -> Call[Miner]:
    body = {"inflight": inflight, "status": status, "metadata": metadata or {}}
    return Call("POST", "/v1/miners/heartbeat", _object(Miner.from_dict), body=body, headers=_miner(miner_id))


def _assignment(response: httpx.Response) -> Optional[AssignedJob]:
    if response.status_code == 204 or not response.content:
        return None
    return AssignedJob.from_dict(response.json())


def poll(miner_id: Optional[str], max_wait_seconds: float) -> Call[Optional[AssignedJob]]:
    return Call(
        "POST", "/v1/miners/poll", _assignment, body={"max_wait_seconds": max_wait_seconds},
        headers=_miner(miner_id), extra_timeout=max(0.0, float(max_wait_seconds)),
    )


def submit_result(
    job_id: str, miner_id: Optional[str], result: Any, metrics: Optional[Dict[str, Any]], attempt: Optional[int]
) -> Call[JobView]:
    body = {name: value for name, value in {"metrics": metrics, "attempt": attempt}.items() if value is not None}
    body["result"] = result
    return Call("POST", f"/v1/miners/{segment(job_id)}/result", _object(JobView.from_dict), body=body,
                headers=_miner(miner_id))


def fail_job(
    job_id: str, miner_id: Optional[str], error_code: str, error_message: str, metrics: Optional[Dict[str, Any]],
    attempt: Optional[int],
) -> Call[JobView]:
    body: Dict[str, Any] = {"error_code": error_code, "error_message": error_message}
    body.update({name: value for name, value in {"metrics": metrics, "attempt": attempt}.items() if value is not None})
    return Call("POST", f"/v1/miners/{segment(job_id)}/fail", _object(JobView.from_dict), body=body,
                headers=_miner(miner_id))


def drain(miner_id: Optional[str]) -> Call[Miner]:
    return Call("POST", "/v1/miners/drain", _object(Miner.from_dict), headers=_miner(miner_id))


def release(miner_id: str) -> Call[MinerReleased]:
    return Call("DELETE", f"/v1/miners/{segment(miner_id)}", _object(MinerReleased.from_dict))


# identity, tenants, receipts


def me() -> Call[Me]:
    return Call("GET", "/v1/me", _object(Me.from_dict))


def create_tenant(name: str, plan: str, tenant_id: Optional[str]) -> Call[Tenant]:
    body = {"name": name, "plan": plan}
    if tenant_id is not None:
        body["tenant_id"] = tenant_id
    return Call("POST", "/v1/tenants", _object(Tenant.from_dict), body=body)


def list_tenants(limit: Optional[int], cursor: Optional[str]) -> Call[Page[Tenant]]:
    params = {"limit": None if limit is None else str(limit), "cursor": cursor}
    return Call("GET", "/v1/tenants", _page(Tenant.from_dict), params=params)


def get_tenant(tenant_id: str) -> Call[Tenant]:
    return Call("GET", f"/v1/tenants/{segment(tenant_id)}", _object(Tenant.from_dict))


def update_tenant(tenant_id: str, changes: Dict[str, Any]) -> Call[Tenant]:
    return Call("PATCH", f"/v1/tenants/{segment(tenant_id)}", _object(Tenant.from_dict), body=changes)


def receipt_keys() -> Call[List[ReceiptKey]]:
    return Call("GET", "/v1/receipts/keys", _keys)
