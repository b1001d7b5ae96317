"""Usage reports (``GET /v1/usage``): ``client.usage.report(...)`` for every row of a report,
``client.usage.page(...)`` for one page, ``client.usage.csv(...)`` for the server's CSV.

A tenant's master key sees its own tenant; an operator every tenant, or the one ``tenant_id`` names.
Rows count admitted, rate-limited and failed requests per UTC hour or day, one per tenant per bucket
(per key with ``by_key=True``); buckets without traffic are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, AsyncIterator, Awaitable, Dict, Iterator, List, Optional, Protocol, Tuple, TypeVar, Union

import httpx

from ._core import Call
from ._operations import _timestamp
from .types import Model, _time

T = TypeVar("T")
Moment = Union[datetime, str, None]

__all__ = ["UsageRow", "UsageReport", "Usage", "AsyncUsage"]


@dataclass
class UsageRow(Model):
    """One bucket of a tenant (or, grouped by key, of one key): ``start`` inclusive, ``end`` exclusive."""

    start: datetime
    end: datetime
    tenant_id: str
    key_id: Optional[str]
    admitted: int
    rate_limited: int
    errors: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "UsageRow":
        return cls(
            start=_time(data["start"]), end=_time(data["end"]), tenant_id=data["tenant_id"], key_id=data.get("key_id"),
            admitted=int(data["admitted"]), rate_limited=int(data["rate_limited"]), errors=int(data["errors"]),
            raw=data,
        )


@dataclass
class UsageReport(Model):
    """One page of a report, with the range it covers (widened to whole buckets) and its granularity."""

    items: List[UsageRow]
    next_cursor: Optional[str]
    has_more: bool
    start: datetime
    end: datetime
    granularity: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "UsageReport":
        cursor = data.get("next_cursor")
        return cls(
            items=[UsageRow.from_dict(item) for item in data["items"]], next_cursor=cursor,
            has_more=bool(data.get("has_more", cursor is not None)), start=_time(data["from"]), end=_time(data["to"]),
            granularity=data["granularity"], raw=data,
        )


def _params(
    from_: Moment, to: Moment, granularity: Optional[str], by_key: bool, tenant_id: Optional[str],
    limit: Optional[int], cursor: Optional[str],
) -> Dict[str, Optional[str]]:
    return {
        "from": _timestamp(from_), "to": _timestamp(to), "granularity": granularity,
        "group_by": "key" if by_key else None, "tenant_id": tenant_id,
        "limit": str(limit) if limit is not None else None, "cursor": cursor,
    }


def _page_call(params: Dict[str, Optional[str]]) -> Call[UsageReport]:
    def read(response: httpx.Response) -> UsageReport:
        data = response.json()
        if not isinstance(data, dict):
            raise TypeError("expected a JSON object")
        return UsageReport.from_dict(data)

    return Call("GET", "/v1/usage", read, params=params)


def _csv_call(params: Dict[str, Optional[str]]) -> Call[Tuple[str, Optional[str]]]:
    def read(response: httpx.Response) -> Tuple[str, Optional[str]]:
        return response.text, response.headers.get("X-Next-Cursor")

    return Call("GET", "/v1/usage", read, params=params, headers={"Accept": "text/csv"})


def _join_csv(text: str, page: str) -> str:
    """``page`` added to ``text``: every page repeats the header line; only the first one's is kept."""
    if not text:
        return page
    _, _, rows = page.partition("\r\n")
    return text + rows


class Runner(Protocol):
    def __call__(self, call: Call[T]) -> T: ...


class AsyncRunner(Protocol):
    def __call__(self, call: Call[T]) -> Awaitable[T]: ...


class Usage:
    """``client.usage``: usage reports (master key, or operator)."""

    def __init__(self, run: Runner) -> None:
        self._run = run

    def page(
        self, *, from_: Moment = None, to: Moment = None, granularity: Optional[str] = None, by_key: bool = False,
        tenant_id: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None,
    ) -> UsageReport:
        """One page; pass its ``next_cursor`` back (with the same arguments) for the next."""
        return self._run(_page_call(_params(from_, to, granularity, by_key, tenant_id, limit, cursor)))

    def rows(
        self, *, from_: Moment = None, to: Moment = None, granularity: Optional[str] = None, by_key: bool = False,
        tenant_id: Optional[str] = None, limit: Optional[int] = None,
    ) -> Iterator[UsageRow]:
        """Every row, fetched ``limit`` per page as iterated."""
        cursor: Optional[str] = None
        while True:
            page = self.page(from_=from_, to=to, granularity=granularity, by_key=by_key, tenant_id=tenant_id,
                             limit=limit, cursor=cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def report(
        self, *, from_: Moment = None, to: Moment = None, granularity: Optional[str] = None, by_key: bool = False,
        tenant_id: Optional[str] = None, limit: Optional[int] = None,
    ) -> List[UsageRow]:
        """Every row of the report (all pages): ``from_`` inclusive, ``to`` exclusive, ``granularity``
        ``"hour"`` (default: the last 24 hours) or ``"day"`` (default: 30 days)."""
        return list(self.rows(from_=from_, to=to, granularity=granularity, by_key=by_key, tenant_id=tenant_id,
                              limit=limit))

    def csv(
        self, *, from_: Moment = None, to: Moment = None, granularity: Optional[str] = None, by_key: bool = False,
        tenant_id: Optional[str] = None, limit: Optional[int] = None,
    ) -> str:
        """The whole report as the server writes it in CSV (RFC 4180, CRLF): one header, every page's rows."""
        text, cursor = "", None
        while True:
            page, cursor = self._run(_csv_call(_params(from_, to, granularity, by_key, tenant_id, limit, cursor)))
            text = _join_csv(text, page)
            if not cursor:
                return text


class AsyncUsage:
    """``client.usage`` of :class:`aitbc.AsyncAITBCClient`; see :class:`Usage`."""

    def __init__(self, run: AsyncRunner) -> None:
        self._run = run

    async def page(
        self, *, from_: Moment = None, to: Moment = None, granularity: Optional[str] = None, by_key: bool = False,
        tenant_id: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None,
    ) -> UsageReport:
        return await self._run(_page_call(_params(from_, to, granularity, by_key, tenant_id, limit, cursor)))

    async def rows(
        self, *, from_: Moment = None, to: Moment = None, granularity: Optional[str] = None, by_key: bool = False,
        tenant_id: Optional[str] = None, limit: Optional[int] = None,
    ) -> AsyncIterator[UsageRow]:
        cursor: Optional[str] = None
        while True:
            page = await self.page(from_=from_, to=to, granularity=granularity, by_key=by_key, tenant_id=tenant_id,
                                   limit=limit, cursor=cursor)
            for row in page.items:
                yield row
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def report(
        self, *, from_: Moment = None, to: Moment = None, granularity: Optional[str] = None, by_key: bool = False,
        tenant_id: Optional[str] = None, limit: Optional[int] = None,
    ) -> List[UsageRow]:
        return [row async for row in self.rows(from_=from_, to=to, granularity=granularity, by_key=by_key,
                                               tenant_id=tenant_id, limit=limit)]

    async def csv(
        self, *, from_: Moment = None, to: Moment = None, granularity: Optional[str] = None, by_key: bool = False,
        tenant_id: Optional[str] = None, limit: Optional[int] = None,
    ) -> str:
        text, cursor = "", None
        while True:
            page, cursor = await self._run(_csv_call(_params(from_, to, granularity, by_key, tenant_id, limit, cursor)))
            text = _join_csv(text, page)
            if not cursor:
                return text
