"""The warehouse on PostgreSQL: bins, pick lists, packing and carriers over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from services.fulfillment_service import bootstrap
from services.fulfillment_service.domain import is_valid_sscc, shipment_id_for
from services.fulfillment_service.settings import Settings
from shared import events as ev
from shared.events import now_utc, topics
from tests import factories
from tests.fakes.warehouse import (
    DIMENSIONS,
    Warehouse,
    assert_problem,
    open_warehouse,
)
from tests.kit import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def warehouse(new_database: Any) -> Iterator[Warehouse]:
    """A fulfillment service on a fresh database."""
    with open_warehouse(new_database("fulfillment")) as service:
        yield service


def test_bins_and_orders_from_the_broker_become_a_pick_list_along_the_pick_path(
    run_service: Any,
) -> None:
    service = run_service(bootstrap.build, Settings)
    confirmed = factories.order_confirmed({"TEE": 1, "MUG": 1, "CAP": 1})
    [projection] = service.parts.projections

    service.publish(
        bin_assigned("TEE", "WH-1", "A-10-1"),
        bin_assigned("MUG", "WH-1", "A-9-3"),
        bin_assigned("MUG", "WH-2", "Z-1-1"),
        confirmed,
    )

    eventually(lambda: service.app.get_order_shipments(confirmed.order_id) is not None)
    eventually(lambda: len(projection.view.bins("WH-1", ["TEE", "MUG"])) == 2)
    # The channel topic for the access grants every service keeps.
    assert set(service.parts.events.consumed_topics) == {
        topics.ORDERS,
        topics.INVENTORY,
        topics.CHANNEL,
    }
    pick_list, _ = service.app.picking.create_pick_list(
        "WH-1",
        [shipment_id_for(confirmed.order_id, "WH-1")],
        partial(projection.view.bins, "WH-1"),
        10,
    )
    assert [(line["bin"], line["sku"]) for line in pick_list.lines] == [
        ("A-9-3", "MUG"),
        ("A-10-1", "TEE"),
        (None, "CAP"),
    ]


def bin_assigned(sku: str, location_id: str, bin: str) -> ev.BinAssigned:
    """A BinAssigned as inventory publishes it."""
    return ev.BinAssigned(sku=sku, location_id=location_id, bin=bin, assigned_at=now_utc())


def test_the_bins_of_a_location_are_listed_by_sku(warehouse: Warehouse) -> None:
    warehouse.bins(TEE="A-1-1", MUG="B-2-2")
    warehouse.bins("WH-2", TEE="C-3-3")
    warehouse.bins(TEE="A-1-2")

    page = warehouse.http.get("/v1/locations/WH-1/bins").json()

    assert page["count"] == 2
    assert [(b["sku"], b["bin"]) for b in page["data"]] == [("MUG", "B-2-2"), ("TEE", "A-1-2")]
    only = warehouse.http.get("/v1/locations/WH-2/bins", params={"sku": "TEE"}).json()
    assert [b["bin"] for b in only["data"]] == ["C-3-3"]


def test_a_pick_list_batches_the_oldest_open_shipments_with_lines_in_pick_path_order(
    warehouse: Warehouse,
) -> None:
    warehouse.bins(TEE="A-10-1", MUG="A-9-2", CAP="B-1-1")
    first = warehouse.order({"TEE": 2, "MUG": 1}, "W-1")
    second = warehouse.order({"TEE": 1, "HAT": 4}, "W-2")
    third = warehouse.order({"CAP": 1}, "W-3")
    warehouse.order({"CAP": 1}, "W-4", location_id="WH-2")

    response = warehouse.pick_list(max_shipments=2, carrier="oms-parcel")

    assert response.status_code == 201, response.text
    pick_list = response.json()
    assert (pick_list["location_id"], pick_list["status"], pick_list["carrier"]) == (
        "WH-1",
        "open",
        "oms-parcel",
    )
    assert [(s["slot"], s["order_number"]) for s in pick_list["slots"]] == [(1, "W-1"), (2, "W-2")]
    assert [(ln["bin"], ln["sku"], ln["quantity"]) for ln in pick_list["lines"]] == [
        ("A-9-2", "MUG", 1),
        ("A-10-1", "TEE", 3),
        (None, "HAT", 4),
    ]
    tee = pick_list["lines"][1]
    assert [(s["slot"], s["quantity"], s["picked"]) for s in tee["slots"]] == [
        (1, 2, None),
        (2, 1, None),
    ]
    assert warehouse.http.get(f"/v1/pick-lists/{pick_list['pick_list_id']}").json() == pick_list
    statuses = {
        s["order_id"]: (s["status"], s["slot"])
        for s in warehouse.http.get("/v1/shipments", params={"location_id": "WH-1"}).json()["data"]
    }
    assert statuses == {
        str(first): ("picking", 1),
        str(second): ("picking", 2),
        str(third): ("open", None),
    }


def test_a_shipment_goes_on_one_open_pick_list_only(warehouse: Warehouse) -> None:
    warehouse.order({"TEE": 1}, "W-1")
    warehouse.order({"TEE": 1}, "W-2")
    first = warehouse.pick_list(max_shipments=1).json()
    second = warehouse.pick_list(max_shipments=5).json()
    position = warehouse.position()

    third = warehouse.pick_list()

    assert first["slots"][0]["order_number"] == "W-1"
    assert [s["order_number"] for s in second["slots"]] == ["W-2"]
    assert_problem(third, 409, "Nothing to pick")
    assert warehouse.position() == position
    assert_problem(warehouse.pick_list("WH-9"), 409, "Nothing to pick")


def test_the_same_idempotency_key_gives_back_the_same_pick_list(warehouse: Warehouse) -> None:
    warehouse.order({"TEE": 1})
    warehouse.order({"MUG": 1})
    headers = {"Idempotency-Key": "wave-7"}
    first = warehouse.http.post(
        "/v1/pick-lists", json={"location_id": "WH-1", "max_shipments": 1}, headers=headers
    )
    position = warehouse.position()

    again = warehouse.http.post(
        "/v1/pick-lists", json={"location_id": "WH-1", "max_shipments": 1}, headers=headers
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert warehouse.position() == position


def test_pick_lists_are_listed_by_location_and_status(warehouse: Warehouse) -> None:
    warehouse.order({"TEE": 2})
    warehouse.order({"MUG": 1}, location_id="WH-2")
    done = warehouse.pick_list().json()
    warehouse.confirm(done["pick_list_id"], {"TEE": 2})
    other = warehouse.pick_list("WH-2").json()

    def ids(**query: Any) -> list[str]:
        page = warehouse.http.get("/v1/pick-lists", params=query).json()
        return [p["pick_list_id"] for p in page["data"]]

    assert ids() == [other["pick_list_id"], done["pick_list_id"]]
    assert ids(location_id="WH-1") == [done["pick_list_id"]]
    assert ids(status="completed") == [done["pick_list_id"]]
    assert ids(status="open", location_id="WH-2") == [other["pick_list_id"]]
    [summary] = warehouse.http.get("/v1/pick-lists", params={"status": "completed"}).json()["data"]
    assert (summary["shipment_count"], summary["line_count"], summary["unit_count"]) == (1, 1, 2)
    assert summary["completed_at"] is not None


def test_confirming_picks_completes_the_list_and_a_short_pick_shows_on_the_shipment(
    warehouse: Warehouse,
) -> None:
    warehouse.bins(TEE="A-1-1")
    full = warehouse.order({"TEE": 2}, "W-1")
    short = warehouse.order({"TEE": 2, "MUG": 1}, "W-2")
    pick_list = warehouse.pick_list().json()
    pick_list_id = pick_list["pick_list_id"]

    partly = warehouse.confirm(pick_list_id, {"TEE": 3})
    assert (partly.status_code, partly.json()["status"]) == (200, "open")
    done = warehouse.confirm(pick_list_id, {"MUG": 1}).json()

    assert done["status"] == "completed"
    tee = next(line for line in done["lines"] if line["sku"] == "TEE")
    assert (tee["picked"], [s["picked"] for s in tee["slots"]]) == (3, [2, 1])
    shipment = warehouse.http.get(f"/v1/shipments/{shipment_id_for(short, 'WH-1')}").json()
    assert shipment["status"] == "picked"
    assert shipment["picked"] == [
        {"sku": "TEE", "bin": "A-1-1", "expected": 2, "picked": 1},
        {"sku": "MUG", "bin": None, "expected": 1, "picked": 1},
    ]
    assert (
        warehouse.http.get(f"/v1/shipments/{shipment_id_for(full, 'WH-1')}").json()["status"]
        == "picked"
    )


@pytest.mark.parametrize(
    ("picks", "status", "title"),
    [
        ({"TEE": 3}, 422, "Pick refused"),
        ({"HAT": 1}, 422, "Pick refused"),
        ({"TEE": 2, "HAT": 1}, 422, "Pick refused"),
    ],
)
def test_picking_more_than_requested_or_what_is_not_on_the_list_records_nothing(
    warehouse: Warehouse, picks: dict[str, int], status: int, title: str
) -> None:
    warehouse.order({"TEE": 2, "MUG": 1})
    pick_list_id = warehouse.pick_list().json()["pick_list_id"]
    position = warehouse.position()

    assert_problem(warehouse.confirm(pick_list_id, picks), status, title)

    assert warehouse.position() == position
    assert warehouse.http.get(f"/v1/pick-lists/{pick_list_id}").json()["lines"][0]["picked"] is None


def test_a_line_confirmed_again_differently_is_a_conflict(warehouse: Warehouse) -> None:
    warehouse.order({"TEE": 2, "MUG": 1})
    pick_list_id = warehouse.pick_list().json()["pick_list_id"]
    warehouse.confirm(pick_list_id, {"TEE": 2})
    position = warehouse.position()

    assert warehouse.confirm(pick_list_id, {"TEE": 2}).status_code == 200
    assert_problem(warehouse.confirm(pick_list_id, {"TEE": 1}), 409, "Pick line already confirmed")
    assert warehouse.position() == position


@pytest.mark.parametrize(
    "body",
    [
        {"lines": []},
        {"lines": [{"sku": "TEE", "picked": -1}]},
        {"lines": [{"sku": "TEE", "picked": 1}, {"sku": "TEE", "picked": 1}]},
        {"lines": [{"sku": "TEE"}]},
        {"lines": [{"sku": "TEE", "picked": 1, "bin": "A"}]},
    ],
)
def test_bad_confirmations_are_refused_at_the_edge(
    warehouse: Warehouse, body: dict[str, Any]
) -> None:
    warehouse.order({"TEE": 2})
    pick_list_id = warehouse.pick_list().json()["pick_list_id"]
    position = warehouse.position()
    response = warehouse.http.post(f"/v1/pick-lists/{pick_list_id}/confirm", json=body)
    assert_problem(response, 422, "Invalid request")
    assert warehouse.position() == position


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"location_id": ""},
        {"location_id": "WH 1"},
        {"location_id": "WH-1", "max_shipments": 0},
        {"location_id": "WH-1", "max_shipments": 501},
        {"location_id": "WH-1", "wave": 3},
    ],
)
def test_bad_pick_list_requests_are_refused_at_the_edge(
    warehouse: Warehouse, body: dict[str, Any]
) -> None:
    warehouse.order({"TEE": 2})
    position = warehouse.position()
    assert_problem(warehouse.http.post("/v1/pick-lists", json=body), 422, "Invalid request")
    assert warehouse.position() == position


def test_unknown_pick_lists_are_not_found(warehouse: Warehouse) -> None:
    unknown = uuid.uuid4()
    position = warehouse.position()
    for response in (
        warehouse.http.get(f"/v1/pick-lists/{unknown}"),
        warehouse.http.get(f"/v1/pick-lists/{unknown}/document.pdf"),
        warehouse.http.get(f"/v1/pick-lists/{unknown}/labels.zpl"),
        warehouse.confirm(str(unknown), {"TEE": 1}),
        warehouse.http.post(f"/v1/pick-lists/{unknown}/cancel"),
    ):
        assert_problem(response, 404, "Pick list not found")
    assert warehouse.position() == position


def test_a_cancelled_pick_list_releases_its_shipments(warehouse: Warehouse) -> None:
    order_id = warehouse.order({"TEE": 1})
    pick_list_id = warehouse.pick_list().json()["pick_list_id"]

    cancelled = warehouse.http.post(
        f"/v1/pick-lists/{pick_list_id}/cancel", json={"reason": "picker called in sick"}
    )

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    warehouse.projection.catch_up()
    shipment = warehouse.http.get(f"/v1/shipments/{shipment_id_for(order_id, 'WH-1')}").json()
    assert (shipment["status"], shipment["pick_list_id"]) == ("open", None)
    assert_problem(warehouse.http.post(f"/v1/pick-lists/{pick_list_id}/cancel"), 409)
    assert warehouse.pick_list().status_code == 201


def test_packing_and_shipping_with_the_rate_table_gives_every_package_an_sscc_and_tracking(
    warehouse: Warehouse,
) -> None:
    shipment_id = warehouse.picked({"TEE": 2, "MUG": 1})
    first = warehouse.pack(shipment_id, {"TEE": 2}, weight=900)
    assert first.status_code == 201, first.text
    assert (first.json()["shipment_status"], first.json()["unpacked"]) == (
        "picked",
        [{"sku": "MUG", "quantity": 1}],
    )
    second = warehouse.pack(shipment_id, {"MUG": 1}, weight=400).json()
    assert (second["shipment_status"], second["unpacked"]) == ("packed", [])
    rates = warehouse.http.get(f"/v1/shipments/{shipment_id}/rates").json()
    assert {(r["carrier"], r["service"], r["zone"]) for r in rates} == {
        ("oms-parcel", "standard", "europe"),
        ("oms-parcel", "express", "europe"),
    }

    shipped = warehouse.ship(shipment_id, {"carrier": "oms-parcel", "service": "express"}).json()

    assert (shipped["status"], shipped["service"]) == ("shipped", "express")
    packages = shipped["packages"]
    assert [p["sscc"] for p in packages] == [first.json()["sscc"], second["sscc"]]
    assert all(is_valid_sscc(p["sscc"]) and p["tracking_number"] for p in packages)
    assert shipped["tracking_number"] == packages[0]["tracking_number"]
    assert warehouse.http.get(f"/v1/shipments/{shipment_id}").json() == shipped
    package = warehouse.http.get(f"/v1/packages/{packages[1]['package_id']}").json()
    assert (package["shipment_id"], package["carrier"], package["tracking_number"]) == (
        str(shipment_id),
        "oms-parcel",
        packages[1]["tracking_number"],
    )
    assert package["items"] == [{"sku": "MUG", "quantity": 1}]
    assert package["dimensions_mm"] == DIMENSIONS


@pytest.mark.parametrize(
    ("items", "status", "title"),
    [
        ({"HAT": 1}, 422, "Packing does not match picking"),
        ({"TEE": 3}, 422, "Packing does not match picking"),
        ({"TEE": 1, "HAT": 1}, 422, "Packing does not match picking"),
    ],
)
def test_packing_anything_not_picked_is_refused_and_records_nothing(
    warehouse: Warehouse, items: dict[str, int], status: int, title: str
) -> None:
    shipment_id = warehouse.picked({"TEE": 2})
    position = warehouse.position()

    assert_problem(warehouse.pack(shipment_id, items), status, title)

    assert warehouse.position() == position
    assert warehouse.http.get(f"/v1/shipments/{shipment_id}").json()["packages"] == []


def test_an_open_shipment_cannot_be_packed_and_an_unknown_one_is_not_found(
    warehouse: Warehouse,
) -> None:
    order_id = warehouse.order({"TEE": 1})
    position = warehouse.position()
    assert_problem(
        warehouse.pack(shipment_id_for(order_id, "WH-1"), {"TEE": 1}), 409, "Shipment not packable"
    )
    assert_problem(warehouse.pack(uuid.uuid4(), {"TEE": 1}), 404, "Shipment not found")
    assert warehouse.position() == position


@pytest.mark.parametrize(
    "body",
    [
        {"items": [], "weight_grams": 100, "dimensions_mm": DIMENSIONS},
        {
            "items": [{"sku": "TEE", "quantity": 0}],
            "weight_grams": 100,
            "dimensions_mm": DIMENSIONS,
        },
        {"items": [{"sku": "TEE", "quantity": 1}], "weight_grams": 0, "dimensions_mm": DIMENSIONS},
        {"items": [{"sku": "TEE", "quantity": 1}], "weight_grams": 100},
        {
            "items": [{"sku": "TEE", "quantity": 1}],
            "weight_grams": 100,
            "dimensions_mm": {"length": 1, "width": 1},
        },
    ],
)
def test_bad_packages_are_refused_at_the_edge(warehouse: Warehouse, body: dict[str, Any]) -> None:
    shipment_id = warehouse.picked({"TEE": 1})
    position = warehouse.position()
    response = warehouse.http.post(f"/v1/shipments/{shipment_id}/packages", json=body)
    assert_problem(response, 422, "Invalid request")
    assert warehouse.position() == position


def test_the_same_idempotency_key_packs_one_box(warehouse: Warehouse) -> None:
    shipment_id = warehouse.picked({"TEE": 2})
    headers = {"Idempotency-Key": "box-1"}
    first = warehouse.pack(shipment_id, {"TEE": 1}, headers=headers)
    position = warehouse.position()

    again = warehouse.pack(shipment_id, {"TEE": 1}, headers=headers)
    changed = warehouse.pack(shipment_id, {"TEE": 2}, headers=headers)

    assert again.json()["package_id"] == first.json()["package_id"]
    assert_problem(changed, 409, "Package conflict")
    assert warehouse.position() == position


def test_an_unpacked_box_can_be_packed_again(warehouse: Warehouse) -> None:
    shipment_id = warehouse.picked({"TEE": 1})
    package = warehouse.pack(shipment_id, {"TEE": 1}).json()

    response = warehouse.http.delete(
        f"/v1/shipments/{shipment_id}/packages/{package['package_id']}"
    )
    warehouse.projection.catch_up()

    assert (response.status_code, response.json()["status"]) == (200, "picked")
    assert_problem(warehouse.http.get(f"/v1/packages/{package['package_id']}"), 404)
    repacked = warehouse.pack(shipment_id, {"TEE": 1}).json()
    assert repacked["sscc"] != package["sscc"]  # an SSCC is never used twice


def test_shipping_a_partly_packed_shipment_or_without_tracking_numbers_is_refused(
    warehouse: Warehouse,
) -> None:
    shipment_id = warehouse.picked({"TEE": 2})
    warehouse.pack(shipment_id, {"TEE": 1})
    position = warehouse.position()

    assert_problem(
        warehouse.ship(shipment_id, {"carrier": "oms-parcel"}), 409, "Shipment not shippable"
    )
    warehouse.pack(shipment_id, {"TEE": 1})
    position = warehouse.position()
    assert_problem(
        warehouse.ship(shipment_id, {"carrier": "DHL", "tracking_numbers": ["JD1"]}),
        422,
        "Carrier refused",
    )
    assert_problem(
        warehouse.ship(shipment_id, {"carrier": "oms-parcel", "service": "teleport"}),
        422,
        "Carrier refused",
    )
    assert warehouse.position() == position
    shipped = warehouse.ship(shipment_id, {"carrier": "DHL", "tracking_numbers": ["JD1", "JD2"]})
    assert [p["tracking_number"] for p in shipped.json()["packages"]] == ["JD1", "JD2"]


def test_the_pick_lists_carrier_is_the_default_when_shipping(warehouse: Warehouse) -> None:
    order_id = warehouse.order({"TEE": 1})
    pick_list_id = warehouse.pick_list(carrier="oms-parcel").json()["pick_list_id"]
    warehouse.confirm(pick_list_id, {"TEE": 1})
    shipment_id = shipment_id_for(order_id, "WH-1")
    warehouse.pack(shipment_id, {"TEE": 1})

    shipped = warehouse.ship(shipment_id, {}).json()

    assert (shipped["carrier"], shipped["service"]) == ("oms-parcel", "standard")


def test_the_views_rebuilt_from_the_event_log_have_the_same_rows(warehouse: Warehouse) -> None:
    warehouse.bins(TEE="A-1-1")
    shipped = warehouse.shipped([{"TEE": 1}, {"TEE": 1}])
    warehouse.order({"MUG": 1})
    warehouse.pick_list()

    def snapshot() -> list[Any]:
        return [
            warehouse.http.get("/v1/shipments").json(),
            warehouse.http.get("/v1/pick-lists").json(),
            warehouse.http.get("/v1/locations/WH-1/bins").json(),
            warehouse.http.get(f"/v1/packages/{shipped['packages'][1]['package_id']}").json(),
        ]

    before = snapshot()
    warehouse.views.reset_all(warehouse.projection.name)
    assert warehouse.http.get("/v1/pick-lists").json()["count"] == 0
    warehouse.projection.catch_up()

    assert snapshot() == before
