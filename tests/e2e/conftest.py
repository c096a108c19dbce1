"""The whole system, started the way `oms up` starts it, shared by the e2e tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from psycopg.conninfo import conninfo_to_dict

from shared.cli.system import PORTS, EmbeddedSystem
from shared.events import topics
from shared.runtime.embedded import drop_database, free_port, free_port_block
from tests.kit import bearer

SERVICES = (
    "channel_gateway",
    "order_service",
    "inventory_service",
    "fulfillment_service",
    "returns_service",
)


@pytest.fixture(scope="session")
def system(tmp_path_factory, postgres_server_url) -> Iterator[EmbeddedSystem]:
    """PostgreSQL, the broker and all five services as separate supervised processes."""
    oms = EmbeddedSystem(
        tmp_path_factory.mktemp("oms-var"),
        postgres_url=postgres_server_url,
        kafka_port=free_port(),
        base_http_port=free_port_block(PORTS),
        db_prefix=f"e2e{uuid.uuid4().hex[:8]}",
        console=True,
        console_port=free_port(),
    )
    oms.start()
    databases = oms.database_urls()
    yield oms
    oms.stop()
    for url in databases.values():  # the shared server keeps nothing of this run
        drop_database(postgres_server_url, conninfo_to_dict(url)["dbname"])


class Api:
    """Synchronous HTTP access to every service of the system under test."""

    def __init__(self, urls: dict[str, str], token: str) -> None:
        self.urls = urls
        self.http = httpx.Client(timeout=15, headers=bearer(token))

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.urls[service]}/v1{path}", **kwargs)

    def eventually(self, service: str, path: str, check, timeout: float = 30.0) -> dict:
        """GET until check(body) holds; returns the body."""
        deadline = time.monotonic() + timeout
        body: Any = None
        while time.monotonic() < deadline:
            response = self.call(service, "GET", path)
            if response.status_code == 200:
                body = response.json()
                if check(body):
                    return body
            time.sleep(0.2)
        raise AssertionError(f"GET {service}{path} never satisfied the check; last: {body}")

    def post_until(
        self, service: str, path: str, body: dict, expected: int, timeout: float = 30.0
    ) -> httpx.Response:
        """POST until the answer has the expected status (the service may not know yet)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.call(service, "POST", path, json=body)
            if response.status_code == expected or time.monotonic() > deadline:
                return response
            time.sleep(0.2)

    def pick_list(self, location_id: str) -> dict:
        """A pick list of the location's open shipments (once fulfillment has them)."""
        body = {"location_id": location_id, "max_shipments": 10, "carrier": "oms-parcel"}
        response = self.post_until("fulfillment_service", "/pick-lists", body, expected=201)
        assert response.status_code == 201, response.text
        return response.json()

    def confirm_picks(self, pick_list: dict, picks: list[dict]) -> None:
        """The picker reports what was found of each line."""
        path = f"/pick-lists/{pick_list['pick_list_id']}/confirm"
        response = self.call("fulfillment_service", "POST", path, json={"lines": picks})
        assert response.status_code == 200, response.text

    def ship(self, shipment_id: str, tracking_number: str) -> None:
        """The shipment leaves with DHL."""
        body = {"carrier": "DHL", "tracking_number": tracking_number}
        path = f"/shipments/{shipment_id}/ship"
        response = self.call("fulfillment_service", "POST", path, json=body)
        assert response.status_code == 200, response.text


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
