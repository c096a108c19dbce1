"""A changed ship-to at fulfillment on PostgreSQL: the shipment, its papers, its view."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader

from services.fulfillment_service.domain import shipment_id_for
from shared import events as ev
from shared.events import now_utc
from tests import factories
from tests.fakes.warehouse import ADDRESS, Warehouse, open_warehouse

pytestmark = pytest.mark.integration

NEW = factories.address(
    name="Ada King", line1="7 Ockham Park", line2=None, city="Ripley", postal_code="GU23 6NE"
)
# The warehouse keeps what its papers print of an address.
NEW_SHIP_TO = {k: NEW.get(k) for k in ("name", "line1", "line2", "city", "postal_code", "country")}


@pytest.fixture
def service(new_database: Any) -> Iterator[Warehouse]:
    """A fulfillment service on a fresh database."""
    with open_warehouse(new_database("fulfillment")) as warehouse:
        yield warehouse


def changed(order_id: uuid.UUID) -> ev.OrderShipToChanged:
    return ev.OrderShipToChanged(order_id=order_id, shipping_address=NEW, changed_at=now_utc())


def shipment(service: Warehouse, order_id: uuid.UUID) -> dict[str, Any]:
    [row] = service.http.get("/v1/shipments", params={"order_id": str(order_id)}).json()["data"]
    return dict(row)


def pdf_text(content: bytes) -> str:
    return " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(content)).pages
    )


def test_an_open_shipment_takes_the_new_ship_to_and_its_papers_print_it(service: Warehouse):
    order_id = service.order({"TEE": 2})

    service.handle(changed(order_id))

    assert shipment(service, order_id)["ship_to"] == NEW_SHIP_TO
    shipment_id = shipment_id_for(order_id, "WH-1")
    slip = service.http.get(f"/v1/shipments/{shipment_id}/packing-slip.pdf")
    assert slip.status_code == 200
    assert "7 Ockham Park" in pdf_text(slip.content)
    assert ADDRESS["line1"] not in pdf_text(slip.content)
    pick_list = service.pick_list(max_shipments=1).json()
    service.confirm(pick_list["pick_list_id"], {"TEE": 2})
    assert service.pack(shipment_id, {"TEE": 2}).status_code == 201
    assert service.ship(shipment_id, {"carrier": "oms-parcel"}).status_code == 200
    labels = service.http.get(f"/v1/shipments/{shipment_id}/labels.pdf")
    assert labels.status_code == 200
    assert "7 Ockham Park" in pdf_text(labels.content)


def test_a_shipment_being_picked_keeps_its_ship_to_and_the_refusal_is_on_record(
    service: Warehouse,
):
    order_id = service.order({"TEE": 1})
    assert service.pick_list(max_shipments=1).status_code == 201
    before = service.position()

    service.handle(changed(order_id))

    row = shipment(service, order_id)
    assert (row["status"], row["ship_to"]) == ("picking", ADDRESS)
    assert service.position() == before + 1  # the refusal, published to orders


def test_the_view_rebuilt_from_the_log_keeps_the_new_ship_to(service: Warehouse):
    order_id = service.order({"TEE": 1})
    service.handle(changed(order_id))
    before = shipment(service, order_id)

    service.views.reset_all(service.projection.name)
    service.projection.catch_up()

    assert shipment(service, order_id) == before
    assert before["ship_to"] == NEW_SHIP_TO
