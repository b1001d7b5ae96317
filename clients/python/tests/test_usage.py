"""``client.usage``: reports per hour or day, per key, every page, CSV, and who may read them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from aitbc import AITBCClient, AsyncAITBCClient, UsageRow
from aitbc.exceptions import PermissionDeniedError, ValidationError
from sdk_helpers import FreshTenant


def _client_traffic(tenant: FreshTenant, count: int) -> str:
    client = tenant.client()
    for _ in range(count):
        client.jobs.page()
    return client.me().key_id


def test_report_counts_each_request_once_per_key_and_follows_cursors(tenant: FreshTenant) -> None:
    key_id = _client_traffic(tenant, 3)
    master = tenant.master()
    rows = master.usage.report(by_key=True)
    mine = [row for row in rows if row.key_id == key_id]
    # me() counts too: three pages and one me.
    assert sum(row.admitted for row in mine) == 4
    assert all(isinstance(row, UsageRow) and row.tenant_id == tenant.tenant_id for row in rows)
    assert all(row.end - row.start == timedelta(hours=1) for row in rows)
    # The master's own report requests add to its row between reads; the other rows stay the same.
    paged = master.usage.report(by_key=True, limit=1)
    assert [row for row in paged if row.key_id == key_id] == mine and len(paged) == len(rows)

    page = master.usage.page(granularity="day", limit=1)
    assert page.granularity == "day" and len(page.items) == 1
    assert page.start.tzinfo is not None and page.end - page.start == timedelta(days=30)
    assert page.items[0].key_id is None and page.items[0].admitted >= 4


def test_csv_is_the_servers_csv_with_one_header_over_every_page(tenant: FreshTenant) -> None:
    key_id = _client_traffic(tenant, 2)
    text = tenant.master().usage.csv(by_key=True, limit=1, granularity="day")
    lines = text.split("\r\n")
    assert lines[0] == "start,end,tenant_id,key_id,admitted,rate_limited,errors"
    assert sum(line.startswith("start,") for line in lines) == 1
    assert any(line.endswith(f",{tenant.tenant_id},{key_id},3,0,0") for line in lines)
    assert text.endswith("\r\n")


def test_async_report_and_csv(tenant: FreshTenant) -> None:
    key_id = _client_traffic(tenant, 1)

    async def flow() -> None:
        async with AsyncAITBCClient(tenant.master_key, tenant.url) as master:
            rows = await master.usage.report(by_key=True, limit=1)
            assert sum(row.admitted for row in rows if row.key_id == key_id) == 2
            whole = await master.usage.report(by_key=True)
            assert [row for row in rows if row.key_id == key_id] == [row for row in whole if row.key_id == key_id]
            assert len(rows) == len(whole)
            text = await master.usage.csv(from_=datetime.now(timezone.utc) - timedelta(hours=2))
            assert text.startswith("start,end,tenant_id,admitted,rate_limited,errors\r\n")

    asyncio.run(flow())


def test_another_tenants_usage_is_refused_and_bad_parameters_name_the_field(
    tenant: FreshTenant, other_tenant: FreshTenant, operator: AITBCClient
) -> None:
    _client_traffic(tenant, 1)
    hostile = other_tenant.master()
    with pytest.raises(PermissionDeniedError) as refused:
        hostile.usage.report(tenant_id=tenant.tenant_id)
    assert refused.value.code == "TENANT_MISMATCH"
    assert all(row.tenant_id == other_tenant.tenant_id for row in hostile.usage.report())
    with pytest.raises(PermissionDeniedError):
        tenant.client().usage.report()

    with pytest.raises(ValidationError) as bad:
        hostile.usage.report(granularity="week")
    assert bad.value.details.get("field") == "granularity"
    with pytest.raises(ValidationError) as too_long:
        hostile.usage.report(from_="2020-01-01T00:00:00Z", to="2020-03-01T00:00:00Z")
    assert too_long.value.details.get("field") == "from"

    seen = operator.usage.report(tenant_id=tenant.tenant_id, by_key=True)
    assert seen and all(row.tenant_id == tenant.tenant_id for row in seen)
