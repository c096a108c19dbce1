"""The Reservation aggregate: what one order asked for and what it holds where."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.base import reservation_id_for
from services.inventory_service.domain.location import merge_lines

REQUESTED = "requested"
RESERVED = "reserved"
BACKORDERED = "backordered"
RELEASED = "released"
PARTIALLY_CONSUMED = "partially_consumed"
CONSUMED = "consumed"
CANCELLED = "cancelled"

HOLDING = frozenset({RESERVED, PARTIALLY_CONSUMED})
ENDED = frozenset({RELEASED, CANCELLED})


class Reservation(Aggregate):
    """What one order asked for, the stock it still holds where, and what it shipped and returned.

    The per-order half of the stock books: a SKU's Stock keeps only totals per location, so
    releasing, shipping or short-picking asks the Reservation what the order holds, and the
    Reservation remembers the shipments and returns it counted (redeliveries change nothing).
    """

    @event("Requested")
    def __init__(self, order_id: UUID, lines: list[dict[str, Any]], country: str | None) -> None:
        self.order_id = order_id
        self.lines = [dict(line) for line in lines]
        self.country = country
        self.status = REQUESTED
        self.allocations: list[dict[str, Any]] = []
        self.held: list[dict[str, Any]] = []
        self.shortages: list[dict[str, Any]] = []
        self.shipment_ids: list[str] = []
        self.restocked: dict[str, int] = {}  # return id:sku:location -> units taken back

    @staticmethod
    def create_id(order_id: UUID, **_: Any) -> UUID:
        """One reservation per order, however often the order arrives."""
        return reservation_id_for(order_id)

    @property
    def requested(self) -> dict[str, int]:
        """Units requested per SKU."""
        return merge_lines(self.lines)

    def held_of(self, sku: str) -> dict[str, int]:
        """Units of a SKU the order still holds, per location."""
        held: dict[str, int] = {}
        for allocation in self.held:
            if allocation["sku"] == sku:
                location_id = allocation["location_id"]
                held[location_id] = held.get(location_id, 0) + allocation["quantity"]
        return held

    def held_at(self, sku: str, location_id: str) -> int:
        """Units of a SKU the order still holds at a location."""
        return self.held_of(sku).get(location_id, 0)

    def has_shipped(self, shipment_id: str) -> bool:
        """Whether this shipment was counted already."""
        return shipment_id in self.shipment_ids

    def reserve(self, allocations: list[dict[str, Any]]) -> None:
        """All lines are held at these locations."""
        if self.status in (REQUESTED, BACKORDERED):
            self._reserved(order_id=self.order_id, allocations=allocations)

    @event("Reserved")
    def _reserved(self, order_id: UUID, allocations: list[dict[str, Any]]) -> None:
        self.allocations = [dict(a) for a in allocations]
        self.held = [dict(a) for a in allocations]
        self.shortages = []
        self.status = RESERVED

    def backorder(self, shortages: list[dict[str, Any]]) -> None:
        """Some line cannot be filled: nothing is held, the order waits for stock."""
        if self.status == REQUESTED:
            self._backordered(order_id=self.order_id, shortages=shortages)

    @event("Backordered")
    def _backordered(self, order_id: UUID, shortages: list[dict[str, Any]]) -> None:
        self.shortages = [dict(s) for s in shortages]
        self.status = BACKORDERED

    def cancel(self, reason: str) -> None:
        """The order was cancelled: give back what is still held (cancelling twice does nothing)."""
        if self.status in ENDED:
            return
        if self.held:
            self._released(order_id=self.order_id, allocations=self.held, reason=reason)
        else:
            self._cancelled(order_id=self.order_id, reason=reason)

    @event("Released")
    def _released(self, order_id: UUID, allocations: list[dict[str, Any]], reason: str) -> None:
        self.held = []
        self.status = RELEASED

    @event("Cancelled")
    def _cancelled(self, order_id: UUID, reason: str) -> None:
        self.status = CANCELLED

    def consume(self, shipment_id: str, location_id: str, lines: dict[str, int]) -> None:
        """A shipment took held units away from a location; each shipment counts once."""
        if self.has_shipped(shipment_id):
            return
        held = _take(self.held, location_id, lines)
        status = self.status
        if status in HOLDING:
            status = PARTIALLY_CONSUMED if held else CONSUMED
        self._consumed(
            order_id=self.order_id,
            shipment_id=shipment_id,
            location_id=location_id,
            lines=[{"sku": sku, "quantity": q} for sku, q in lines.items()],
            held=held,
            status=status,
        )

    @event("Consumed")
    def _consumed(
        self,
        order_id: UUID,
        shipment_id: str,
        location_id: str,
        lines: list[dict[str, Any]],
        held: list[dict[str, Any]],
        status: str,
    ) -> None:
        self.held = [dict(a) for a in held]
        self.shipment_ids.append(shipment_id)
        self.status = status

    def release_short(self, location_id: str, lines: dict[str, int]) -> None:
        """A picker did not find these units at a location: the order stops holding them."""
        held = _take(self.held, location_id, lines)
        if held == self.held:
            return
        status = self.status
        if status in HOLDING and not held:
            status = CONSUMED if self.shipment_ids else RELEASED
        self._short_released(
            order_id=self.order_id,
            location_id=location_id,
            allocations=[
                {"sku": sku, "location_id": location_id, "quantity": q} for sku, q in lines.items()
            ],
            held=held,
            status=status,
        )

    @event("ShortReleased")
    def _short_released(
        self,
        order_id: UUID,
        location_id: str,
        allocations: list[dict[str, Any]],
        held: list[dict[str, Any]],
        status: str,
    ) -> None:
        self.held = [dict(a) for a in held]
        self.status = status

    def take_back(
        self, return_id: str, sellable: dict[tuple[str, str], int]
    ) -> list[dict[str, Any]]:
        """Sellable returned units per (sku, location) not counted before; they count now."""
        new = [
            {"sku": sku, "location_id": location_id, "quantity": quantity}
            for (sku, location_id), quantity in sorted(sellable.items())
            if _return_key(return_id, sku, location_id) not in self.restocked
        ]
        if new:
            self._restocked(order_id=self.order_id, return_id=return_id, lines=new)
        return new

    @event("Restocked")
    def _restocked(self, order_id: UUID, return_id: str, lines: list[dict[str, Any]]) -> None:
        for line in lines:
            key = _return_key(return_id, line["sku"], line["location_id"])
            self.restocked[key] = line["quantity"]


def _return_key(return_id: str, sku: str, location_id: str) -> str:
    return f"{return_id}:{sku}:{location_id}"


def _take(held: list[dict[str, Any]], location_id: str, lines: dict[str, int]) -> list:
    """What stays held after a shipment took these units from one location."""
    rest = dict(lines)
    remaining = []
    for allocation in held:
        quantity = allocation["quantity"]
        if allocation["location_id"] == location_id:
            taken = min(quantity, rest.get(allocation["sku"], 0))
            rest[allocation["sku"]] = rest.get(allocation["sku"], 0) - taken
            quantity -= taken
        if quantity:
            remaining.append({**allocation, "quantity": quantity})
    return remaining
