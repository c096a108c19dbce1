"""The catalogue end to end on the real broker and PostgreSQL: `oms import items` puts a CSV
into inventory over loopback, ItemChanged reaches fulfillment, whose pick list and packing slip
print the names, whose packing checks scanned GTINs, and whose rates use the items' weights."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from services.fulfillment_service import bootstrap as fulfillment
from services.fulfillment_service.carriers import DEFAULT_RATE_TABLE, rate_table_carrier
from services.fulfillment_service.domain import shipment_id_for
from services.fulfillment_service.settings import Settings as FulfillmentSettings
from services.inventory_service import bootstrap as inventory
from services.inventory_service.settings import Settings as InventorySettings
from shared.cli.main import create_app
from tests import factories
from tests.fakes.warehouse import ADDRESS, DIMENSIONS, SHIP_FROM, assert_problem
from tests.kit import CLI_ENV, eventually

pytestmark = pytest.mark.integration

TEE_GTIN = "4006381333931"
TEA_GTIN = "036000291452"
# A spreadsheet saved by Excel: a BOM, ; as separator, an empty line, and bad lines among good.
CSV = "\ufeff" + "\n".join(
    [
        "sku;name;variant;gtins;weight_grams;length_mm;width_mm;height_mm;hs_code;country_of_origin",
        f"TEE;Organic tee;Black / M;{TEE_GTIN};900;300;220;20;6109.10;PT",
        f"TEA-TH;ชาไทย ใบชา;100 g;{TEA_GTIN};120;;;;0902.10;TH",
        "",
        "MATCHA;抹茶 宇治;缶 50 g;;60;;;;;JP",
        "BAD-GTIN;Mug;;4006381333932;350;;;;;DE",  # line 6: check digit off
        ";No SKU;;;;;;;;",  # line 7
        "HEAVY;Kettle;;;1,5;;;;;",  # line 8: not whole grams
        "TEE;Organic tee again;;;;;;;;",  # line 9: TEE twice
        ";;;;;;;;;",
    ]
)


def run_import(url: str, file: Path) -> Any:
    return CliRunner(env=CLI_ENV).invoke(
        create_app(), ["import", "items", str(file), "--url", url], env={"COLUMNS": "200"}
    )


def pdf_text(content: bytes) -> str:
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def test_imported_items_reach_the_warehouses_papers_packing_and_rates(
    run_service: Any, tmp_path: Path
) -> None:
    stock = run_service(inventory.build, InventorySettings)
    warehouse = run_service(fulfillment.build, FulfillmentSettings, ship_from=SHIP_FROM)
    file = tmp_path / "items.csv"
    file.write_text(CSV, encoding="utf-8")

    first = run_import(str(stock.http.base_url), file)

    assert first.exit_code == 1, first.output  # bad lines are an error for scripts
    rows = first.output.splitlines()
    for line, reason in [
        (6, "GTIN"),
        (7, "no sku"),
        (8, "weight_grams '1,5' is not a whole number"),
        (9, "SKU TEE is on line 2 already"),
    ]:
        assert any(re.search(rf"\b{line}\b.*{reason}", row) for row in rows), first.output
    assert re.search(r"new items\W+3", first.output), first.output
    assert stock.http.get("/v1/items/TEA-TH").json()["name"] == "ชาไทย ใบชา"
    assert stock.http.get("/v1/items/BAD-GTIN").status_code == 404

    again = run_import(str(stock.http.base_url), file)
    assert re.search(r"unchanged\W+3", again.output), again.output

    # ItemChanged reached fulfillment through the broker.
    labels = {"TEE": "Organic tee (Black / M)", "TEA-TH": "ชาไทย ใบชา (100 g)"}
    eventually(lambda: warehouse.app.catalogue.labels(labels) == labels)

    confirmed = factories.order_confirmed(
        {"TEE": 2, "TEA-TH": 1}, shipping_address=ADDRESS, external_id="W-7"
    )
    warehouse.publish(confirmed)
    shipment_id = shipment_id_for(confirmed.order_id, "WH-1")
    eventually(lambda: warehouse.app.get_order_shipments(confirmed.order_id) is not None)
    http = warehouse.http

    def made() -> Any:
        response = http.post("/v1/pick-lists", json={"location_id": "WH-1"})
        return response.json() if response.status_code == 201 else None

    pick_list = eventually(made)
    descriptions = {line["sku"]: line["description"] for line in pick_list["lines"]}
    assert descriptions == labels
    walk = http.get(f"/v1/pick-lists/{pick_list['pick_list_id']}/document.pdf")
    assert "TEE Organic tee (Black / M)" in pdf_text(walk.content)
    picks = {"lines": [{"sku": "TEE", "picked": 2}, {"sku": "TEA-TH", "picked": 1}]}
    assert http.post(f"/v1/pick-lists/{pick_list['pick_list_id']}/confirm", json=picks).is_success

    slip = http.get(f"/v1/shipments/{shipment_id}/packing-slip.pdf")
    assert "TEE Organic tee (Black / M) 2" in pdf_text(slip.content)

    def pack(tee_scans: list[str]) -> Any:
        body = {
            "items": [
                {"sku": "TEE", "quantity": 2, "scans": tee_scans},
                {"sku": "TEA-TH", "quantity": 1, "scans": ["0" + TEA_GTIN]},
            ],
            "weight_grams": 500,
            "dimensions_mm": DIMENSIONS,
        }
        return http.post(f"/v1/shipments/{shipment_id}/packages", json=body)

    wrong = pack([TEE_GTIN, TEA_GTIN])  # the tea's barcode scanned as a tee
    assert_problem(wrong, 422, "Scanned item does not match")
    assert "is not TEE" in wrong.json()["detail"]
    assert_problem(pack([TEE_GTIN, TEE_GTIN, TEE_GTIN]), 422)  # more scans than units
    assert pack([TEE_GTIN, "TEE"]).status_code == 201

    # Typed 500 g at the bench; the catalogue says 2 x 900 + 120 g.
    carrier = rate_table_carrier(DEFAULT_RATE_TABLE)
    quotes = {q["service"]: q for q in http.get(f"/v1/shipments/{shipment_id}/rates").json()}
    zone = quotes["standard"]["zone"]
    assert quotes["standard"]["charge"] == str(carrier.price("standard", zone, 1920))
    assert carrier.price("standard", zone, 1920) != carrier.price("standard", zone, 500)
