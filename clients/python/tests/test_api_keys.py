"""``client.api_keys``: create, get, list, update, revoke, regenerate, usage."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from aitbc.exceptions import AuthenticationError
from sdk_helpers import FreshTenant


def test_create_get_list_update_and_usage(tenant: FreshTenant) -> None:
    master = tenant.master()
    expires = datetime.now(timezone.utc) + timedelta(days=30)
    created = master.api_keys.create("ci runner", "client", scopes=["jobs:read"], expires_at=expires,
                                     rate_limit_per_minute=30, metadata={"team": "ml"})
    assert created.api_key and created.api_key.startswith("aitbc_client_")
    assert created.scopes == ["jobs:read"] and created.rate_limit_per_minute == 30 and created.status == "active"
    assert created.expires_at is not None and abs((created.expires_at - expires).total_seconds()) < 2
    assert created.api_key not in repr(created)

    fetched = master.api_keys.get(created.key_id)
    assert fetched.key_id == created.key_id and fetched.api_key is None and fetched.metadata == {"team": "ml"}
    listed = list(master.api_keys.list(limit=1))
    assert created.key_id in [key.key_id for key in listed] and len(listed) >= 4
    assert all(key.api_key is None for key in listed)

    changed = master.api_keys.update(created.key_id, name="renamed", rate_limit_per_minute=None)
    assert changed.name == "renamed" and changed.rate_limit_per_minute is None

    tenant.client(created.api_key).jobs.page()
    usage = master.api_keys.usage(created.key_id)
    assert usage.key_id == created.key_id and usage.totals.admitted >= 0 and isinstance(usage.minutes, list)


def test_revoked_key_is_refused_at_once(tenant: FreshTenant) -> None:
    master = tenant.master()
    created = master.api_keys.create("short-lived", "client")
    assert created.api_key
    user = tenant.client(created.api_key)
    assert user.me().key_id == created.key_id
    assert master.api_keys.revoke(created.key_id).status == "revoked"
    with pytest.raises(AuthenticationError) as raised:
        user.me()
    assert raised.value.code == "API_KEY_REVOKED" and raised.value.status == 401


def test_regenerate_replaces_the_secret(tenant: FreshTenant) -> None:
    master = tenant.master()
    created = master.api_keys.create("rotating", "client")
    assert created.api_key
    renewed = master.api_keys.regenerate(created.key_id)
    assert renewed.key_id == created.key_id and renewed.api_key and renewed.api_key != created.api_key
    assert tenant.client(renewed.api_key).me().key_id == created.key_id
    with pytest.raises(AuthenticationError):
        tenant.client(created.api_key).me()

    graced = master.api_keys.regenerate(created.key_id, grace_period_seconds=3600)
    assert graced.previous_secret_valid_until is not None
    assert tenant.client(renewed.api_key).me().key_id == created.key_id
