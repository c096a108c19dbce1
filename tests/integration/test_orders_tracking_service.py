"""ShipmentTracked from fulfillment on the order's timeline, on real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import cast
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from services.order_service.bootstrap import build
from services.order_service.integration import CONSUMES
from services.order_service.settings import Settings
from shared import events as ev
from shared.events.models import TrackingStatus
from shared.runtime.service import ServiceParts
from tests import factories
from tests.factories_order_service import place_order
from tests.kit import apply

pytestmark = pytest.mark.integration


@pytest.fixture
def service(new_database: Callable[..., str]) -> Iterator[ServiceParts]:
    parts = build(Settings(database_url=new_database("orders")))
    yield parts
    parts.close()


def tracked(
    order_id: UUID, shipment_id: UUID, status: str, at: str, said: str
) -> ev.ShipmentTracked:
    """Fulfillment's news of the parcel, as Ninja Van told it."""
    return ev.ShipmentTracked(
        shipment_id=shipment_id,
        order_id=order_id,
        carrier="ninjavan",
        tracking_number="OMSTHDD93179AED01",
        tracking_url="https://www.ninjavan.co/en-th/tracking?id=OMSTHDD93179AED01",
        status=cast(TrackingStatus, status),
        happened_at=datetime.fromisoformat(at).astimezone(UTC),
        description=said,
    )


def test_tracking_shows_on_the_timeline_once_with_exceptions_flagged(service: ServiceParts) -> None:
    order_id = place_order(service.app, lines=factories.lines({"TEE": 1}))
    shipment_id = uuid4()
    out = tracked(
        order_id,
        shipment_id,
        "out_for_delivery",
        "2026-12-02T08:15:00+07:00",
        "On Vehicle for Delivery",
    )
    failed = tracked(
        order_id,
        shipment_id,
        "exception",
        "2026-12-02T18:00:00+07:00",
        "Delivery Exception, Return to Sender Initiated",
    )

    apply(service.app, CONSUMES, out, out, failed)  # the broker may deliver one twice

    service.projections[0].catch_up()
    with TestClient(service.api_factory({})) as http:
        order = http.get(f"/v1/orders/{order_id}").json()
    entries = [e for e in order["timeline"] if e["event"] == "ShipmentTracked"]
    assert [e["detail"]["status"] for e in entries] == ["out_for_delivery", "exception"]
    assert entries[0]["detail"]["tracking_url"].endswith("OMSTHDD93179AED01")
    assert entries[0]["detail"]["happened_at"] == "2026-12-02T01:15:00+00:00"
    assert "exception" not in entries[0]["detail"]
    assert entries[1]["detail"]["exception"] == "carrier_exception"
