"""The papers name the order by the channel's own number (#1001), the packing slip shows the
customer's note, and the ship-to's company, state and phone reach slips and labels."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator

import pytest
from pypdf import PdfReader

from services.fulfillment_service import bootstrap, integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.documents import (
    label_documents,
    packing_slip_document,
    pick_list_document,
    render_labels,
    render_packing_slip,
    render_zpl,
)
from services.fulfillment_service.domain import shipment_id_for
from services.fulfillment_service.settings import Settings
from shared.events import now_utc
from tests import factories
from tests.kit import apply

KENTUCKY = factories.address(
    name="Steve Shipper",
    line1="123 Shipping Street",
    city="Shippington",
    postal_code="40003",
    country="US",
    company="Shipping Company",
    phone="555-555-SHIP",
    state="Kentucky",
    state_code="US-KY",
)
NOTE = "Please leave the parcel with the neighbour at number 12, not at the door."
DIMENSIONS = {"length": 300, "width": 200, "height": 100}


@pytest.fixture
def app() -> Iterator[Shipments]:
    application = bootstrap.configure(Shipments(), Settings())
    yield application
    application.close()


def confirmed(app: Shipments, address: dict = KENTUCKY, **facts: str) -> uuid.UUID:
    """A Shopify order confirmed at WH-1: two tees to `address`; returns its shipment's id."""
    event = factories.order_confirmed(
        {"TEE": 2},
        shipping_address=address,
        channel="shopify-us",
        external_id="820982911946154508",
        placed_at=now_utc(),
        **facts,
    )
    apply(app, integration.CONSUMES, event)
    return shipment_id_for(event.order_id, "WH-1")


def shipped(app: Shipments, shipment_id: uuid.UUID) -> None:
    """Picked, packed in one box and shipped with the rate table's carrier."""
    app.picking.create_pick_list("WH-1", [shipment_id], lambda skus: {}, 10)
    shipment = app.get_shipment(shipment_id)
    app.picking.confirm_picks(uuid.UUID(shipment.pick_list_id), [{"sku": "TEE", "picked": 2}])
    app.packing.add_package(shipment_id, [{"sku": "TEE", "quantity": 2}], 800, DIMENSIONS)
    app.packing.ship(shipment_id, "oms-parcel", service="express")


def pdf_text(content: bytes) -> str:
    """Every page's text, words separated by single spaces."""
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_the_packing_slip_shows_the_channel_s_number_the_note_and_the_state(
    app: Shipments,
) -> None:
    shipment_id = confirmed(app, channel_order_number="#1001", note=NOTE)

    slip = packing_slip_document(app.printing.packing_slip(shipment_id))
    text = pdf_text(render_packing_slip(slip))

    assert slip.order_number == "#1001"
    assert "Order #1001" in text and "820982911946154508" not in text
    assert f"Note from the customer {NOTE}" in text
    for line in ("Shipping Company", "Shippington KY 40003", "US", "Tel. 555-555-SHIP"):
        assert line in text, line
    assert app.get_shipment(shipment_id).ship_to == KENTUCKY | {"line2": None}  # kept whole


def test_a_long_note_is_cut_on_the_slip_and_the_table_still_follows(app: Shipments) -> None:
    shipment_id = confirmed(app, channel_order_number="#1002", note="word " * 999)

    text = pdf_text(
        render_packing_slip(packing_slip_document(app.printing.packing_slip(shipment_id)))
    )

    assert "\u2026" in text
    assert re.search(r" TEE TEE 2 2 - ", text), text


def test_the_pdf_and_zpl_labels_name_the_order_by_its_number_and_show_the_state(
    app: Shipments,
) -> None:
    shipment_id = confirmed(app, channel_order_number="#1001", note=NOTE)
    shipped(app, shipment_id)

    labels = label_documents(app.printing.labels(shipment_id))
    pdf = pdf_text(render_labels(labels))
    zpl = render_zpl(labels)

    assert "Order #1001" in pdf
    for line in ("Steve Shipper", "Shipping Company", "Shippington KY 40003", "Tel. 555-555-SHIP"):
        assert line in pdf, line
        assert f"^FD{line}^FS" in zpl, line
    assert "^FDOrder #1001^FS" in zpl
    assert NOTE not in pdf and NOTE not in zpl  # the note is for the packer, not the carrier


def test_the_pick_list_names_the_order_by_its_number_too(app: Shipments) -> None:
    shipment_id = confirmed(app, channel_order_number="#1001")
    pick_list, _ = app.picking.create_pick_list("WH-1", [shipment_id], lambda skus: {}, 10)

    document = pick_list_document(app.printing.pick_list(pick_list.id))

    assert [number for _, number, _ in document.slots] == ["#1001"]


def test_an_order_without_a_channel_number_or_note_prints_as_before(app: Shipments) -> None:
    shipment_id = confirmed(app, factories.address())

    slip = packing_slip_document(app.printing.packing_slip(shipment_id))
    text = pdf_text(render_packing_slip(slip))

    assert slip.order_number == "820982911946154508" and slip.note is None
    assert "Note from the customer" not in text and "Tel." not in text
    # Only the fields the order has: an address told again compares equal to the older one.
    assert app.get_shipment(shipment_id).ship_to == factories.address(line2=None)
