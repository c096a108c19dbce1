"""Labels print the ship-from inventory published for the location; configured one otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.fulfillment_service import bootstrap, integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.documents import label_documents, render_zpl
from services.fulfillment_service.settings import DEFAULT_SHIP_FROM, Settings
from shared import events as ev
from shared.events import now_utc
from tests.kit import apply
from tests.unit.test_fulfillment_order_papers import confirmed, shipped

MUNICH = ev.Address(
    name="OMS Demo Merchant Munich",
    line1="5 Lagerstrasse",
    city="Munich",
    postal_code="80331",
    country="DE",
    state="Bavaria",
)


@pytest.fixture
def app() -> Iterator[Shipments]:
    application = bootstrap.configure(Shipments(), Settings())
    yield application
    application.close()


def moved(app: Shipments, address: ev.Address, location_id: str = "WH-1") -> None:
    """Inventory publishes where the location is."""
    event = ev.LocationAddressChanged(
        location_id=location_id,
        address=address,
        latitude=48.14,
        longitude=11.58,
        changed_at=now_utc(),
    )
    apply(app, integration.CONSUMES, event)


def test_a_location_inventory_never_placed_ships_from_the_configured_address(
    app: Shipments,
) -> None:
    assert app.ship_from_address("WH-1")["name"] == DEFAULT_SHIP_FROM.name


def test_labels_print_the_address_inventory_published_for_the_location(app: Shipments) -> None:
    moved(app, MUNICH)
    shipment_id = confirmed(app)
    shipped(app, shipment_id)

    zpl = render_zpl(label_documents(app.printing.labels(shipment_id)))

    assert "^FDOMS Demo Merchant Munich^FS" in zpl
    assert f"^FD{DEFAULT_SHIP_FROM.line1}^FS" not in zpl
    assert app.ship_from_address("WH-2")["name"] == DEFAULT_SHIP_FROM.name  # others unchanged


def test_a_changed_address_replaces_the_known_one_and_a_repeat_changes_nothing(
    app: Shipments,
) -> None:
    moved(app, MUNICH)
    moved(app, MUNICH.model_copy(update={"name": "Munich North"}))
    assert app.ship_from_address("WH-1")["name"] == "Munich North"
    assert app.picking.record_location_address("WH-1", app.ship_from_address("WH-1")) is False
