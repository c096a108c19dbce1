"""The Stock aggregate: one SKU's units per location, who holds them, and who waits for them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.base import InsufficientStockError, stock_id_for
from services.inventory_service.domain.bins import normalize_bin
from services.inventory_service.domain.levels import StockLevels


class Stock(StockLevels, Aggregate):
    """A SKU's stock: levels and bin per location, holds per order, a backorder queue.

    Every level-changing event carries the sku, the location, the resulting on_hand,
    reserved, missing and available, and the bin, so the public StockLevelChanged maps
    from the event alone. (Events stored before missing and bin existed lack them: 0, None.)
    """

    @event("Created")
    def __init__(self, sku: str) -> None:
        self.sku = sku
        self.levels: dict[str, dict[str, int]] = {}  # location -> on_hand, reserved, missing
        self.holds: dict[str, dict[str, int]] = {}  # order id -> location -> units held
        self.movements: dict[str, dict[str, Any]] = {}  # processed movement id -> what it did
        self.queue: list[str] = []  # order ids waiting for this SKU, first come first served
        self.bins: dict[str, str] = {}  # location -> bin

    @staticmethod
    def create_id(sku: str, **_: Any) -> UUID:
        """One Stock per SKU."""
        return stock_id_for(sku)

    # -- receipts and adjustments ------------------------------------------------------------

    def receive(
        self,
        receipt_id: str,
        location_id: str,
        quantity: int,
        reference: str | None,
        bin_code: str | None = None,
    ) -> bool:
        """Units arrived (put away into bin_code if given); a receipt seen before: no change."""
        if self._seen(receipt_id, {"location_id": location_id, "quantity": quantity}):
            return False
        if bin_code is not None:
            self.assign_bin(location_id, bin_code)
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
        missing: int = 0,
        bin: str | None = None,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
        self.movements[receipt_id] = {"location_id": location_id, "quantity": quantity}

    def adjust(
        self,
        adjustment_id: str,
        location_id: str,
        quantity_delta: int,
        reason: str,
        missing_resolved: int = 0,
    ) -> bool:
        """Correct on hand after a count, damage or loss; never below zero, reserved or missing.

        missing_resolved: units reported missing that this adjustment writes off.
        """
        if self._seen(
            adjustment_id, {"location_id": location_id, "quantity_delta": quantity_delta}
        ):
            return False
        resolved = min(missing_resolved, self.missing(location_id))
        on_hand = self.on_hand(location_id) + quantity_delta
        kept = self.reserved(location_id) + self.missing(location_id) - resolved
        if on_hand < 0 or on_hand < kept:
            raise InsufficientStockError(
                f"{self.sku} at {location_id}: on hand {self.on_hand(location_id)}, reserved"
                f" {self.reserved(location_id)}, missing {self.missing(location_id)}; an"
                f" adjustment of {quantity_delta} would leave {on_hand} on hand"
            )
        self._adjusted(
            adjustment_id=adjustment_id,
            reason=reason,
            quantity_delta=quantity_delta,
            **self._result(location_id, quantity_delta, 0, -resolved),
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
        missing: int = 0,
        bin: str | None = None,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
        self.movements[adjustment_id] = {
            "location_id": location_id,
            "quantity_delta": quantity_delta,
        }

    # -- bins ---------------------------------------------------------------------------------

    def assign_bin(self, location_id: str, bin_code: str) -> bool:
        """Put the SKU away into a bin at a location (a move if it had another); same bin: no-op."""
        bin_code = normalize_bin(bin_code)
        previous = self.bin_at(location_id)
        if previous == bin_code:
            return False
        self._bin_assigned(
            sku=self.sku, location_id=location_id, bin=bin_code, previous_bin=previous
        )
        return True

    @event("BinAssigned")
    def _bin_assigned(self, sku: str, location_id: str, bin: str, previous_bin: str | None) -> None:
        self.bins = {**self.bins, location_id: bin}

    # -- short picks ------------------------------------------------------------------------

    def report_short(
        self, discrepancy_id: str, order_id: str, location_id: str, quantity: int
    ) -> int:
        """A picker did not find units: the order's hold on them ends, they count as missing.

        Missing units stay on hand until ops decide, but are not available: promised again,
        they would only make the next pick short. Returns the units the order's hold gave up.
        """
        if f"short:{discrepancy_id}" in self.movements:
            return 0
        released = min(quantity, self.held_by(order_id).get(location_id, 0))
        self._short_picked(
            discrepancy_id=discrepancy_id,
            order_id=order_id,
            quantity=quantity,
            released=released,
            **self._result(location_id, 0, -released, quantity),
        )
        return released

    @event("ShortPicked")
    def _short_picked(
        self,
        discrepancy_id: str,
        order_id: str,
        quantity: int,
        released: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
        missing: int,
        bin: str | None,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
        self._hold(order_id, location_id, -released)
        self.movements[f"short:{discrepancy_id}"] = {"location_id": location_id}

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
        missing: int = 0,
        bin: str | None = None,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
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
        missing: int = 0,
        bin: str | None = None,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
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
        missing: int = 0,
        bin: str | None = None,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
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
        missing: int = 0,
        bin: str | None = None,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
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
