"""Stock sync, inventory's side: what each channel may sell is published when it changes."""

from __future__ import annotations

from typing import Any

import pytest

from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import service_events
from services.inventory_service.domain import (
    ANY_CHANNEL,
    ChannelRule,
    ChannelRules,
    channel_level,
    channel_levels,
)
from services.inventory_service.integration import CONSUMES
from shared import events as ev
from tests import factories
from tests.kit import apply

EVENTS = service_events()


@pytest.fixture
def app() -> Inventory:
    """Berlin and Hamburg; shopify-eu sells Berlin only, less 2 units, at most 10."""
    rules = ChannelRules(
        {"shopify-eu": ChannelRule(locations=frozenset({"berlin"}), buffer_units=2, allocation=10)}
    )
    inventory = Inventory(channel_rules=rules)
    inventory.locations.register("berlin", "Berlin", "DE", 20)
    inventory.locations.register("hamburg", "Hamburg", "DE", 10)
    return inventory


def told(app: Inventory, after: int = 0) -> list[ev.ChannelAvailabilityChanged]:
    """The ChannelAvailabilityChanged events the relay would publish after a position."""
    notifications = app.recorder.select_notifications(after + 1, 10_000)
    mapped = [EVENTS.to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if isinstance(e, ev.ChannelAvailabilityChanged)]


def position(app: Inventory) -> int:
    return app.recorder.max_notification_id() or 0


def figures(change: ev.ChannelAvailabilityChanged) -> dict[str, Any]:
    return {
        c.channel: (c.available, {s.location_id: s.available for s in c.locations})
        for c in change.channels
    }


def test_a_channel_level_fills_the_fullest_locations_first_and_names_empty_ones() -> None:
    rule = ChannelRule(buffer_units=3)
    assert channel_level({"a": 2, "b": 5, "c": 0}, rule) == {
        "available": 4,
        "locations": {"b": 4, "a": 0, "c": 0},
    }
    assert (
        sum(channel_level({"a": 7, "b": 9}, ChannelRule(allocation=10))["locations"].values()) == 10
    )


def test_a_closed_location_is_told_as_zero_to_every_channel() -> None:
    levels = channel_levels({"a": 4, "b": 6}, ["b"], {"x": ChannelRule(locations=frozenset("b"))})
    assert levels["x"] == {"available": 0, "locations": {"b": 0}}
    assert levels[ANY_CHANNEL] == {"available": 4, "locations": {"a": 4, "b": 0}}


def test_a_receipt_tells_every_configured_channel_and_any_other(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 5)
    app.stocks.receive("hamburg", "A", 20)
    last = told(app)[-1]
    assert last.sku == "A"
    assert figures(last) == {
        "*": (25, {"hamburg": 20, "berlin": 5}),
        "shopify-eu": (3, {"berlin": 3}),
    }
    assert last.stock_version > told(app)[0].stock_version


def test_a_reservation_and_a_cancel_tell_channels_what_is_left(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 5)
    order = factories.order_placed(lines=factories.lines({"A": 2}))
    before = position(app)
    apply(app, CONSUMES, order)
    assert [figures(e)["*"][0] for e in told(app, before)] == [3]
    before = position(app)
    apply(app, CONSUMES, factories.order_cancelled(order.order_id))
    assert [figures(e)["*"][0] for e in told(app, before)] == [5]


def test_nothing_is_told_when_no_channel_figure_changes(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 50)  # shopify-eu capped at 10
    before = position(app)
    app.stocks.assign_bin("berlin", "A", "A-01-1")  # not a level change
    assert told(app, before) == []
    rules = ChannelRules({"capped": ChannelRule(allocation=10)})
    capped = Inventory(channel_rules=rules)
    capped.locations.register("berlin", "Berlin", "DE", 1)
    capped.stocks.receive("berlin", "A", 50)
    capped.stocks.receive("berlin", "A", 1)
    (only,) = told(capped, position(capped) - 2)  # * moved from 50 to 51; capped stayed 10
    assert figures(only)["capped"][0] == 10 and figures(only)["*"][0] == 51


def test_safety_stock_tells_channels_less(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 8)
    before = position(app)
    app.atp.set_safety_stock("A", "berlin", 3)
    (change,) = told(app, before)
    assert figures(change) == {"*": (5, {"berlin": 5}), "shopify-eu": (3, {"berlin": 3})}


def test_closing_a_location_is_told_when_its_skus_are_told_again(app: Inventory) -> None:
    app.stocks.receive("berlin", "A", 8)
    app.stocks.receive("hamburg", "A", 4)
    app.locations.set_active("berlin", False)
    before = position(app)
    assert app.atp.retell_channels(["A", "NEVER-STOCKED"]) == 1
    (change,) = told(app, before)
    assert figures(change) == {
        "*": (4, {"hamburg": 4, "berlin": 0}),
        "shopify-eu": (0, {"berlin": 0}),
    }
    assert app.atp.retell_channels(["A"]) == 0  # the same again: nothing
