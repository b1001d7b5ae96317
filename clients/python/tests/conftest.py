"""Fixtures: a live coordinator named by the environment, fresh tenants made through the operator
key, and a scripted HTTP server on loopback for retry behaviour.

``scripts/python-tests`` starts a coordinator and sets everything; by hand, export ``AITBC_URL`` and
``AITBC_TEST_OPERATOR_KEY`` / ``AITBC_TEST_MASTER_KEY`` / ``AITBC_TEST_CLIENT_KEY`` /
``AITBC_TEST_MINER_KEY`` (the coordinator's development keys, tenant ``test-tenant``).
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from aitbc import AITBCClient
from sdk_helpers import FreshTenant, ScriptedServer, new_tenant

LIVE_VARIABLES = ("AITBC_URL", "AITBC_TEST_OPERATOR_KEY", "AITBC_TEST_MASTER_KEY", "AITBC_TEST_CLIENT_KEY",
                  "AITBC_TEST_MINER_KEY")


def _setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.skip(
            f"{name} is not set: these tests need a live coordinator. Run scripts/python-tests (it starts one), "
            f"or export {', '.join(LIVE_VARIABLES)}"
        )
    return value


@pytest.fixture(scope="session")
def url() -> str:
    return _setting("AITBC_URL")


@pytest.fixture(scope="session")
def operator_key() -> str:
    return _setting("AITBC_TEST_OPERATOR_KEY")


@pytest.fixture(scope="session")
def master_key() -> str:
    return _setting("AITBC_TEST_MASTER_KEY")


@pytest.fixture(scope="session")
def client_key() -> str:
    return _setting("AITBC_TEST_CLIENT_KEY")


@pytest.fixture(scope="session")
def miner_key() -> str:
    return _setting("AITBC_TEST_MINER_KEY")


@pytest.fixture
def operator(url: str, operator_key: str) -> Iterator[AITBCClient]:
    with AITBCClient(operator_key, url) as client:
        yield client


@pytest.fixture
def tenant(operator: AITBCClient, url: str) -> Iterator[FreshTenant]:
    made = new_tenant(operator, url)
    yield made
    for client in made.clients:
        client.close()


@pytest.fixture
def other_tenant(operator: AITBCClient, url: str) -> Iterator[FreshTenant]:
    made = new_tenant(operator, url)
    yield made
    for client in made.clients:
        client.close()


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    yield server
    server.close()
