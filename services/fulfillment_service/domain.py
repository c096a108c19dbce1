"""Shipments (one per order per location) and the index of each order's shipments."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

OPEN = "open"
SHIPPED = "shipped"
CANCELLED = "cancelled"

# The shipment lifecycle as an explicit state machine: status -> statuses it may move to.
# Picking and packing will slot in between open and shipped by adding states here.
TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({SHIPPED, CANCELLED}),
    SHIPPED: frozenset(),
    CANCELLED: frozenset(),
}
STATUSES = tuple(TRANSITIONS)

SHIPMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/shipments")
ORDER_SHIPMENTS_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/order-shipments")


class ShipmentError(Exception):
    """Base of fulfillment domain errors."""


class ShipmentNotFoundError(ShipmentError):
    """No shipment has this id."""


class ShipmentNotShippableError(ShipmentError):
    """The shipment cannot leave in its current status (e.g. it was cancelled)."""


class ShipmentAlreadyShippedError(ShipmentError):
    """The shipment already left, with another carrier or tracking number."""


def shipment_id_for(order_id: UUID, location_id: str) -> UUID:
    """The shipment id of an order's part leaving one location, so creation is idempotent."""
    return uuid5(SHIPMENT_NAMESPACE, f"{order_id}:{location_id}")


def order_shipments_id_for(order_id: UUID) -> UUID:
    """The id of the index of one order's shipments."""
    return uuid5(ORDER_SHIPMENTS_NAMESPACE, str(order_id))


def plan_shipments(allocations: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Allocations grouped by location: each location's lines, units summed per SKU."""
    units: dict[str, Counter[str]] = {}
    for allocation in allocations:
        at_location = units.setdefault(allocation["location_id"], Counter())
        at_location[allocation["sku"]] += int(allocation["quantity"])
    return {
        location_id: [{"sku": sku, "quantity": quantity} for sku, quantity in skus.items()]
        for location_id, skus in units.items()
    }


class Shipment(Aggregate):
    """What leaves one location for one customer: lines, ship-to, carrier and tracking."""

    @event("Created")
    def __init__(
        self,
        order_id: UUID,
        location_id: str,
        lines: list[dict[str, Any]],
        ship_to: dict[str, Any],
        customer_name: str,
    ) -> None:
        self.order_id = order_id
        self.location_id = location_id
        self.lines = lines
        self.ship_to = ship_to
        self.customer_name = customer_name
        self.status = OPEN
        self.carrier: str | None = None
        self.tracking_number: str | None = None
        self.shipped_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.cancel_reason: str | None = None

    @staticmethod
    def create_id(order_id: UUID, location_id: str, **_: Any) -> UUID:
        """The id is derived from the order and the location."""
        return shipment_id_for(order_id, location_id)

    @property
    def shipment_id(self) -> UUID:
        """The shipment's id."""
        return self.id

    @property
    def created_at(self) -> datetime:
        """When the shipment was created."""
        return self.created_on

    def can_become(self, status: str) -> bool:
        """Whether the lifecycle allows moving from the current status to this one."""
        return status in TRANSITIONS[self.status]

    def ship(self, carrier: str, tracking_number: str) -> bool:
        """The shipment left; shipping again with the same carrier and tracking changes nothing."""
        if self.status == SHIPPED:
            if (carrier, tracking_number) == (self.carrier, self.tracking_number):
                return False
            raise ShipmentAlreadyShippedError(
                f"shipment {self.id} already shipped with {self.carrier} {self.tracking_number}"
            )
        if not self.can_become(SHIPPED):
            raise ShipmentNotShippableError(f"shipment {self.id} is {self.status}")
        # The event carries what the public Shipped event needs, so the mapping stays pure.
        self._shipped(
            carrier=carrier,
            tracking_number=tracking_number,
            order_id=self.order_id,
            location_id=self.location_id,
            lines=self.lines,
        )
        return True

    @event("Shipped")
    def _shipped(
        self,
        carrier: str,
        tracking_number: str,
        order_id: UUID,
        location_id: str,
        lines: list[dict[str, Any]],
        timestamp: datetime | None = None,
    ) -> None:
        # eventsourcing passes the event's own timestamp to a parameter of that name.
        self.status = SHIPPED
        self.carrier = carrier
        self.tracking_number = tracking_number
        self.shipped_at = timestamp

    def cancel(self, reason: str) -> bool:
        """The shipment will not leave; one that already left or was cancelled stays as it is."""
        if not self.can_become(CANCELLED):
            return False
        self._cancelled(reason=reason, order_id=self.order_id, location_id=self.location_id)
        return True

    @event("Cancelled")
    def _cancelled(
        self, reason: str, order_id: UUID, location_id: str, timestamp: datetime | None = None
    ) -> None:
        self.status = CANCELLED
        self.cancel_reason = reason
        self.cancelled_at = timestamp


class OrderShipments(Aggregate):
    """The shipments of one order, and whether the order was cancelled (even before confirming)."""

    @event("Registered")
    def __init__(self, order_id: UUID) -> None:
        self.order_id = order_id
        self.shipment_ids: list[str] = []
        self.confirmed = False
        self.cancelled = False

    @staticmethod
    def create_id(order_id: UUID, **_: Any) -> UUID:
        """The id is derived from the order."""
        return order_shipments_id_for(order_id)

    @property
    def awaits_confirmation(self) -> bool:
        """Whether a confirmation of the order should still create shipments."""
        return not (self.confirmed or self.cancelled)

    def confirm(self, shipment_ids: list[UUID]) -> bool:
        """The order's shipments were created; a second confirmation changes nothing."""
        if not self.awaits_confirmation:
            return False
        self._confirmed(shipment_ids=[str(i) for i in shipment_ids])
        return True

    @event("Confirmed")
    def _confirmed(self, shipment_ids: list[str]) -> None:
        self.shipment_ids = shipment_ids
        self.confirmed = True

    def cancel(self, reason: str) -> bool:
        """The order was cancelled; remembered so that a late confirmation creates nothing."""
        if self.cancelled:
            return False
        self._cancelled(reason=reason)
        return True

    @event("Cancelled")
    def _cancelled(self, reason: str) -> None:
        self.cancelled = True
