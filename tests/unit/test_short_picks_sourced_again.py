"""Short-picked units sourced again (OMS_ORDERS_SHORT_PICK=source_again): orders, inventory and
fulfillment on the in-memory store, their published events handed on as the broker would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest

from services.fulfillment_service import bootstrap as fulfillment_bootstrap
from services.fulfillment_service import integration as fulfillment_integration
from services.fulfillment_service.application import Shipments
from services.fulfillment_service.domain import shipment_id_for
from services.fulfillment_service.settings import Settings as FulfillmentSettings
from services.inventory_service import integration as inventory_integration
from services.inventory_service.application import Inventory
from services.inventory_service.bootstrap import service_events as inventory_events
from services.order_service import integration as order_integration
from services.order_service.application import Orders
from services.order_service.bootstrap import service_events as order_events
from services.order_service.domain import OrderStatus, ShortPickPolicy
from shared import events as ev
from shared.events import now_utc
from shared.runtime.application import ServiceApplication
from shared.runtime.registry import Handler, ServiceEvents
from tests import factories
from tests.factories_order_service import place_order
from tests.kit import apply


@dataclass
class Node:
    """One service: its application, its event tables and how far its log was handed on."""

    app: ServiceApplication
    events: ServiceEvents
    consumes: dict[type[ev.IntegrationEvent], Handler]
    position: int = 0
    received: list[ev.IntegrationEvent] = field(default_factory=list)


class Mesh:
    """Orders, inventory and fulfillment: what one publishes, the others that consume it get."""

    def __init__(self, policy: ShortPickPolicy) -> None:
        orders = Orders()
        orders.short_pick_policy = policy
        shipments = fulfillment_bootstrap.configure(Shipments(), FulfillmentSettings())
        self.orders, self.inventory, self.shipments = orders, Inventory(), shipments
        self.nodes = [
            Node(orders, order_events(), order_integration.CONSUMES),
            Node(self.inventory, inventory_events(), inventory_integration.CONSUMES),
            Node(shipments, fulfillment_bootstrap.events(), fulfillment_integration.CONSUMES),
        ]
        self.published: list[ev.IntegrationEvent] = []

    def deliver(self, *events: ev.IntegrationEvent) -> None:
        """Hand events to every service that consumes them, then everything that follows."""
        for event in events:
            for node in self.nodes:
                if type(event) in node.consumes:
                    apply(node.app, node.consumes, event)
        self.settle()

    def settle(self) -> None:
        """Relay until no service has anything new to publish."""
        moved = True
        while moved:
            moved = False
            for node in self.nodes:
                notifications = node.app.recorder.select_notifications(node.position + 1, 1000)
                for notification in notifications:
                    if notification.id <= node.position:
                        continue  # handed on already, by a delivery this one caused
                    node.position = notification.id
                    domain_event = node.app.mapper.to_domain_event(notification)
                    public = node.events.to_integration(domain_event)
                    if public is None:
                        continue
                    moved = True
                    self.published.append(public)
                    self.deliver(public)

    def of_type(self, kind: type) -> list:
        return [e for e in self.published if isinstance(e, kind)]


@pytest.fixture
def mesh(request: pytest.FixtureRequest) -> Iterator[Mesh]:
    """Berlin (preferred) and Hamburg, two TEE in each; the short-pick policy as parametrized."""
    policy = getattr(request, "param", ShortPickPolicy.SOURCE_AGAIN)
    mesh = Mesh(policy)
    mesh.inventory.locations.register("berlin", "Berlin", "DE", 10)
    mesh.inventory.locations.register("hamburg", "Hamburg", "DE", 20)
    mesh.inventory.stocks.receive("berlin", "TEE", 2)
    mesh.inventory.stocks.receive("hamburg", "TEE", 2)
    mesh.settle()
    yield mesh
    mesh.shipments.close()


def order_of_two(mesh: Mesh) -> UUID:
    order_id = place_order(mesh.orders, lines=factories.lines({"TEE": 2}))
    mesh.settle()
    return order_id


def short_at_berlin(order_id: UUID, shipment_id: UUID, picked: int) -> ev.ShortPicked:
    return ev.ShortPicked(
        shipment_id=shipment_id,
        order_id=order_id,
        location_id="berlin",
        pick_list_id=uuid4(),
        lines=[{"sku": "TEE", "bin": None, "expected": 2, "picked": picked}],
        short_at=now_utc(),
    )


def levels(mesh: Mesh, location: str) -> tuple[int, int, int]:
    stock = mesh.inventory.stocks.get("TEE")
    return stock.on_hand(location), stock.reserved(location), stock.available(location)


def test_a_short_unit_is_sourced_again_elsewhere_and_ships_in_a_follow_up_shipment(mesh: Mesh):
    order_id = order_of_two(mesh)
    first = shipment_id_for(order_id, "berlin")

    mesh.deliver(short_at_berlin(order_id, first, picked=1))

    (requested,) = mesh.of_type(ev.OrderUnitsRequested)
    assert [(line.sku, line.quantity) for line in requested.lines] == [("TEE", 1)]
    follow_up = shipment_id_for(order_id, "hamburg", part=requested.request_id)
    shipment = mesh.shipments.repository.get(follow_up)
    assert [(line["sku"], line["quantity"]) for line in shipment.lines] == [("TEE", 1)]
    assert levels(mesh, "hamburg") == (2, 1, 1)
    assert levels(mesh, "berlin") == (2, 1, 0)  # the missing unit is not promised again
    assert mesh.orders.get_order(order_id).status == OrderStatus.CONFIRMED

    mesh.deliver(factories.shipped(order_id, {"TEE": 1}, shipment_id=first, location_id="berlin"))
    assert mesh.orders.get_order(order_id).status == OrderStatus.PARTIALLY_SHIPPED
    mesh.deliver(
        factories.shipped(order_id, {"TEE": 1}, shipment_id=follow_up, location_id="hamburg")
    )

    (shipped,) = mesh.of_type(ev.OrderShipped)
    assert [(line.sku, line.quantity) for line in shipped.lines] == [("TEE", 2)]
    assert shipped.short_lines is None  # nothing to refund: every unit went out
    assert levels(mesh, "hamburg") == (1, 0, 1)


def test_units_available_nowhere_ship_short_after_all(mesh: Mesh):
    mesh.inventory.stocks.adjust("hamburg", "TEE", -2, "count")
    order_id = order_of_two(mesh)
    first = shipment_id_for(order_id, "berlin")

    mesh.deliver(short_at_berlin(order_id, first, picked=1))
    (failed,) = [e for e in mesh.of_type(ev.StockReservationFailed) if e.request_id]
    assert failed.shortages[0].sku == "TEE"
    mesh.deliver(factories.shipped(order_id, {"TEE": 1}, shipment_id=first, location_id="berlin"))

    (shipped,) = mesh.of_type(ev.OrderShipped)
    assert [(line.sku, line.quantity) for line in shipped.short_lines or []] == [("TEE", 1)]


def test_a_unit_short_again_in_its_follow_up_is_not_sourced_a_second_time(mesh: Mesh):
    order_id = order_of_two(mesh)
    mesh.deliver(short_at_berlin(order_id, shipment_id_for(order_id, "berlin"), picked=1))
    (requested,) = mesh.of_type(ev.OrderUnitsRequested)
    follow_up = shipment_id_for(order_id, "hamburg", part=requested.request_id)

    again = short_at_berlin(order_id, follow_up, picked=0).model_copy(
        update={
            "location_id": "hamburg",
            "lines": [ev.PickedLine(sku="TEE", bin=None, expected=1, picked=0)],
        }
    )
    mesh.deliver(again)

    assert len(mesh.of_type(ev.OrderUnitsRequested)) == 1
    assert mesh.orders.get_order(order_id).short == {"TEE": 1}


@pytest.mark.parametrize("mesh", [ShortPickPolicy.SHIP_SHORT], indirect=True)
def test_by_default_short_units_ship_short(mesh: Mesh):
    order_id = order_of_two(mesh)

    mesh.deliver(short_at_berlin(order_id, shipment_id_for(order_id, "berlin"), picked=1))

    assert mesh.of_type(ev.OrderUnitsRequested) == []
    assert mesh.orders.get_order(order_id).short == {"TEE": 1}


def test_a_cancelled_order_gets_no_follow_up(mesh: Mesh):
    order_id = order_of_two(mesh)
    first = shipment_id_for(order_id, "berlin")
    mesh.orders.cancel_order(order_id, "customer asked")
    mesh.settle()

    mesh.deliver(short_at_berlin(order_id, first, picked=1))

    assert mesh.of_type(ev.OrderUnitsRequested) == []
    assert levels(mesh, "hamburg") == (2, 0, 2)
