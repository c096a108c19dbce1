"""An order with one SKU on two lines (lines are never merged): the warehouse sees the SKU's
units once, summed, on its shipment, pick list and packing slip."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services.fulfillment_service import bootstrap, integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.documents.sources import packing_slip_document
from services.fulfillment_service.domain import shipment_id_for
from services.fulfillment_service.settings import Settings
from shared.events import now_utc
from tests import factories
from tests.kit import apply


@pytest.fixture
def app() -> Iterator[Shipments]:
    application = bootstrap.configure(Shipments(), Settings())
    yield application
    application.close()


def test_a_sku_on_two_lines_ships_picks_and_is_on_the_packing_slip_as_its_units_summed(
    app: Shipments,
) -> None:
    order_id = uuid.uuid4()
    tee = {"sku": "TEE", "quantity": 1}
    confirmed = factories.order_confirmed(
        order_id=order_id,
        shipping_address=factories.address(),
        lines=[tee | {"unit_price": "20.00"}, tee | {"unit_price": "10.00"}],
        allocations=[tee | {"location_id": "WH-1"}, tee | {"location_id": "WH-1"}],
        channel="shopify-eu",
        external_id="1042",
        placed_at=now_utc(),
    )

    apply(app, integration.CONSUMES, confirmed)
    shipment = app.get_shipment(shipment_id_for(order_id, "WH-1"))
    pick_list, _ = app.picking.create_pick_list("WH-1", [shipment.id], lambda skus: {}, 10)
    slip = packing_slip_document(app.printing.packing_slip(shipment.id))

    assert shipment.lines == [{"sku": "TEE", "quantity": 2}]
    assert [(line["sku"], line["quantity"]) for line in pick_list.lines] == [("TEE", 2)]
    assert [(x.sku, x.ordered, x.in_shipment, x.to_follow) for x in slip.lines] == [
        ("TEE", 2, 2, 0)
    ]
