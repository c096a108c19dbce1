"""ATP: safety stock, channel buffers and caps, closed locations, and the basket check."""

from __future__ import annotations

import pytest

from services.inventory_service.application import Inventory
from services.inventory_service.domain import (
    NO_RULE,
    ChannelRule,
    Reservation,
    channel_atp,
    location_atp,
    reservation_id_for,
)
from services.inventory_service.integration import CONSUMES
from services.inventory_service.settings import Settings
from tests import factories
from tests.kit import apply


@pytest.fixture
def app() -> Inventory:
    """Two German locations (hamburg preferred) and a Dutch one."""
    inventory = Inventory()
    inventory.locations.register("berlin", "Berlin", "DE", 20)
    inventory.locations.register("hamburg", "Hamburg", "DE", 10)
    inventory.locations.register("venlo", "Venlo", "NL", 1)
    return inventory


# -- arithmetic ----------------------------------------------------------------------------------


def test_location_atp_is_available_less_safety_stock_never_below_zero() -> None:
    assert location_atp(10, 3) == 7
    assert location_atp(2, 5) == 0
    assert location_atp(-1, 0) == 0


def test_a_channel_sells_its_locations_less_buffer_units() -> None:
    rule = ChannelRule(locations=frozenset({"berlin"}), buffer_units=2)
    assert channel_atp({"berlin": 10, "venlo": 50}, rule) == 8
    assert channel_atp({"berlin": 1}, rule) == 0


def test_a_percent_buffer_leaves_the_channel_the_rounded_down_rest() -> None:
    # 10% of 15 is 1.5: the channel may sell 13 (13.5 rounded down), not 14.
    assert channel_atp({"a": 15}, ChannelRule(buffer_percent=10)) == 13
    assert channel_atp({"a": 100}, ChannelRule(buffer_units=2, buffer_percent=10)) == 88
    assert channel_atp({"a": 3}, ChannelRule(buffer_percent=100)) == 0


def test_an_allocation_caps_what_a_channel_may_sell() -> None:
    assert channel_atp({"a": 80, "b": 20}, ChannelRule(allocation=50)) == 50
    assert channel_atp({"a": 30}, ChannelRule(allocation=50)) == 30
    assert channel_atp({"a": 30}, NO_RULE) == 30


def test_channels_are_read_from_the_settings_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "OMS_INVENTORY_CHANNELS",
        '{"shopify-eu": {"locations": ["berlin"], "buffer_units": 2, "buffer_percent": 10,'
        ' "allocation": 50}}',
    )
    rules = Settings().channel_rules()
    assert rules.of("shopify-eu") == ChannelRule(frozenset({"berlin"}), 2, 10, 50)
    assert rules.of("woo") == NO_RULE


# -- per SKU ------------------------------------------------------------------------------------


def test_safety_stock_lowers_atp_but_not_what_orders_may_reserve(app: Inventory) -> None:
    app.stocks.receive("hamburg", "A", 5)
    app.stocks.receive("berlin", "A", 4)
    app.atp.set_safety_stock("A", "hamburg", 3)
    found = app.atp.of("A", None)
    assert found.locations == {"hamburg": 2, "berlin": 4} and found.total == 6
    order = factories.order_placed(lines=factories.lines({"A": 5}))
    apply(app, CONSUMES, order)  # orders may dig into safety stock
    reservation = app.repository.get(reservation_id_for(order.order_id))
    assert isinstance(reservation, Reservation) and reservation.allocations
    assert app.atp.of("A", None).locations == {"hamburg": 0, "berlin": 4}
    app.atp.set_safety_stock("A", "hamburg", 0)  # 0 clears it
    assert app.stocks.get("A").safety_stock("hamburg") == 0


def test_a_closed_location_counts_in_no_atp(app: Inventory) -> None:
    app.stocks.receive("hamburg", "A", 5)
    app.stocks.receive("berlin", "A", 4)
    app.locations.set_active("hamburg", False)
    found = app.atp.of("A", NO_RULE)
    assert found.locations == {"berlin": 4} and found.total == 4 and found.channel == 4


def test_the_channel_atp_counts_only_its_locations_less_buffer(app: Inventory) -> None:
    app.stocks.receive("hamburg", "A", 10)
    app.stocks.receive("venlo", "A", 10)
    app.atp.set_safety_stock("A", "venlo", 4)
    rule = ChannelRule(locations=frozenset({"venlo"}), buffer_units=1, allocation=3)
    assert app.atp.of("A", rule).channel == 3
    assert app.atp.of("A", ChannelRule(locations=frozenset({"venlo"}))).channel == 6


# -- the basket check ---------------------------------------------------------------------------


def test_the_basket_check_routes_like_a_reservation_and_records_nothing(app: Inventory) -> None:
    for loc in ("berlin", "hamburg", "venlo"):
        app.stocks.receive(loc, "A", 5)
    app.stocks.receive("berlin", "B", 5)
    requested = {"A": 2, "B": 1}
    position = app.recorder.max_notification_id()
    allocations, shortages = app.atp.check(requested, "DE", NO_RULE)
    assert app.recorder.max_notification_id() == position  # nothing recorded
    assert app.stocks.get("A").reserved("berlin") == 0
    order = factories.order_placed(lines=factories.lines(requested))
    apply(app, CONSUMES, order)
    reservation = app.repository.get(reservation_id_for(order.order_id))
    assert isinstance(reservation, Reservation) and not shortages
    # One location fills the whole basket: the check picks it, as the reservation did.
    assert allocations == [
        {"sku": "A", "location_id": "berlin", "quantity": 2},
        {"sku": "B", "location_id": "berlin", "quantity": 1},
    ]
    assert sorted(allocations, key=str) == sorted(reservation.allocations, key=str)


def test_the_basket_check_routes_on_atp_not_raw_available(app: Inventory) -> None:
    app.stocks.receive("hamburg", "A", 5)
    app.stocks.receive("berlin", "A", 5)
    app.atp.set_safety_stock("A", "hamburg", 4)
    allocations, _ = app.atp.check({"A": 2}, "DE", NO_RULE)
    assert allocations == [{"sku": "A", "location_id": "berlin", "quantity": 2}]
    allocations, _ = app.atp.check({"A": 6}, "DE", NO_RULE)
    assert [(a["location_id"], a["quantity"]) for a in allocations] == [
        ("hamburg", 1),
        ("berlin", 5),
    ]


def test_the_basket_check_names_the_short_lines_of_the_channel(app: Inventory) -> None:
    app.stocks.receive("hamburg", "A", 10)
    app.stocks.receive("venlo", "A", 10)
    rule = ChannelRule(locations=frozenset({"hamburg"}), buffer_percent=10)
    allocations, shortages = app.atp.check({"A": 10, "NEVER": 1}, "DE", rule)
    assert allocations == []
    assert shortages == [
        {"sku": "A", "requested": 10, "available": 9},
        {"sku": "NEVER", "requested": 1, "available": 0},
    ]
