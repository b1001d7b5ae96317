"""``allowed_ips`` on keys: set at creation, changed and cleared with ``update``, enforced by the server."""

from __future__ import annotations

import pytest

from aitbc.exceptions import PermissionDeniedError, ValidationError
from sdk_helpers import FreshTenant

# The coordinator under test sees these tests at the loopback address, over IPv4 or IPv6.
LOOPBACK = ["127.0.0.1", "::1"]


def test_allow_list_is_returned_enforced_changed_and_cleared(tenant: FreshTenant) -> None:
    master = tenant.master()
    created = master.api_keys.create("office only", "client", allowed_ips=LOOPBACK + ["203.0.113.0/24"])
    assert created.allowed_ips == ["127.0.0.1/32", "::1/128", "203.0.113.0/24"]
    assert created.api_key
    user = tenant.client(created.api_key)
    me = user.me()
    assert me.allowed_ips == created.allowed_ips

    narrowed = master.api_keys.update(created.key_id, allowed_ips=["203.0.113.0/24"])
    assert narrowed.allowed_ips == ["203.0.113.0/24"]
    with pytest.raises(PermissionDeniedError) as raised:
        user.me()
    assert raised.value.code == "IP_NOT_ALLOWED" and raised.value.status == 403
    assert "203.0.113" not in str(raised.value)

    cleared = master.api_keys.update(created.key_id, allowed_ips=None)
    assert cleared.allowed_ips is None and master.api_keys.get(created.key_id).allowed_ips is None
    assert user.me().allowed_ips is None


def test_an_invalid_allow_list_is_refused(tenant: FreshTenant) -> None:
    with pytest.raises(ValidationError) as raised:
        tenant.master().api_keys.create("bad", "client", allowed_ips=["10.1.2.3/8"])
    assert raised.value.code == "INVALID_REQUEST" and raised.value.details.get("field") == "allowed_ips"
