"""The fulfillment service built in-process for its tests: fed events as its consumer applies
them, driven over its HTTP API, its views brought up to date after each step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from services.fulfillment_service import bootstrap, integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.domain import shipment_id_for
from services.fulfillment_service.settings import Settings
from services.fulfillment_service.views import ShipmentViews
from shared import events as ev
from shared.events import now_utc
from shared.runtime.projection import ProjectionWorker
from tests import factories
from tests.kit import apply

# A ship-to abroad (GB from DE), so the rate table prices a zone rather than domestic.
ADDRESS = factories.address(
    line1="12 Analytical Way", line2="Flat 2", city="London", postal_code="N1 9GU", country="GB"
)
SHIP_FROM = {
    "name": "Babbage Supplies Ltd",
    "line1": "7 Difference Street",
    "city": "Leipzig",
    "postal_code": "04109",
    "country": "DE",
}
DIMENSIONS = {"length": 300, "width": 200, "height": 120}
UNIT_PRICE = "1234.56"  # easy to spot if a price ever reached a document


@dataclass
class Warehouse:
    """The fulfillment service with its HTTP API, fed by events like its consumer is."""

    app: Shipments
    views: ShipmentViews
    projection: ProjectionWorker
    http: TestClient

    def handle(self, *events: ev.IntegrationEvent) -> None:
        """Apply inbound events as the consumer does, then bring the views up to date."""
        apply(self.app, integration.CONSUMES, *events)
        self.projection.catch_up()

    def bins(self, location_id: str = "WH-1", **bins: str) -> None:
        """Inventory assigned these bins (SKU=bin)."""
        for sku, bin in bins.items():
            self.handle(
                ev.BinAssigned(sku=sku, location_id=location_id, bin=bin, assigned_at=now_utc())
            )

    def order(
        self,
        lines: dict[str, int],
        number: str = "W-1001",
        location_id: str = "WH-1",
        ordered: dict[str, int] | None = None,
    ) -> uuid.UUID:
        """An order placed and confirmed with all its lines at one location; returns its id."""
        confirmed = factories.order_confirmed(
            shipping_address=ADDRESS,
            lines=factories.lines(ordered or lines, UNIT_PRICE),
            allocations=factories.allocations(lines, location_id),
            external_id=number,
        )
        self.handle(confirmed)
        return confirmed.order_id

    def pick_list(self, location_id: str = "WH-1", **body: Any) -> Any:
        """POST /v1/pick-lists."""
        response = self.http.post("/v1/pick-lists", json={"location_id": location_id, **body})
        self.projection.catch_up()
        return response

    def confirm(self, pick_list_id: str, picks: dict[str, int]) -> Any:
        """POST the picked units per SKU."""
        lines = [{"sku": sku, "picked": n} for sku, n in picks.items()]
        response = self.http.post(f"/v1/pick-lists/{pick_list_id}/confirm", json={"lines": lines})
        self.projection.catch_up()
        return response

    def pack(self, shipment_id: Any, items: dict[str, int], weight: int = 1200, **kw: Any) -> Any:
        """POST one package of these items."""
        body = {
            "items": [{"sku": sku, "quantity": q} for sku, q in items.items()],
            "weight_grams": weight,
            "dimensions_mm": DIMENSIONS,
        }
        response = self.http.post(f"/v1/shipments/{shipment_id}/packages", json=body, **kw)
        self.projection.catch_up()
        return response

    def ship(self, shipment_id: Any, body: dict[str, Any]) -> Any:
        """POST the ship command."""
        response = self.http.post(f"/v1/shipments/{shipment_id}/ship", json=body)
        self.projection.catch_up()
        return response

    def picked(self, lines: dict[str, int], number: str = "W-1001") -> uuid.UUID:
        """An order's shipment at WH-1 on its own pick list, picked in full; its shipment id."""
        order_id = self.order(lines, number)
        pick_list = self.pick_list(max_shipments=1).json()
        assert self.confirm(pick_list["pick_list_id"], lines).status_code == 200
        return shipment_id_for(order_id, "WH-1")

    def shipped(self, packages: list[dict[str, int]], number: str = "W-1001") -> dict[str, Any]:
        """A shipment picked, packed into these packages and shipped with the rate table."""
        units: dict[str, int] = {}
        for package in packages:
            for sku, q in package.items():
                units[sku] = units.get(sku, 0) + q
        shipment_id = self.picked(units, number)
        for n, package in enumerate(packages):
            assert self.pack(shipment_id, package, weight=800 + 100 * n).status_code == 201
        response = self.ship(shipment_id, {"carrier": "oms-parcel", "service": "express"})
        assert response.status_code == 200, response.text
        return response.json()

    def position(self) -> int:
        """The id of the last stored event."""
        return self.app.recorder.max_notification_id() or 0


@contextmanager
def open_warehouse(database_url: str, **settings: Any) -> Iterator[Warehouse]:
    """A fulfillment service on this database, shipping from Leipzig."""
    settings = {"ship_from": SHIP_FROM, **settings}
    parts = bootstrap.build(Settings(database_url=database_url, **settings))
    [projection] = parts.projections
    app = parts.app
    assert isinstance(app, Shipments) and isinstance(projection.view, ShipmentViews)
    try:
        with TestClient(parts.api_factory({})) as http:
            yield Warehouse(app, projection.view, projection, http)
    finally:
        parts.close()


def assert_problem(response: Any, status: int, title: str | None = None) -> None:
    """The response is an RFC 9457 problem with this status (and title)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if title is not None:
        assert response.json()["title"] == title, response.json()
