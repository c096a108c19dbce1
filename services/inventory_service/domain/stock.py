"""The Stock aggregate: one SKU's units per location, who holds them, and who waits for them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.base import (
    IdempotencyKeyReusedError,
    InsufficientStockError,
    stock_id_for,
)


class Stock(Aggregate):
    """A SKU's stock: on hand and reserved per location, holds per order, a backorder queue.

    Every level-changing event carries the sku, the location and the resulting on_hand,
    reserved and available, so the public StockLevelChanged maps from the event alone.
    """

    @event("Created")
    def __init__(self, sku: str) -> None:
        self.sku = sku
        self.levels: dict[str, dict[str, int]] = {}  # location -> on_hand, reserved
        self.holds: dict[str, dict[str, int]] = {}  # order id -> location -> units held
        self.movements: dict[str, dict[str, Any]] = {}  # processed movement id -> what it did
        self.queue: list[str] = []  # order ids waiting for this SKU, first come first served

    @staticmethod
    def create_id(sku: str, **_: Any) -> UUID:
        """One Stock per SKU."""
        return stock_id_for(sku)

    # -- queries --------------------------------------------------------------------------------

    def on_hand(self, location_id: str) -> int:
        """Units physically at a location."""
        return self.levels.get(location_id, {}).get("on_hand", 0)

    def reserved(self, location_id: str) -> int:
        """Units at a location promised to orders."""
        return self.levels.get(location_id, {}).get("reserved", 0)

    def available(self, location_id: str) -> int:
        """Units at a location that can still be promised."""
        return self.on_hand(location_id) - self.reserved(location_id)

    def available_anywhere(self) -> int:
        """Units that can still be promised, over all locations."""
        return sum(max(0, self.available(loc)) for loc in self.levels)

    def held_by(self, order_id: str) -> dict[str, int]:
        """Units an order holds, per location."""
        return dict(self.holds.get(order_id, {}))

    # -- receipts and adjustments ------------------------------------------------------------

    def receive(
        self, receipt_id: str, location_id: str, quantity: int, reference: str | None
    ) -> bool:
        """Units arrived; a receipt id seen before changes nothing (returns False)."""
        if self._seen(receipt_id, {"location_id": location_id, "quantity": quantity}):
            return False
        self._received(
            receipt_id=receipt_id,
            reference=reference,
            quantity=quantity,
            **self._result(location_id, quantity, 0),
        )
        return True

    @event("Received")
    def _received(
        self,
        receipt_id: str,
        reference: str | None,
        quantity: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved)
        self.movements[receipt_id] = {"location_id": location_id, "quantity": quantity}

    def adjust(
        self, adjustment_id: str, location_id: str, quantity_delta: int, reason: str
    ) -> bool:
        """Correct on hand after a count, damage or loss; never below zero or below reserved."""
        if self._seen(
            adjustment_id, {"location_id": location_id, "quantity_delta": quantity_delta}
        ):
            return False
        on_hand = self.on_hand(location_id) + quantity_delta
        if on_hand < 0 or on_hand < self.reserved(location_id):
            raise InsufficientStockError(
                f"{self.sku} at {location_id}: on hand {self.on_hand(location_id)}, reserved"
                f" {self.reserved(location_id)}; an adjustment of {quantity_delta} would leave"
                f" {on_hand} on hand"
            )
        self._adjusted(
            adjustment_id=adjustment_id,
            reason=reason,
            quantity_delta=quantity_delta,
            **self._result(location_id, quantity_delta, 0),
        )
        return True

    @event("Adjusted")
    def _adjusted(
        self,
        adjustment_id: str,
        reason: str,
        quantity_delta: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved)
        self.movements[adjustment_id] = {
            "location_id": location_id,
            "quantity_delta": quantity_delta,
        }

    # -- reservations ---------------------------------------------------------------------------

    def reserve(self, order_id: str, location_id: str, quantity: int) -> None:
        """Hold units at a location for an order; the order leaves the backorder queue."""
        if self.available(location_id) < quantity:
            raise InsufficientStockError(
                f"{self.sku} at {location_id}: {self.available(location_id)} available,"
                f" {quantity} requested"
            )
        self._reserved(
            order_id=order_id, quantity=quantity, **self._result(location_id, 0, quantity)
        )

    @event("Reserved")
    def _reserved(
        self,
        order_id: str,
        quantity: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved)
        self._hold(order_id, location_id, quantity)
        if order_id in self.queue:
            self.queue.remove(order_id)

    def release(self, order_id: str) -> list[dict[str, Any]]:
        """Give back everything an order holds; returns what was released."""
        released = []
        for location_id, quantity in sorted(self.held_by(order_id).items()):
            self._released(
                order_id=order_id, quantity=quantity, **self._result(location_id, 0, -quantity)
            )
            released.append({"sku": self.sku, "location_id": location_id, "quantity": quantity})
        return released

    @event("Released")
    def _released(
        self,
        order_id: str,
        quantity: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved)
        self._hold(order_id, location_id, -quantity)

    # -- shipments and returns -----------------------------------------------------------------

    def ship(self, shipment_id: str, order_id: str, location_id: str, quantity: int) -> bool:
        """Units left with a shipment: on hand drops, and so does what the order held there."""
        movement_id = f"shipment:{shipment_id}"
        if movement_id in self.movements:
            return False
        consumed = min(quantity, self.held_by(order_id).get(location_id, 0))
        self._shipped(
            shipment_id=shipment_id,
            order_id=order_id,
            quantity=quantity,
            consumed=consumed,
            **self._result(location_id, -quantity, -consumed),
        )
        return True

    @event("Shipped")
    def _shipped(
        self,
        shipment_id: str,
        order_id: str,
        quantity: int,
        consumed: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved)
        self._hold(order_id, location_id, -consumed)
        self.movements[f"shipment:{shipment_id}"] = {"location_id": location_id}

    def restock(self, return_id: str, order_id: str, location_id: str, quantity: int) -> bool:
        """Sellable units came back from a customer to a location; each return counts once."""
        movement_id = f"return:{return_id}:{location_id}"
        if movement_id in self.movements:
            return False
        self._returned(
            return_id=return_id,
            order_id=order_id,
            quantity=quantity,
            **self._result(location_id, quantity, 0),
        )
        return True

    @event("Returned")
    def _returned(
        self,
        return_id: str,
        order_id: str,
        quantity: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved)
        self.movements[f"return:{return_id}:{location_id}"] = {"quantity": quantity}

    # -- backorders -----------------------------------------------------------------------------

    def wait(self, order_ids: list[str]) -> None:
        """These orders wait for this SKU (new ones join the back of the queue).

        Also recorded for orders already queued: a failed allocation attempt must write to
        the stock it found short, so a concurrent receipt of that stock conflicts with it
        instead of both missing the order (optimistic concurrency only sees writes).
        """
        self._backordered(order_ids=list(order_ids))

    @event("Backordered")
    def _backordered(self, order_ids: list[str]) -> None:
        for order_id in order_ids:
            if order_id not in self.queue:
                self.queue.append(order_id)

    def leave_queue(self, order_id: str) -> None:
        """An order no longer waits (cancelled, or no longer backordered)."""
        if order_id in self.queue:
            self._dequeued(order_id=order_id)

    @event("Dequeued")
    def _dequeued(self, order_id: str) -> None:
        self.queue.remove(order_id)

    # -- helpers -------------------------------------------------------------------------------

    def _seen(self, movement_id: str, what: dict[str, Any]) -> bool:
        done = self.movements.get(movement_id)
        if done is None:
            return False
        if done != what:
            raise IdempotencyKeyReusedError(
                f"Idempotency-Key already used for {self.sku} with {done}, not {what}"
            )
        return True

    def _result(self, location_id: str, on_hand_delta: int, reserved_delta: int) -> dict[str, Any]:
        on_hand = self.on_hand(location_id) + on_hand_delta
        reserved = self.reserved(location_id) + reserved_delta
        return {
            "sku": self.sku,
            "location_id": location_id,
            "on_hand": on_hand,
            "reserved": reserved,
            "available": on_hand - reserved,
        }

    def _set_level(self, location_id: str, on_hand: int, reserved: int) -> None:
        self.levels[location_id] = {"on_hand": on_hand, "reserved": reserved}

    def _hold(self, order_id: str, location_id: str, delta: int) -> None:
        holds = self.holds.setdefault(order_id, {})
        holds[location_id] = holds.get(location_id, 0) + delta
        if holds[location_id] <= 0:
            del holds[location_id]
        if not holds:
            del self.holds[order_id]
