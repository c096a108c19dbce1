"""Bins: the aisle-bay-level format, the pick-path order, put-away and moves (no I/O)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import service_events
from services.inventory_service.domain import (
    InvalidBinError,
    LocationNotFoundError,
    in_pick_path_order,
    normalize_bin,
    pick_path_key,
)
from shared import events as ev

EVENTS = service_events()


@pytest.fixture
def app() -> Inventory:
    """An Inventory on the in-memory store with one location."""
    inventory = Inventory()
    inventory.locations.register("berlin", "Berlin", "DE", 10)
    return inventory


def published(app: Inventory, after: int = 0) -> list[Any]:
    """The integration events the relay would publish for what was stored after a position
    (what channels may sell is left out: its own tests are in test_stock_sync_inventory.py)."""
    notifications = app.recorder.select_notifications(after + 1, 10_000)
    mapped = [EVENTS.to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [
        e
        for e in mapped
        if e is not None and e.event_type() != ev.ChannelAvailabilityChanged.event_type()
    ]


def position(app: Inventory) -> int:
    return app.recorder.max_notification_id() or 0


# -- the format --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("A-03-2", "A-03-2"), ("a-03-2", "A-03-2"), (" b-1-c ", "B-1-C"), ("12-104-7", "12-104-7")],
)
def test_a_bin_is_aisle_bay_level_and_always_stored_upper_case(typed: str, stored: str) -> None:
    assert normalize_bin(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["", "A", "A-03", "A-03-2-1", "A--2", "A_03_2", "A 03 2", "A-03-2!", "AISLE77-1-1", "Ä-1-1"],
)
def test_anything_but_three_parts_of_letters_or_digits_is_not_a_bin(typed: str) -> None:
    with pytest.raises(InvalidBinError, match="aisle-bay-level"):
        normalize_bin(typed)


# -- the pick path -----------------------------------------------------------------------------


def test_the_pick_path_goes_aisle_then_bay_then_level_comparing_numbers_as_numbers() -> None:
    bins = ["A-10-1", "B-1-1", "A-9-2", "A-9-10", "A-9-1", "A-2-1", "10-1-1", "9-1-1"]
    assert in_pick_path_order(bins) == [
        "9-1-1",
        "10-1-1",
        "A-2-1",
        "A-9-1",
        "A-9-2",
        "A-9-10",
        "A-10-1",
        "B-1-1",
    ]


def test_leading_zeros_do_not_move_a_bin_along_the_path() -> None:
    assert pick_path_key("A-03-2") == pick_path_key("A-3-2")
    assert in_pick_path_order(["A-10-1", "A-03-2", "A-3-1"]) == ["A-3-1", "A-03-2", "A-10-1"]


def _natural(bin_code: str) -> tuple:
    """The rule spelled out: per part, numbers (as numbers) before letters, part by part."""
    return tuple(
        tuple(
            (0, int(run), "") if run.isdigit() else (1, 0, run)
            for run in re.findall(r"[0-9]+|[A-Z]+", part)
        )
        for part in bin_code.split("-")
    )


part = st.text(alphabet="AB0123456789", min_size=1, max_size=6)
bins = st.builds(lambda a, b, c: f"{a}-{b}-{c}", part, part, part)


@given(st.lists(bins, min_size=2, max_size=30))
def test_the_stored_pick_path_key_sorts_exactly_like_the_natural_rule(codes: list[str]) -> None:
    by_key = sorted(codes, key=lambda c: (pick_path_key(c), c))
    by_rule = sorted(codes, key=lambda c: (_natural(c), c))
    assert [_natural(c) for c in by_key] == [_natural(c) for c in by_rule]


# -- put-away and moves ------------------------------------------------------------------------


def test_a_receipt_into_a_bin_puts_the_sku_away_and_every_level_change_names_the_bin(
    app: Inventory,
) -> None:
    before = position(app)
    app.stocks.receive("berlin", "TEE", 5, bin_code="a-03-2")
    assert app.stocks.get("TEE").bin_at("berlin") == "A-03-2"
    assigned, level = published(app, before)
    assert isinstance(assigned, ev.BinAssigned)
    assert (assigned.sku, assigned.location_id, assigned.bin) == ("TEE", "berlin", "A-03-2")
    assert assigned.previous_bin is None
    assert isinstance(level, ev.StockLevelChanged)
    assert (level.reason, level.on_hand, level.bin) == ("receipt", 5, "A-03-2")


def test_moving_a_sku_publishes_bin_assigned_with_the_bin_it_came_from(app: Inventory) -> None:
    app.stocks.receive("berlin", "TEE", 5, bin_code="A-03-2")
    before = position(app)
    previous = app.stocks.assign_bin("berlin", "TEE", "C-10-1")
    assert previous == "A-03-2"
    (moved,) = published(app, before)
    assert isinstance(moved, ev.BinAssigned)
    assert (moved.bin, moved.previous_bin) == ("C-10-1", "A-03-2")
    assert app.stocks.get("TEE").on_hand("berlin") == 5  # a move changes no quantity


def test_putting_a_sku_away_into_the_bin_it_is_in_records_nothing(app: Inventory) -> None:
    app.stocks.assign_bin("berlin", "TEE", "A-03-2")
    before = position(app)
    app.stocks.assign_bin("berlin", "TEE", "a-03-2")
    app.stocks.receive("berlin", "TEE", 1, bin_code="A-03-2")
    assert [type(e) for e in published(app, before)] == [ev.StockLevelChanged]


def test_a_bin_can_be_given_before_any_stock_arrives_and_later_levels_carry_it(
    app: Inventory,
) -> None:
    app.stocks.assign_bin("berlin", "MUG", "B-01-1")
    before = position(app)
    app.stocks.receive("berlin", "MUG", 2)
    (level,) = published(app, before)
    assert level.bin == "B-01-1"


def test_a_bin_is_per_location(app: Inventory) -> None:
    app.locations.register("venlo", "Venlo", "NL", 1)
    app.stocks.assign_bin("berlin", "TEE", "A-03-2")
    app.stocks.assign_bin("venlo", "TEE", "Z-1-1")
    stock = app.stocks.get("TEE")
    assert stock.bins == {"berlin": "A-03-2", "venlo": "Z-1-1"}


def test_a_bad_bin_or_an_unknown_location_records_nothing(app: Inventory) -> None:
    before = position(app)
    with pytest.raises(InvalidBinError):
        app.stocks.assign_bin("berlin", "TEE", "nowhere")
    with pytest.raises(InvalidBinError):
        app.stocks.receive("berlin", "TEE", 3, bin_code="A-3")
    with pytest.raises(LocationNotFoundError):
        app.stocks.assign_bin("paris", "TEE", "A-03-2")
    assert position(app) == before
