"""An order's lines edited before picking: its open shipments make way for the new ones."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services.fulfillment_service import bootstrap
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.domain import ShipmentStatus, shipment_id_for
from services.fulfillment_service.settings import Settings
from shared import events as ev
from shared.events import now_utc
from tests import factories
from tests.unit.test_fulfillment_ship_to import (
    confirmed_order,
    handle,
    pick_at_wh1,
    position,
    published,
)


@pytest.fixture
def app() -> Iterator[Shipments]:
    """The application on the in-memory store, with the default settings' carriers."""
    application = bootstrap.configure(Shipments(), Settings())
    yield application
    application.close()


def edited(order_id: uuid.UUID, revision: int = 1) -> ev.OrderLinesChanged:
    """The order service's news of an edit: one SKU-1 instead of two."""
    return ev.OrderLinesChanged(
        order_id=order_id,
        channel="web",
        external_id="1001",
        revision=revision,
        lines=factories.lines({"SKU-1": 1, "SKU-2": 1}),
        currency="EUR",
        reason="customer asked",
        changed_at=now_utc(),
    )


def reconfirmed(order_id: uuid.UUID, revision_allocations: list[dict]) -> ev.OrderConfirmed:
    """The order confirmed again after the edit, with its new lines' stock."""
    return factories.order_confirmed(
        order_id=order_id,
        lines=factories.lines({"SKU-1": 1, "SKU-2": 1}),
        allocations=revision_allocations,
    )


def status_of(app: Shipments, shipment_id: uuid.UUID) -> str:
    return app.repository.get(shipment_id).status


def test_open_shipments_are_cancelled_and_the_new_confirmation_creates_new_ones(
    app: Shipments,
) -> None:
    order_id = confirmed_order(app)
    old = [shipment_id_for(order_id, "WH-1"), shipment_id_for(order_id, "WH-2")]
    before = position(app)

    handle(app, edited(order_id))
    handle(app, reconfirmed(order_id, factories.allocations({"SKU-1": 1, "SKU-2": 1}, "WH-1")))

    events = published(app, before)
    cancelled = [e.shipment_id for e in events if isinstance(e, ev.ShipmentCancelled)]
    assert sorted(cancelled) == sorted(old)
    (created,) = [e for e in events if isinstance(e, ev.ShipmentCreated)]
    assert created.shipment_id == shipment_id_for(order_id, "WH-1", 1)
    assert sorted((line.sku, line.quantity) for line in created.lines) == [
        ("SKU-1", 1),
        ("SKU-2", 1),
    ]
    assert all(status_of(app, i) == ShipmentStatus.CANCELLED for i in old)


def test_the_same_edit_again_changes_nothing(app: Shipments) -> None:
    order_id = confirmed_order(app)
    handle(app, edited(order_id))
    before = position(app)

    handle(app, edited(order_id))

    assert position(app) == before


def test_a_shipment_being_picked_keeps_its_lines_and_says_so_once(app: Shipments) -> None:
    order_id = confirmed_order(app)
    pick_list_id = pick_at_wh1(app, order_id)
    before = position(app)

    handle(app, edited(order_id))
    handle(app, edited(order_id))

    events = published(app, before)
    (refused,) = [e for e in events if isinstance(e, ev.OrderEditRefused)]
    assert refused.shipment_id == shipment_id_for(order_id, "WH-1")
    assert refused.revision == 1
    assert str(pick_list_id) in refused.reason
    assert not [e for e in events if isinstance(e, ev.ShipmentCancelled)]
    # The order keeps its shipments: a confirmation of the new lines creates none.
    handle(app, reconfirmed(order_id, factories.allocations({"SKU-1": 1, "SKU-2": 1}, "WH-1")))
    assert not [e for e in published(app, before) if isinstance(e, ev.ShipmentCreated)]


def test_an_edit_before_confirmation_needs_nothing_here(app: Shipments) -> None:
    order_id = uuid.uuid4()
    before = position(app)

    handle(app, edited(order_id))
    handle(app, reconfirmed(order_id, factories.allocations({"SKU-1": 1, "SKU-2": 1}, "WH-1")))

    (created,) = [e for e in published(app, before) if isinstance(e, ev.ShipmentCreated)]
    assert created.shipment_id == shipment_id_for(order_id, "WH-1")
