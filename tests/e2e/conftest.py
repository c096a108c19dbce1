"""The whole system, started the way `oms up` starts it, shared by the e2e tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from shared.cli.system import EmbeddedSystem
from shared.events import topics
from tests.systems import Api, running_system

SERVICES = (
    "channel_gateway",
    "order_service",
    "inventory_service",
    "fulfillment_service",
    "returns_service",
)


@pytest.fixture(scope="session")
def system(tmp_path_factory, postgres_server_url) -> Iterator[EmbeddedSystem]:
    """PostgreSQL, the broker, all five services and the console as supervised processes."""
    var_dir = tmp_path_factory.mktemp("oms-var")
    with running_system(var_dir, postgres_server_url, "e2e", console=True) as oms:
        yield oms


@pytest.fixture(scope="session")
def api(system: EmbeddedSystem) -> Iterator[Api]:
    client = Api(system.urls(), system.admin_token)
    yield client
    client.http.close()


def read_topics(bootstrap: str, names: tuple[str, ...] = topics.ALL_TOPICS) -> list[Any]:
    """Every record currently on the topics."""

    async def read() -> list[Any]:
        consumer = AIOKafkaConsumer(
            *names, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            records: list[Any] = []
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                if not batch:
                    return records
                for part in batch.values():
                    records.extend(part)
        finally:
            await consumer.stop()

    return asyncio.run(read())
