"""Bins, the pick path and pick lists, without any infrastructure."""

from __future__ import annotations

import uuid

import pytest

from services.fulfillment_service.domain import (
    BinAssignment,
    PickConfirmationError,
    PickLineAlreadyConfirmedError,
    PickList,
    PickListClosedError,
    PickListStatus,
    bin_id_for,
    distribute,
    pick_path_key,
    plan_pick_list,
)


def shipment(lines: list[tuple[str, int]], number: str = "W-1") -> dict:
    """A shipment as a pick list is planned from."""
    return {
        "shipment_id": uuid.uuid4(),
        "order_id": uuid.uuid4(),
        "order_number": number,
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
    }


def new_pick_list(shipments: list[dict], bins: dict[str, str] | None = None) -> PickList:
    """An open pick list of these shipments."""
    slots, lines = plan_pick_list(shipments, bins or {})
    return PickList(location_id="WH-1", carrier=None, slots=slots, lines=lines)


def test_bins_sort_naturally_along_the_pick_path_and_skus_without_a_bin_go_last() -> None:
    bins = {"S1": "A-10-1", "S2": "A-9-1", "S3": "B-1-1", "S4": "A-9-10", "S5": "A-9-2"}
    skus = ["S1", "S2", "S3", "S4", "S5", "ZZ", "AA"]

    walk = sorted(skus, key=lambda sku: pick_path_key(bins.get(sku), sku))

    assert walk == ["S2", "S5", "S4", "S1", "S3", "AA", "ZZ"]


def test_leading_zeros_do_not_change_the_pick_path() -> None:
    assert pick_path_key("A-03-2", "X") > pick_path_key("A-3-1", "X")
    assert pick_path_key("A-03-2", "X") < pick_path_key("A-4-1", "X")


def test_a_bin_assignment_moves_once_and_ignores_the_same_bin() -> None:
    assignment = BinAssignment(location_id="WH-1", sku="TEE", bin="A-1-1")
    assert assignment.id == bin_id_for("WH-1", "TEE")
    assert assignment.move("A-1-1") is False
    assert assignment.move("B-2-2") is True
    moved = assignment.pending_events[-1]
    assert (moved.location_id, moved.sku, moved.bin, moved.previous_bin) == (
        "WH-1",
        "TEE",
        "B-2-2",
        "A-1-1",
    )


def test_a_pick_list_aggregates_units_per_sku_with_a_slot_per_shipment() -> None:
    first = shipment([("TEE", 2), ("MUG", 1)], "W-1")
    second = shipment([("TEE", 1), ("CAP", 3)], "W-2")

    slots, lines = plan_pick_list([first, second], {"TEE": "A-10-1", "MUG": "A-9-1"})

    assert [(s["slot"], s["order_number"]) for s in slots] == [(1, "W-1"), (2, "W-2")]
    assert [(line["bin"], line["sku"], line["quantity"]) for line in lines] == [
        ("A-9-1", "MUG", 1),
        ("A-10-1", "TEE", 3),
        (None, "CAP", 3),
    ]
    tee = lines[1]
    assert [(s["slot"], s["quantity"]) for s in tee["slots"]] == [(1, 2), (2, 1)]
    assert tee["slots"][0]["shipment_id"] == str(first["shipment_id"])


def test_picked_units_go_to_the_slots_first_come_first_served() -> None:
    slots = [{"quantity": 2}, {"quantity": 1}, {"quantity": 3}]
    assert distribute(6, slots) == [2, 1, 3]
    assert distribute(4, slots) == [2, 1, 1]
    assert distribute(1, slots) == [1, 0, 0]
    assert distribute(0, slots) == [0, 0, 0]


def test_picking_more_than_requested_is_refused_and_nothing_is_recorded() -> None:
    pick_list = new_pick_list([shipment([("TEE", 2)]), shipment([("TEE", 1)])])
    before = len(pick_list.pending_events)

    with pytest.raises(PickConfirmationError, match="only 3 requested"):
        pick_list.confirm([{"sku": "TEE", "picked": 4}])

    assert len(pick_list.pending_events) == before
    assert pick_list.confirmed == {}


def test_a_sku_not_on_the_list_refuses_the_whole_confirmation() -> None:
    pick_list = new_pick_list([shipment([("TEE", 2), ("MUG", 1)])])

    with pytest.raises(PickConfirmationError, match="not on pick list"):
        pick_list.confirm([{"sku": "TEE", "picked": 2}, {"sku": "HAT", "picked": 1}])

    assert pick_list.confirmed == {}


def test_a_line_confirmed_again_with_the_same_count_changes_nothing_with_another_is_refused() -> (
    None
):
    pick_list = new_pick_list([shipment([("TEE", 2), ("MUG", 1)])])
    assert pick_list.confirm([{"sku": "TEE", "picked": 1}]) is True
    before = len(pick_list.pending_events)

    assert pick_list.confirm([{"sku": "TEE", "picked": 1}]) is False
    with pytest.raises(PickLineAlreadyConfirmedError):
        pick_list.confirm([{"sku": "TEE", "picked": 2}])
    assert len(pick_list.pending_events) == before


def test_the_list_completes_only_when_every_line_is_confirmed() -> None:
    pick_list = new_pick_list([shipment([("TEE", 2), ("MUG", 1)])])
    pick_list.confirm([{"sku": "TEE", "picked": 2}])
    assert not pick_list.all_confirmed
    assert pick_list.complete() is False

    pick_list.confirm([{"sku": "MUG", "picked": 0}])

    assert pick_list.complete() is True
    assert pick_list.status == PickListStatus.COMPLETED
    with pytest.raises(PickListClosedError):
        pick_list.confirm([{"sku": "MUG", "picked": 0}])


def test_short_picks_are_shared_out_by_slot_number() -> None:
    first, second = shipment([("TEE", 2)]), shipment([("TEE", 2), ("MUG", 1)])
    pick_list = new_pick_list([first, second], {"TEE": "A-1-1"})
    pick_list.confirm([{"sku": "TEE", "picked": 3}, {"sku": "MUG", "picked": 1}])

    picks = pick_list.picks_by_shipment()

    assert picks[str(first["shipment_id"])] == [
        {"sku": "TEE", "bin": "A-1-1", "expected": 2, "picked": 2}
    ]
    assert picks[str(second["shipment_id"])] == [
        {"sku": "TEE", "bin": "A-1-1", "expected": 2, "picked": 1},
        {"sku": "MUG", "bin": None, "expected": 1, "picked": 1},
    ]


def test_a_dropped_shipment_no_longer_asks_for_units() -> None:
    first, second = shipment([("TEE", 2), ("MUG", 1)]), shipment([("TEE", 1)])
    pick_list = new_pick_list([first, second])

    assert pick_list.drop_shipment(first["shipment_id"]) is True
    assert pick_list.drop_shipment(first["shipment_id"]) is False

    tee, mug = pick_list.line("TEE"), pick_list.line("MUG")
    assert (pick_list.requested(tee), pick_list.requested(mug)) == (1, 0)
    with pytest.raises(PickConfirmationError):
        pick_list.confirm([{"sku": "TEE", "picked": 2}])
    pick_list.confirm([{"sku": "TEE", "picked": 1}])
    assert pick_list.all_confirmed  # MUG was only for the dropped shipment
    assert pick_list.shipment_ids == [str(second["shipment_id"])]


def test_a_cancelled_list_takes_no_confirmation() -> None:
    pick_list = new_pick_list([shipment([("TEE", 2)])])
    pick_list.cancel("cart broke down")

    assert pick_list.status == PickListStatus.CANCELLED
    with pytest.raises(PickListClosedError):
        pick_list.confirm([{"sku": "TEE", "picked": 1}])
    with pytest.raises(PickListClosedError):
        pick_list.cancel("again")


def test_a_new_pick_list_is_open_and_its_id_follows_the_request_key() -> None:
    slots, lines = plan_pick_list([shipment([("TEE", 1)])], {})
    keyed = PickList(location_id="WH-1", carrier="DHL", slots=slots, lines=lines, request_key="k")
    again = PickList(location_id="WH-1", carrier="DHL", slots=slots, lines=lines, request_key="k")
    other = PickList(location_id="WH-1", carrier="DHL", slots=slots, lines=lines)

    assert keyed.status == PickListStatus.OPEN
    assert keyed.id == again.id != other.id
