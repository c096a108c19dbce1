"""Warehouse documents as a reader sees them: PDF text, decoded barcodes, ZPL, a raw printer."""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pypdfium2
import pytest
import uvicorn
import zxingcpp
from pypdf import PdfReader
from stdnum import gs1_128
from typer.testing import CliRunner

from services.fulfillment_service.domain import is_valid_sscc
from shared.cli.main import create_app
from shared.runtime.embedded import free_port
from tests.fakes.warehouse import (
    ADDRESS,
    SHIP_FROM,
    UNIT_PRICE,
    Warehouse,
    assert_problem,
    open_warehouse,
)
from tests.kit import CLI_ENV

pytestmark = pytest.mark.integration
POINTS_PER_INCH = 72


@pytest.fixture
def warehouse(new_database: Any) -> Iterator[Warehouse]:
    """A fulfillment service on a fresh database."""
    with open_warehouse(new_database("printing")) as service:
        yield service


def pdf_pages(content: bytes) -> list[str]:
    """The text of every page, words separated by single spaces (reading order)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages]


def decoded_barcodes(content: bytes, page: int = 0, dpi: int = 300) -> dict[str, str]:
    """Linear barcodes a real reader finds on a rasterized page: symbology id -> text."""
    image = pypdfium2.PdfDocument(content)[page].render(scale=dpi / POINTS_PER_INCH).to_pil()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)
    return {b.symbology_identifier: b.text for b in found}


def address_lines(address: dict[str, Any]) -> list[str]:
    """The lines an address is printed with."""
    lines = [address["name"], address["line1"], address.get("line2")]
    return [*filter(None, lines), f"{address['postal_code']} {address['city']}", address["country"]]


def test_the_pick_list_pdf_walks_the_bins_in_order_with_skus_quantities_and_slots(
    warehouse: Warehouse,
) -> None:
    warehouse.bins(**{"TEE-M": "A-10-1", "MUG-W": "A-9-2", "CAP-S": "B-01-1"})
    warehouse.order({"TEE-M": 2, "MUG-W": 1}, "W-1")
    warehouse.order({"TEE-M": 1, "HAT-L": 3, "CAP-S": 1}, "W-2")
    pick_list = warehouse.pick_list(carrier="oms-parcel").json()

    response = warehouse.http.get(f"/v1/pick-lists/{pick_list['pick_list_id']}/document.pdf")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    [text] = pdf_pages(response.content)
    assert "PICK LIST" in text and "WH-1" in text and "oms-parcel" in text
    times = "\u00d7"  # slot x units
    rows = [
        re.search(rf" {n} {re.escape(b)} {sku} {sku} {q} {slots} \[ \]", text)
        for n, b, sku, q, slots in [
            (1, "A-9-2", "MUG-W", 1, f"1{times}1"),
            (2, "A-10-1", "TEE-M", 3, f"1{times}2, 2{times}1"),
            (3, "B-01-1", "CAP-S", 1, f"2{times}1"),
            (4, "(no bin)", "HAT-L", 3, f"2{times}3"),
        ]
    ]
    assert all(rows), text
    assert [row.start() for row in rows] == sorted(row.start() for row in rows)  # pick path
    slots = [s["shipment_id"] for s in pick_list["slots"]]
    assert f" 1 W-1 {slots[0]} 2 W-2 {slots[1]} " in text
    codes = decoded_barcodes(response.content)
    assert codes["]C0"] == pick_list["pick_list_id"]


def test_a_500_line_pick_list_pages_with_every_line_and_page_numbers(
    warehouse: Warehouse,
) -> None:
    skus = {f"SKU-{n:03d}": 1 for n in range(500)}
    warehouse.bins(**{sku: f"A-{n // 40 + 1}-{n % 40 + 1}" for n, sku in enumerate(skus)})
    for number in range(10):
        warehouse.order(dict(list(skus.items())[number * 50 : (number + 1) * 50]), f"W-{number}")
    pick_list = warehouse.pick_list(max_shipments=10).json()
    assert len(pick_list["lines"]) == 500

    pages = pdf_pages(
        warehouse.http.get(f"/v1/pick-lists/{pick_list['pick_list_id']}/document.pdf").content
    )

    text = "\n".join(pages)
    assert all(f" {sku} " in text for sku in skus)
    assert len(pages) > 10
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    positions = [text.index(f" {line['sku']} ") for line in pick_list["lines"]]
    assert positions == sorted(positions)


def test_the_packing_slip_shows_order_ship_to_and_quantities_and_never_a_price(
    warehouse: Warehouse,
) -> None:
    order_id = warehouse.order({"TEE-M": 2, "MUG-W": 1}, "W-1042", ordered={"TEE-M": 3, "MUG-W": 1})
    warehouse.order({"TEE-M": 1}, "W-1042-B", location_id="WH-2")  # another order, another place
    pick_list = warehouse.pick_list().json()
    warehouse.confirm(pick_list["pick_list_id"], {"TEE-M": 2, "MUG-W": 1})
    shipment_id = next(
        s["shipment_id"] for s in pick_list["slots"] if s["order_id"] == str(order_id)
    )
    warehouse.pack(shipment_id, {"TEE-M": 2, "MUG-W": 1})
    warehouse.ship(shipment_id, {"carrier": "oms-parcel"})

    response = warehouse.http.get(f"/v1/shipments/{shipment_id}/packing-slip.pdf")

    assert response.status_code == 200
    [text] = pdf_pages(response.content)
    assert "PACKING SLIP" in text and "Order W-1042" in text and "Order date 20" in text
    for line in address_lines(ADDRESS) + address_lines(SHIP_FROM):
        assert line in text, line
    assert " TEE-M TEE-M 3 2 1 " in text, text
    assert " MUG-W MUG-W 1 1 - " in text, text
    assert "to follow" in text
    assert UNIT_PRICE not in text and "1234" not in text and "EUR" not in text
    shipment = warehouse.http.get(f"/v1/shipments/{shipment_id}").json()
    assert shipment["packages"][0]["sscc"] in text


def test_the_label_pdf_is_4x6_inches_and_its_barcodes_decode_to_the_sscc_and_tracking(
    warehouse: Warehouse,
) -> None:
    shipment = warehouse.shipped([{"TEE-M": 1}, {"MUG-W": 2}])
    package = shipment["packages"][1]

    response = warehouse.http.get(f"/v1/packages/{package['package_id']}/label.pdf")

    assert response.status_code == 200
    page = PdfReader(io.BytesIO(response.content)).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (288, 432)
    text = page.extract_text()
    for line in address_lines(ADDRESS) + address_lines(SHIP_FROM):
        assert line in text, line
    assert "OMS-PARCEL" in text and "express" in text and "PKG 2 of 2" in text
    codes = decoded_barcodes(response.content)
    assert codes["]C0"] == package["tracking_number"]  # plain Code 128
    assert codes["]C1"] == f"(00){package['sscc']}"  # GS1-128: FNC1 first, AI (00)
    assert gs1_128.info(codes["]C1"]) == {"00": package["sscc"]}
    assert is_valid_sscc(package["sscc"])
    assert f"(00) {package['sscc']}" in text


def test_the_zpl_label_is_812_by_1218_dots_with_the_sscc_as_gs1_128(
    warehouse: Warehouse,
) -> None:
    shipment = warehouse.shipped([{"TEE-M": 1}])
    [package] = shipment["packages"]

    response = warehouse.http.get(f"/v1/packages/{package['package_id']}/label.zpl")

    assert response.status_code == 200
    zpl = response.text
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert zpl.count("^XA") == 1
    assert "^PW812" in zpl and "^LL1218" in zpl and "^CI28" in zpl
    barcodes = re.findall(r"\^BY(\d)\^BC([^\^]*)\^FD([^\^]*)\^FS", zpl)
    assert len(barcodes) == 2
    (_, tracking_args, tracking_data), (module, sscc_args, sscc_data) = barcodes
    assert tracking_data in (f">:{package['tracking_number']}", f">;{package['tracking_number']}")
    assert tracking_args.startswith("N,")
    # GS1-128: start code C (>;), FNC1 (>8), AI 00, the 18 digits with their check digit.
    assert sscc_data == f">;>800{package['sscc']}"
    assert sscc_args.split(",")[0] == "N" and int(sscc_args.split(",")[1]) >= 256  # >= 32 mm
    assert int(module) * 8 / 203 * 25.4 >= 0.495 * 8  # X-dimension at least 0.495 mm
    for line in address_lines(ADDRESS) + address_lines(SHIP_FROM):
        assert f"^FD{line}^FS" in zpl, line
    assert f"(00) {package['sscc']}" in zpl


def test_labels_for_a_whole_pick_list_come_as_one_print_job(warehouse: Warehouse) -> None:
    warehouse.order({"TEE-M": 2}, "W-1")
    warehouse.order({"MUG-W": 1}, "W-2")
    pick_list = warehouse.pick_list().json()
    warehouse.confirm(pick_list["pick_list_id"], {"TEE-M": 2, "MUG-W": 1})
    first, second = (s["shipment_id"] for s in pick_list["slots"])
    warehouse.pack(first, {"TEE-M": 1})
    warehouse.pack(first, {"TEE-M": 1})
    warehouse.pack(second, {"MUG-W": 1})
    warehouse.ship(first, {"carrier": "oms-parcel"})
    warehouse.ship(second, {"carrier": "oms-parcel"})

    zpl = warehouse.http.get(f"/v1/pick-lists/{pick_list['pick_list_id']}/labels.zpl").text
    pdf = warehouse.http.get(f"/v1/pick-lists/{pick_list['pick_list_id']}/labels.pdf").content

    assert zpl.count("^XA") == zpl.count("^XZ") == 3
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3
    shipment_zpl = warehouse.http.get(f"/v1/shipments/{first}/labels.zpl").text
    assert shipment_zpl.count("^XA") == 2 and "PKG 2 of 2" in shipment_zpl


def test_a_label_for_an_unpacked_or_unshipped_shipment_is_refused(warehouse: Warehouse) -> None:
    shipment_id = warehouse.picked({"TEE-M": 2})
    position = warehouse.position()
    assert_problem(
        warehouse.http.get(f"/v1/shipments/{shipment_id}/labels.pdf"), 409, "Label not ready"
    )
    package = warehouse.pack(shipment_id, {"TEE-M": 2}).json()
    for path in (
        f"/v1/packages/{package['package_id']}/label.pdf",
        f"/v1/packages/{package['package_id']}/label.zpl",
        f"/v1/shipments/{shipment_id}/labels.zpl",
    ):
        problem = warehouse.http.get(path)
        assert_problem(problem, 409, "Label not ready")
        assert "tracking number" in problem.json()["detail"]
    assert_problem(warehouse.http.get(f"/v1/packages/{shipment_id}/label.pdf"), 404)
    assert warehouse.position() == position + 3  # only the package (and its SSCC serial)


def test_an_escaped_name_in_zpl_cannot_inject_commands(new_database: Any) -> None:
    ship_from = {**SHIP_FROM, "name": "Caret^Co ~ Back\\slash"}
    with open_warehouse(new_database("printing"), ship_from=ship_from) as warehouse:
        shipment = warehouse.shipped([{"TEE-M": 1}])
        package_id = shipment["packages"][0]["package_id"]
        zpl = warehouse.http.get(f"/v1/packages/{package_id}/label.zpl").text

    assert "^FDCaret\\5ECo \\7E Back\\5Cslash^FS" in zpl
    assert "Caret^Co" not in zpl


class RawPrinter:
    """A network label printer on loopback: takes one job on a raw TCP port."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.server.accept()
        with connection:
            while chunk := connection.recv(65536):
                self.received += chunk
        self.server.close()


@pytest.fixture
def served(warehouse: Warehouse) -> Iterator[tuple[Warehouse, str]]:
    """The warehouse API on a real HTTP port, as `oms print` talks to it."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            warehouse.http.app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            timeout_keep_alive=1,
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    yield warehouse, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_oms_print_sends_the_zpl_label_to_a_raw_tcp_printer(served: tuple[Warehouse, str]) -> None:
    warehouse, url = served
    shipment = warehouse.shipped([{"TEE-M": 1}, {"MUG-W": 1}])
    printer = RawPrinter()

    result = CliRunner(env=CLI_ENV).invoke(
        create_app(),
        [
            *("print", "label", shipment["packages"][0]["package_id"], "--format", "zpl"),
            *("--printer", f"127.0.0.1:{printer.port}", "--url", url),
        ],
    )

    assert result.exit_code == 0, result.output
    printer.thread.join(timeout=10)
    job = printer.received.decode()
    assert job.count("^XA") == 1 and "^PW812" in job
    assert f">;>800{shipment['packages'][0]['sscc']}" in job


def test_oms_print_writes_pdfs_and_all_labels_of_a_shipment(
    served: tuple[Warehouse, str], tmp_path: Any
) -> None:
    warehouse, url = served
    shipment = warehouse.shipped([{"TEE-M": 1}, {"MUG-W": 1}])
    runner, app = CliRunner(env=CLI_ENV), create_app()
    slip, labels = tmp_path / "slip.pdf", tmp_path / "labels.zpl"

    printed_slip = runner.invoke(
        app, ["print", "packing-slip", shipment["shipment_id"], "--out", str(slip), "--url", url]
    )
    printed_labels = runner.invoke(
        app,
        [
            *("print", "label", shipment["shipment_id"], "--format", "zpl"),
            *("--out", str(labels), "--url", url),
        ],
    )

    assert printed_slip.exit_code == 0, printed_slip.output
    assert "PACKING SLIP" in pdf_pages(slip.read_bytes())[0]
    assert printed_labels.exit_code == 0, printed_labels.output
    assert labels.read_text().count("^XA") == 2


def test_oms_print_says_clearly_what_is_wrong(served: tuple[Warehouse, str]) -> None:
    warehouse, url = served
    shipment_id = warehouse.picked({"TEE-M": 1})
    runner, app = CliRunner(env=CLI_ENV), create_app()

    unknown = runner.invoke(
        app, ["print", "pick-list", str(shipment_id), "--out", "x", "--url", url]
    )
    not_ready = runner.invoke(app, ["print", "label", str(shipment_id), "--out", "x", "--url", url])
    zpl_slip = runner.invoke(
        app, ["print", "packing-slip", str(shipment_id), "--format", "zpl", "--url", url]
    )

    assert unknown.exit_code != 0 and "Pick list not found" in unknown.output
    assert not_ready.exit_code != 0 and "Label not ready" in not_ready.output
    assert zpl_slip.exit_code != 0 and "ZPL is for labels" in zpl_slip.output
