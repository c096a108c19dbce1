"""A whole system in tests, started the way `oms up` starts it, and its APIs as the admin."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from psycopg.conninfo import conninfo_to_dict

from shared.cli.system import PORTS, EmbeddedSystem
from shared.runtime.embedded import drop_database, free_port, free_port_block
from tests.kit import bearer


@contextmanager
def running_system(
    var_dir: Path, postgres_url: str, prefix: str, **options: Any
) -> Iterator[EmbeddedSystem]:
    """The services (and what `options` add: the console, ...) on their own free ports and
    databases of their own; the databases are dropped after."""
    oms = EmbeddedSystem(
        var_dir,
        postgres_url=postgres_url,
        kafka_port=free_port(),
        base_http_port=free_port_block(PORTS),
        db_prefix=f"{prefix}{uuid.uuid4().hex[:8]}",
        console_port=free_port(),
        **options,
    )
    oms.start()
    databases = oms.database_urls()
    try:
        yield oms
    finally:
        oms.stop()
        for url in databases.values():  # the shared server keeps nothing of this run
            drop_database(postgres_url, conninfo_to_dict(url)["dbname"])


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

    def ok(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a call that must succeed."""
        answer = self.call(service, method, path, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer.json()
