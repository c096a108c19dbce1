"""Fulfillment's copy of the catalogue (from ItemChanged): names on the papers, packing
verified by scanned GTIN, parcels rated by the items' weights (in-memory store)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from pypdf import PdfReader

from services.fulfillment_service import bootstrap, integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.carriers import DEFAULT_RATE_TABLE, rate_table_carrier
from services.fulfillment_service.documents import (
    label_documents,
    packing_slip_document,
    pick_list_document,
    render_labels,
    render_packing_slip,
    render_pick_list,
    render_zpl,
)
from services.fulfillment_service.domain import ScanMismatchError, shipment_id_for
from services.fulfillment_service.schemas import PickListPublic
from services.fulfillment_service.settings import Settings
from shared import events as ev
from shared.events import now_utc
from tests import factories
from tests.kit import apply

DIMENSIONS = {"length": 300, "width": 200, "height": 100}
TEE_GTIN = "4006381333931"
TEA_UPC = "036000291452"  # GTIN-12; a scanner may read it as EAN-13 with a leading 0


@pytest.fixture
def app() -> Iterator[Shipments]:
    application = bootstrap.configure(Shipments(), Settings())
    yield application
    application.close()


def item_changed(sku: str, name: str, **details: object) -> ev.ItemChanged:
    return ev.ItemChanged.model_validate(
        {"sku": sku, "name": name, "changed_at": now_utc(), **details}
    )


def handle(app: Shipments, event: ev.IntegrationEvent) -> None:
    apply(app, integration.CONSUMES, event)


def position(app: Shipments) -> int:
    return app.recorder.max_notification_id() or 0


def picked(app: Shipments, lines: dict[str, int]) -> uuid.UUID:
    """An order confirmed at WH-1 and picked in full; returns its shipment's id."""
    event = factories.order_confirmed(lines, channel=None, external_id=None, placed_at=None)
    handle(app, event)
    shipment_id = shipment_id_for(event.order_id, "WH-1")
    pick_list, _ = app.picking.create_pick_list("WH-1", [shipment_id], lambda skus: {}, 10)
    app.picking.confirm_picks(pick_list.id, [{"sku": sku, "picked": n} for sku, n in lines.items()])
    return shipment_id


def pdf_text(content: bytes) -> str:
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_item_changed_is_kept_once_and_a_redelivery_records_nothing(app: Shipments) -> None:
    handle(app, item_changed("TEE", "Organic tee", variant="Black / M", gtins=[TEE_GTIN]))
    mark = position(app)
    handle(app, item_changed("TEE", "Organic tee", variant="Black / M", gtins=[TEE_GTIN]))
    assert position(app) == mark
    handle(app, item_changed("TEE", "Organic tee", variant="Black / L", gtins=[TEE_GTIN]))
    assert position(app) == mark + 1
    assert app.catalogue.labels(["TEE", "UNKNOWN"]) == {"TEE": "Organic tee (Black / L)"}


def test_the_pick_list_slip_and_labels_print_the_items_name_and_variant(app: Shipments) -> None:
    handle(app, item_changed("TEE", "Organic tee", variant="Black / M", weight_grams=200))
    handle(app, item_changed("TEA-TH", "ชาไทย ใบชา", gtins=[TEA_UPC]))
    shipment_id = picked(app, {"TEE": 2, "TEA-TH": 1, "MUG": 1})

    pick_list_id = uuid.UUID(app.get_shipment(shipment_id).pick_list_id or "")
    walk = pick_list_document(app.printing.pick_list(pick_list_id))
    names = {line.sku: line.description for line in walk.lines}
    assert names == {"TEE": "Organic tee (Black / M)", "TEA-TH": "ชาไทย ใบชา", "MUG": "MUG"}
    assert "TEE Organic tee (Black / M)" in pdf_text(render_pick_list(walk))
    public = PickListPublic.of(
        app.get_pick_list(pick_list_id), app.catalogue.labels(["TEE", "TEA-TH"])
    )
    assert {line.sku: line.description for line in public.lines}["TEA-TH"] == "ชาไทย ใบชา"

    slip = packing_slip_document(app.printing.packing_slip(shipment_id))
    assert {line.sku: line.description for line in slip.lines}["TEE"] == "Organic tee (Black / M)"
    assert "TEE Organic tee (Black / M) 2" in pdf_text(render_packing_slip(slip))

    items = [{"sku": "TEE", "quantity": 2}, {"sku": "TEA-TH", "quantity": 1}]
    app.packing.add_package(shipment_id, items, 900, DIMENSIONS)
    app.packing.add_package(shipment_id, [{"sku": "MUG", "quantity": 1}], 400, DIMENSIONS)
    app.packing.ship(shipment_id, "oms-parcel")
    first, second = label_documents(app.printing.labels(shipment_id))
    assert first.contents == "2 x Organic tee (Black / M); 1 x ชาไทย ใบชา"
    assert second.contents == "1 x MUG"
    assert "2 x Organic tee (Black / M)" in pdf_text(render_labels([first]))
    assert "^FD2 x Organic tee (Black / M); 1 x ชาไทย ใบชา^FS" in render_zpl([first])


def test_a_scanned_gtin_of_the_sku_packs_and_so_does_the_sku_itself(app: Shipments) -> None:
    handle(app, item_changed("TEE", "Organic tee", gtins=[TEE_GTIN]))
    handle(app, item_changed("TEA", "Matcha", gtins=[TEA_UPC]))
    shipment_id = picked(app, {"TEE": 2, "TEA": 1})
    items = [{"sku": "TEE", "quantity": 2}, {"sku": "TEA", "quantity": 1}]
    scans = {"TEE": [TEE_GTIN, "TEE"], "TEA": ["0" + TEA_UPC]}

    _, package = app.packing.add_package(shipment_id, items, 900, DIMENSIONS, scans=scans)

    assert package["items"] == items


@pytest.mark.parametrize(
    ("scans", "says"),
    [
        ({"TEE": [TEA_UPC]}, "is not TEE"),  # the other item's barcode: wrong item in hand
        ({"TEE": ["4006381333932"]}, "is not TEE"),  # misread: check digit off
        ({"MUG": ["5901234123457"]}, "knows no GTIN of MUG"),  # nothing to verify against
    ],
)
def test_a_scan_that_is_not_the_sku_or_its_gtin_refuses_the_package(
    app: Shipments, scans: dict[str, list[str]], says: str
) -> None:
    handle(app, item_changed("TEE", "Organic tee", gtins=[TEE_GTIN]))
    handle(app, item_changed("TEA", "Matcha", gtins=[TEA_UPC]))
    shipment_id = picked(app, {"TEE": 1, "MUG": 1})
    mark = position(app)
    items = [{"sku": "TEE", "quantity": 1}, {"sku": "MUG", "quantity": 1}]

    with pytest.raises(ScanMismatchError, match=says):
        app.packing.add_package(shipment_id, items, 900, DIMENSIONS, scans=scans)
    assert position(app) == mark


def test_parcels_are_rated_by_the_items_weights_when_every_one_is_known(app: Shipments) -> None:
    carrier = rate_table_carrier(DEFAULT_RATE_TABLE)
    handle(app, item_changed("KETTLE", "Kettle", weight_grams=900))
    shipment_id = picked(app, {"KETTLE": 2, "MUG": 1})
    # Typed 800 g at the bench; the catalogue says 2 x 900 g: the heavier band is charged.
    app.packing.add_package(shipment_id, [{"sku": "KETTLE", "quantity": 2}], 800, DIMENSIONS)
    # No weight known for MUG: its package is rated by the 2500 g typed.
    app.packing.add_package(shipment_id, [{"sku": "MUG", "quantity": 1}], 2500, DIMENSIONS)

    quotes = {q["service"]: q for q in app.packing.quote(shipment_id)}
    zone = quotes["standard"]["zone"]
    expected = carrier.price("standard", zone, 1800) + carrier.price("standard", zone, 2500)
    assert Decimal(quotes["standard"]["charge"]) == expected
    assert carrier.price("standard", zone, 1800) != carrier.price("standard", zone, 800)

    shipment = app.packing.ship(shipment_id, "oms-parcel", service="standard")
    charges = [p.get("charge") for p in shipment.packages]
    assert charges == [
        f"{carrier.price('standard', zone, 1800)} EUR",
        f"{carrier.price('standard', zone, 2500)} EUR",
    ]
    assert [p["weight_grams"] for p in shipment.packages] == [800, 2500]  # as weighed
