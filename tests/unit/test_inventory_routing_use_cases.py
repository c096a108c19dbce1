"""Reservations follow the configured routing rules and record why; locations have addresses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.inventory_service.application import Inventory, Routing
from services.inventory_service.application.routing import bundled_centroids
from services.inventory_service.bootstrap import routing, service_events
from services.inventory_service.domain import (
    ChannelRule,
    ChannelRules,
    LocationConflictError,
    PartialPolicy,
    PostalAddress,
    Reservation,
    ReservationStatus,
    parse_rules,
    reservation_id_for,
)
from services.inventory_service.integration import CONSUMES
from services.inventory_service.settings import Settings
from shared import events as ev
from tests import factories
from tests.kit import apply

EVENTS = service_events()


def _address(city: str, postal_code: str, country: str = "DE") -> PostalAddress:
    return {
        "name": f"Warehouse {city}",
        "line1": "1 Dock Road",
        "line2": None,
        "city": city,
        "postal_code": postal_code,
        "region": None,
        "country": country,
    }


@pytest.fixture
def app() -> Iterator[Inventory]:
    """Four German locations A-D (priority in that order), no address yet."""
    inventory = Inventory()
    for priority, location_id in enumerate("ABCD", start=1):
        inventory.locations.register(location_id, f"Site {location_id}", "DE", priority)
    yield inventory
    inventory.close()


def _place(app: Inventory, lines: dict[str, int], **overrides: object) -> ev.OrderPlaced:
    event = factories.order_placed(lines=factories.lines(lines), **overrides)
    apply(app, CONSUMES, event)
    return event


def _reservation(app: Inventory, event: ev.OrderPlaced) -> Reservation:
    found = app.repository.get(reservation_id_for(event.order_id))
    assert isinstance(found, Reservation)
    return found


def _published(app: Inventory) -> list[ev.IntegrationEvent]:
    notifications = app.recorder.select_notifications(1, 10_000)
    mapped = [EVENTS.to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if e is not None]


def test_the_counterexample_ships_from_c_and_d_and_stock_reserved_says_why(app: Inventory) -> None:
    for location_id, sku in (("A", "X"), ("C", "X"), ("B", "Y"), ("C", "Y"), ("D", "W")):
        app.stocks.receive(location_id, sku, 1)
    order = _place(app, {"X": 1, "Y": 1, "W": 1})

    reservation = _reservation(app, order)
    assert reservation.status == ReservationStatus.RESERVED
    assert {a["location_id"] for a in reservation.allocations} == {"C", "D"}
    reserved = [e for e in _published(app) if isinstance(e, ev.StockReserved)]
    assert reserved[-1].routing is not None
    assert reserved[-1].routing.decided_by == "fewest_shipments"
    lost = {c.location_id: c.lost_on for c in reserved[-1].routing.candidates}
    assert lost == {"A": "fewest_shipments", "B": "fewest_shipments", "C": None, "D": None}


def test_a_channel_that_forbids_splits_waits_for_one_location_to_hold_it_all(
    app: Inventory,
) -> None:
    app.configure_routing(Routing(channels=ChannelRules({"shop": ChannelRule(splits=False)})))
    app.stocks.receive("A", "X", 1)
    app.stocks.receive("B", "Y", 1)
    order = _place(app, {"X": 1, "Y": 1}, channel="shop")
    assert _reservation(app, order).status == ReservationStatus.BACKORDERED

    app.stocks.receive("B", "X", 1)  # now B holds both: the waiting order is filled there

    reservation = _reservation(app, order)
    assert reservation.status == ReservationStatus.RESERVED
    assert {a["location_id"] for a in reservation.allocations} == {"B"}
    assert reservation.explanation is not None
    assert reservation.explanation["decided_by"] == "no_splits"


def test_the_channel_s_locations_are_the_only_ones_an_order_is_routed_to(app: Inventory) -> None:
    app.configure_routing(
        Routing(channels=ChannelRules({"shop": ChannelRule(locations=frozenset({"D"}))}))
    )
    app.stocks.receive("A", "X", 5)
    app.stocks.receive("D", "X", 5)
    order = _place(app, {"X": 1}, channel="shop")
    reservation = _reservation(app, order)
    assert [a["location_id"] for a in reservation.allocations] == ["D"]
    web = _reservation(app, _place(app, {"X": 1}, channel="web"))
    assert [a["location_id"] for a in web.allocations] == ["A"]


def test_nearest_to_the_ship_to_wins_over_priority_when_configured_first(app: Inventory) -> None:
    app.configure_routing(
        Routing(
            rules=parse_rules("allowed,single_location,nearest,priority"),
            centroids=bundled_centroids(),
        )
    )
    app.locations.set_address("A", _address("Munich", "80331"), None, None)
    app.locations.set_address("B", _address("Hamburg", "20095"), 53.55, 9.99)
    app.stocks.receive("A", "X", 5)
    app.stocks.receive("B", "X", 5)

    order = _place(app, {"X": 1}, shipping_address=factories.address(postal_code="10115"))

    reservation = _reservation(app, order)
    assert [a["location_id"] for a in reservation.allocations] == ["B"]
    assert reservation.explanation is not None
    assert reservation.explanation["decided_by"] == "nearest"


def test_an_address_is_set_once_published_and_its_country_must_be_the_location_s(
    app: Inventory,
) -> None:
    berlin = _address("Berlin", "10115")
    location = app.locations.set_address("A", berlin, 52.52, 13.4)
    assert location.address == berlin
    app.locations.set_address("A", berlin, 52.52, 13.4)  # the same again: no event
    with pytest.raises(LocationConflictError):
        app.locations.set_address("A", _address("Vienna", "1010", "AT"), None, None)

    changed = [e for e in _published(app) if isinstance(e, ev.LocationAddressChanged)]
    assert len(changed) == 1
    assert (changed[0].location_id, changed[0].address.city) == ("A", "Berlin")
    assert (changed[0].latitude, changed[0].longitude) == (52.52, 13.4)


def test_the_settings_name_the_rules_in_order_and_refuse_unknown_ones() -> None:
    settings = Settings(
        routing_rules="allowed,nearest,priority",
        channels={"shop": {"locations": ["A"], "splits": False, "partial": "ship_available"}},
    )
    configured = routing(settings)
    assert configured.rules == ("allowed", "nearest", "priority")
    policy = configured.policy("shop")
    assert (policy.allowed, policy.splits) == (frozenset({"A"}), False)
    assert policy.partial == PartialPolicy.SHIP_AVAILABLE
    assert configured.policy("web").partial == PartialPolicy.WAIT_ALL
    assert configured.policy("web").allowed is None
    with pytest.raises(ValueError, match="unknown routing rules"):
        Settings(routing_rules="allowed,cheapest")


def test_the_atp_basket_check_routes_like_a_reservation_by_the_ship_to_s_postal_code(
    app: Inventory,
) -> None:
    app.configure_routing(
        Routing(rules=parse_rules("nearest,priority"), centroids=bundled_centroids())
    )
    app.locations.set_address("A", _address("Munich", "80331"), None, None)
    app.locations.set_address("B", _address("Hamburg", "20095"), None, None)
    app.stocks.receive("A", "X", 5)
    app.stocks.receive("B", "X", 5)

    near_hamburg, _ = app.atp.check({"X": 1}, "DE", ChannelRule(), "22041")
    near_munich, _ = app.atp.check({"X": 1}, "DE", ChannelRule(), "81241")

    assert [a["location_id"] for a in near_hamburg] == ["B"]
    assert [a["location_id"] for a in near_munich] == ["A"]


def test_a_channel_that_ships_what_is_there_holds_it_and_gives_up_the_rest(
    app: Inventory,
) -> None:
    channels = ChannelRules({"pos": ChannelRule(partial=PartialPolicy.SHIP_AVAILABLE)})
    app.configure_routing(Routing(channels=channels))
    app.stocks.receive("A", "X", 1)
    app.stocks.receive("A", "Y", 1)
    order = _place(app, {"X": 2, "Y": 1, "Z": 1}, channel="pos")

    reservation = _reservation(app, order)
    assert reservation.status == ReservationStatus.RESERVED
    assert reservation.allocations == [
        {"sku": "X", "location_id": "A", "quantity": 1},
        {"sku": "Y", "location_id": "A", "quantity": 1},
    ]
    reserved = [e for e in _published(app) if isinstance(e, ev.StockReserved)][-1]
    assert [(s.sku, s.requested, s.available) for s in reserved.short or []] == [
        ("X", 2, 1),
        ("Z", 1, 0),
    ]
    # Given up, not waited for: stock arriving later is not taken by this order.
    app.stocks.receive("A", "X", 5)
    assert app.stocks.get("X").levels["A"]["reserved"] == 1


def test_ship_what_is_there_still_waits_when_nothing_at_all_is_there(app: Inventory) -> None:
    channels = ChannelRules({"pos": ChannelRule(partial=PartialPolicy.SHIP_AVAILABLE)})
    app.configure_routing(Routing(channels=channels))
    order = _place(app, {"X": 1}, channel="pos")
    assert _reservation(app, order).status == ReservationStatus.BACKORDERED
    app.stocks.receive("A", "X", 1)
    assert _reservation(app, order).status == ReservationStatus.RESERVED


def test_the_default_channel_still_waits_for_every_line(app: Inventory) -> None:
    app.stocks.receive("A", "X", 1)
    order = _place(app, {"X": 2})
    assert _reservation(app, order).status == ReservationStatus.BACKORDERED
    assert app.stocks.get("X").levels["A"]["reserved"] == 0


def test_a_channel_that_backorders_the_rest_holds_what_is_there_and_the_rest_on_arrival(
    app: Inventory,
) -> None:
    channels = ChannelRules({"shop": ChannelRule(partial=PartialPolicy.BACKORDER_REST)})
    app.configure_routing(Routing(channels=channels))
    app.stocks.receive("A", "X", 1)
    app.stocks.receive("A", "Y", 1)
    order = _place(app, {"X": 2, "Y": 1}, channel="shop")

    reservation = _reservation(app, order)
    assert reservation.status == ReservationStatus.RESERVED
    assert reservation.rest == {"X": 1}
    first = [e for e in _published(app) if isinstance(e, ev.StockReserved)][-1]
    assert [(s.sku, s.requested, s.available) for s in first.rest or []] == [("X", 2, 1)]
    assert first.rest_request_id == "rest-r0"

    app.stocks.receive("B", "X", 3)

    rest = [e for e in _published(app) if isinstance(e, ev.StockReserved)][-1]
    assert rest.request_id == "rest-r0"
    assert rest.routing is not None and rest.routing.decided_by == "stock"  # A has none left
    assert [(a.sku, a.location_id, a.quantity) for a in rest.allocations] == [("X", "B", 1)]
    assert _reservation(app, order).rest == {}
    app.stocks.receive("B", "X", 3)  # nothing more is held for it
    assert app.stocks.get("X").levels["B"]["reserved"] == 1


def test_a_cancelled_order_s_rest_is_not_held_when_stock_arrives(app: Inventory) -> None:
    channels = ChannelRules({"shop": ChannelRule(partial=PartialPolicy.BACKORDER_REST)})
    app.configure_routing(Routing(channels=channels))
    app.stocks.receive("A", "X", 1)
    order = _place(app, {"X": 2}, channel="shop")
    apply(app, CONSUMES, factories.order_cancelled(order.order_id, reason="changed mind"))

    app.stocks.receive("A", "X", 5)

    assert app.stocks.get("X").levels["A"]["reserved"] == 0
    assert _reservation(app, order).rest == {}
