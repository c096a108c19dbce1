"""The Stock aggregate: one SKU's units per location, and which orders wait for them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.atp import ChannelLevel
from services.inventory_service.domain.base import (
    Allocation,
    InsufficientStockError,
    Movement,
    QuarantineError,
    stock_id_for,
)
from services.inventory_service.domain.bins import normalize_bin
from services.inventory_service.domain.levels import StockLevels, WaitingOrders
from services.inventory_service.domain.supply import (
    PURCHASE_ORDER,
    TRANSFER,
    Incoming,
    supply_key,
)


class Stock(StockLevels, Aggregate):
    """A SKU's stock: levels and bin per location, and a backorder queue.

    Its size does not grow with the orders that hold the SKU: what each order holds lives
    on that order's Reservation, and the use cases tell Stock how many units an order gives
    up where (every read deep-copies the aggregate out of the cache, so size is CPU).
    Apply methods change state in place, so applying an event costs the same at any size.

    Every level-changing event carries the sku, the location, the resulting on_hand,
    reserved, missing and available, and the bin, so the public StockLevelChanged maps
    from the event alone (a LevelEvent). Events stored before missing and bin existed lack
    them: their classes default them to 0 and None.
    """

    class Created(Aggregate.Created):
        sku: str

    class Received(Aggregate.Event):
        receipt_id: str
        reference: str | None
        quantity: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int = 0
        bin: str | None = None

    class Adjusted(Aggregate.Event):
        adjustment_id: str
        reason: str
        quantity_delta: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int = 0
        bin: str | None = None

    class BinAssigned(Aggregate.Event):
        sku: str
        location_id: str
        bin: str
        previous_bin: str | None

    class ShortPicked(Aggregate.Event):
        discrepancy_id: str
        order_id: str
        quantity: int
        released: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int
        bin: str | None

    class Reserved(Aggregate.Event):
        order_id: str
        quantity: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int = 0
        bin: str | None = None

    class Released(Aggregate.Event):
        order_id: str
        quantity: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int = 0
        bin: str | None = None

    class Shipped(Aggregate.Event):
        shipment_id: str
        order_id: str
        quantity: int
        consumed: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int = 0
        bin: str | None = None

    class Returned(Aggregate.Event):
        return_id: str
        order_id: str
        quantity: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int = 0
        bin: str | None = None

    class Quarantined(Aggregate.Event):
        """Units went into quarantine: damaged from a return (return_id) or by hand."""

        movement_id: str
        reason: str
        quantity: int
        return_id: str | None
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int
        bin: str | None
        quarantined: int

    class QuarantineReleased(Aggregate.Event):
        """Ops decided on quarantined units: back to sellable, or scrapped."""

        movement_id: str
        to: str  # "sellable" or "scrap"
        reason: str
        quantity: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int
        bin: str | None
        quarantined: int

    class Backordered(Aggregate.Event):
        order_ids: list[str]
        units: dict[str, int] | None = None  # what each asked for (absent on older events)

    class SafetyStockSet(Aggregate.Event):
        sku: str
        location_id: str
        quantity: int

    class Dequeued(Aggregate.Event):
        order_id: str

    class ChannelsTold(Aggregate.Event):
        sku: str
        channels: dict[str, ChannelLevel]

    @event(Created)
    def __init__(self, sku: str) -> None:
        self.sku = sku
        self.levels = {}  # location -> on_hand, reserved, missing
        self.movements = {}  # receipt/adjustment id -> what it did
        self.waiting = WaitingOrders()  # backordered order ids, first come first served
        self.bins = {}  # location -> bin
        self.quarantined_units = {}  # location -> quarantined units (not on hand)

    @staticmethod
    def create_id(sku: str, **_: object) -> UUID:
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

    @event(Received)
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

    @event(Adjusted)
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

    @event(BinAssigned)
    def _bin_assigned(self, sku: str, location_id: str, bin: str, previous_bin: str | None) -> None:
        self.bins[location_id] = bin

    # -- short picks ------------------------------------------------------------------------

    def report_short(
        self, discrepancy_id: str, order_id: str, location_id: str, quantity: int, held: int
    ) -> int:
        """A picker did not find units: the order's hold on them ends, they count as missing.

        held: what the order holds here (its Reservation knows). Missing units stay on hand
        until ops decide, but are not available: promised again, they would only make the
        next pick short. Returns the units the order's hold gave up. The discrepancy, one
        per short-picked SKU, is what makes a redelivered short pick change nothing.
        """
        released = min(quantity, held)
        self._check_unreserve(order_id, location_id, released)
        self._short_picked(
            discrepancy_id=discrepancy_id,
            order_id=order_id,
            quantity=quantity,
            released=released,
            **self._result(location_id, 0, -released, quantity),
        )
        return released

    @event(ShortPicked)
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

    @event(Reserved)
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
        self.waiting.pop(order_id, None)

    def release(self, order_id: str, held: Mapping[str, int]) -> list[Allocation]:
        """Give back what an order holds (units per location, from its Reservation)."""
        released: list[Allocation] = []
        for location_id, quantity in sorted(held.items()):
            if quantity <= 0:
                continue
            self._check_unreserve(order_id, location_id, quantity)
            self._released(
                order_id=order_id, quantity=quantity, **self._result(location_id, 0, -quantity)
            )
            released.append({"sku": self.sku, "location_id": location_id, "quantity": quantity})
        return released

    @event(Released)
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

    # -- shipments and returns -----------------------------------------------------------------

    def ship(
        self, shipment_id: str, order_id: str, location_id: str, quantity: int, held: int
    ) -> None:
        """Units left with a shipment: on hand drops, and so does what the order held there.

        held: what the order holds here (its Reservation knows, and counts each shipment once).
        """
        consumed = min(quantity, held)
        self._check_unreserve(order_id, location_id, consumed)
        self._shipped(
            shipment_id=shipment_id,
            order_id=order_id,
            quantity=quantity,
            consumed=consumed,
            **self._result(location_id, -quantity, -consumed),
        )

    @event(Shipped)
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

    def restock(self, return_id: str, order_id: str, location_id: str, quantity: int) -> None:
        """Sellable units came back from a customer (the order's Reservation counts each once)."""
        self._returned(
            return_id=return_id,
            order_id=order_id,
            quantity=quantity,
            **self._result(location_id, quantity, 0),
        )

    @event(Returned)
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

    # -- safety stock ---------------------------------------------------------------------------

    def set_safety_stock(self, location_id: str, quantity: int) -> bool:
        """Units at a location kept back from what channels are told (0 clears); same: no-op."""
        if self.safety_stock(location_id) == quantity:
            return False
        self._safety_stock_set(sku=self.sku, location_id=location_id, quantity=quantity)
        return True

    @event(SafetyStockSet)
    def _safety_stock_set(self, sku: str, location_id: str, quantity: int) -> None:
        # Stocks snapshotted before safety stock existed lack the attribute.
        safety = self.__dict__.setdefault("safety", {})
        if quantity:
            safety[location_id] = quantity
        else:
            safety.pop(location_id, None)

    # -- quarantine ----------------------------------------------------------------------------

    def quarantine_return(
        self, return_id: str, location_id: str, quantity: int, receipt: str = ""
    ) -> bool:
        """Damaged returned units land in quarantine, once per receipt of a return and location."""
        movement_id = f"return:{return_id}:{receipt}:{location_id}"
        if self._seen(movement_id, {"location_id": location_id, "quantity": quantity}):
            return False
        self._put_in_quarantine(movement_id, location_id, quantity, "damaged", return_id, 0)
        return True

    def quarantine(self, movement_id: str, location_id: str, quantity: int, reason: str) -> bool:
        """Take sellable units out of on hand into quarantine; never below reserved or missing."""
        if self._seen(movement_id, {"location_id": location_id, "quantity": -quantity}):
            return False
        if quantity > self.available(location_id):
            raise QuarantineError(
                f"{self.sku} at {location_id}: {self.available(location_id)} free to quarantine"
                f" (on hand {self.on_hand(location_id)}, reserved {self.reserved(location_id)},"
                f" missing {self.missing(location_id)}), {quantity} asked"
            )
        self._put_in_quarantine(movement_id, location_id, quantity, reason, None, -quantity)
        return True

    def _put_in_quarantine(
        self,
        movement_id: str,
        location_id: str,
        quantity: int,
        reason: str,
        return_id: str | None,
        on_hand_delta: int,
    ) -> None:
        self._quarantined(
            movement_id=movement_id,
            reason=reason,
            quantity=quantity,
            return_id=return_id,
            quarantined=self.quarantined(location_id) + quantity,
            **self._result(location_id, on_hand_delta, 0),
        )

    @event(Quarantined)
    def _quarantined(
        self,
        movement_id: str,
        reason: str,
        quantity: int,
        return_id: str | None,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
        missing: int,
        bin: str | None,
        quarantined: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
        self._quarantine()[location_id] = quarantined
        self.movements[movement_id] = {
            "location_id": location_id,
            "quantity": -quantity if return_id is None else quantity,
        }

    def release_quarantine(
        self, movement_id: str, location_id: str, quantity: int, to: str, reason: str
    ) -> bool:
        """Quarantined units go back on hand (to "sellable") or leave the books ("scrap")."""
        what: Movement = {"location_id": location_id, "quantity_delta": quantity}
        if to == "scrap":
            what["quantity_delta"] = -quantity
        if self._seen(movement_id, what):
            return False
        if quantity > self.quarantined(location_id):
            raise QuarantineError(
                f"{self.sku} at {location_id}: {self.quarantined(location_id)} quarantined,"
                f" {quantity} asked"
            )
        self._quarantine_released(
            movement_id=movement_id,
            to=to,
            reason=reason,
            quantity=quantity,
            quarantined=self.quarantined(location_id) - quantity,
            **self._result(location_id, quantity if to == "sellable" else 0, 0),
        )
        return True

    @event(QuarantineReleased)
    def _quarantine_released(
        self,
        movement_id: str,
        to: str,
        reason: str,
        quantity: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
        missing: int,
        bin: str | None,
        quarantined: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
        self._quarantine()[location_id] = quarantined
        delta = quantity if to == "sellable" else -quantity
        self.movements[movement_id] = {"location_id": location_id, "quantity_delta": delta}

    # -- backorders -----------------------------------------------------------------------------

    def wait(self, order_ids: list[str], units: dict[str, int] | None = None) -> None:
        """These orders wait for this SKU (new ones join the back of the queue); units: what
        each asked for of it.

        Also recorded for orders already queued: a failed allocation attempt must write to
        the stock it found short, so a concurrent receipt of that stock conflicts with it
        instead of both missing the order (optimistic concurrency only sees writes).
        """
        self._backordered(order_ids=list(order_ids), units=dict(units) if units else None)

    @event(Backordered)
    def _backordered(self, order_ids: list[str], units: dict[str, int] | None = None) -> None:
        for order_id in order_ids:
            if units and order_id in units:
                self.waiting[order_id] = units[order_id]  # a queued one keeps its place
            else:
                self.waiting.setdefault(order_id, None)

    def leave_queue(self, order_id: str) -> None:
        """An order no longer waits (cancelled, or no longer backordered)."""
        if order_id in self.waiting:
            self._dequeued(order_id=order_id)

    @event(Dequeued)
    def _dequeued(self, order_id: str) -> None:
        self.waiting.pop(order_id, None)

    # -- supply on the way: transfers and purchase orders --------------------------------------

    class TransferShipped(Aggregate.Event):
        """Units left the source (location_id) for another location: in transit until received."""

        transfer_id: str
        to_location: str
        expected_at: datetime | None
        quantity: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int
        bin: str | None
        in_transit: int  # units of the SKU in transit to to_location after it

    class TransferReceived(Aggregate.Event):
        """Units of a transfer arrived at its destination (location_id)."""

        transfer_id: str
        receipt_id: str
        from_location: str
        quantity: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int
        bin: str | None
        in_transit: int  # units of the SKU still in transit to location_id

    class TransferCancelled(Aggregate.Event):
        """A transfer was called off before it arrived: its units are back at the source."""

        transfer_id: str
        to_location: str
        reason: str
        quantity: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int
        bin: str | None
        in_transit: int  # units of the SKU in transit to to_location after it

    class SupplyExpected(Aggregate.Event):
        """Units of a purchase order are on order for a location, expected then (0: none)."""

        supply_id: str
        kind: str
        location_id: str
        quantity: int
        expected_at: datetime | None
        sku: str
        on_order: int  # units of the SKU on order for location_id after it

    class PurchaseReceived(Aggregate.Event):
        """Units of a purchase order arrived at its location."""

        po_id: str
        receipt_id: str
        quantity: int
        sku: str
        location_id: str
        on_hand: int
        reserved: int
        available: int
        missing: int
        bin: str | None
        on_order: int  # units of the SKU still on order for location_id

    def incoming(self) -> dict[str, Incoming]:
        """Supply of this SKU on the way, by transfer or purchase order."""
        # Stocks created (or snapshotted) before transfers existed lack the dict.
        incoming: dict[str, Incoming] = self.__dict__.setdefault("incoming_units", {})
        return incoming

    def in_transit(self, location_id: str) -> int:
        """Units transferred to a location, not yet received there."""
        return self._incoming_at(location_id, TRANSFER)

    def on_order(self, location_id: str) -> int:
        """Units on order from suppliers for a location, not yet received there."""
        return self._incoming_at(location_id, PURCHASE_ORDER)

    def supplies(self) -> list[tuple[datetime, int]]:
        """(expected at, units) of every supply on the way that says when it arrives."""
        return sorted(
            (supply["expected_at"], supply["quantity"])
            for supply in self.incoming().values()
            if supply["expected_at"] is not None
        )

    def _incoming_at(self, location_id: str, kind: str) -> int:
        return sum(
            supply["quantity"]
            for supply in self.incoming().values()
            if supply["location_id"] == location_id and supply["kind"] == kind
        )

    def _expect(self, key: str, supply: Incoming) -> None:
        if supply["quantity"] > 0:
            self.incoming()[key] = supply
        else:
            self.incoming().pop(key, None)

    def ship_transfer(
        self,
        transfer_id: str,
        from_location: str,
        to_location: str,
        quantity: int,
        expected_at: datetime | None,
    ) -> None:
        """Units leave a location for another; only what is available there (not reserved,
        not missing) can leave."""
        if quantity > self.available(from_location):
            raise InsufficientStockError(
                f"{self.sku} at {from_location}: {self.available(from_location)} available"
                f" (on hand {self.on_hand(from_location)}, reserved"
                f" {self.reserved(from_location)}, missing {self.missing(from_location)}),"
                f" {quantity} to transfer"
            )
        self._transfer_shipped(
            transfer_id=transfer_id,
            to_location=to_location,
            expected_at=expected_at,
            quantity=quantity,
            in_transit=self.in_transit(to_location) + quantity,
            **self._result(from_location, -quantity, 0),
        )

    @event(TransferShipped)
    def _transfer_shipped(
        self,
        transfer_id: str,
        to_location: str,
        expected_at: datetime | None,
        quantity: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
        missing: int,
        bin: str | None,
        in_transit: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
        supply: Incoming = {
            "kind": TRANSFER,
            "location_id": to_location,
            "quantity": quantity,
            "expected_at": expected_at,
        }
        self._expect(supply_key(TRANSFER, transfer_id), supply)

    def receive_transfer(
        self, transfer_id: str, receipt_id: str, from_location: str, to_location: str, quantity: int
    ) -> None:
        """Units of a transfer arrived (its Transfer counts each receipt once)."""
        self._transfer_received(
            transfer_id=transfer_id,
            receipt_id=receipt_id,
            from_location=from_location,
            quantity=quantity,
            in_transit=self.in_transit(to_location) - quantity,
            **self._result(to_location, quantity, 0),
        )

    @event(TransferReceived)
    def _transfer_received(
        self,
        transfer_id: str,
        receipt_id: str,
        from_location: str,
        quantity: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
        missing: int,
        bin: str | None,
        in_transit: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
        key = supply_key(TRANSFER, transfer_id)
        supply = self.incoming().get(key)
        if supply is not None:
            self._expect(key, {**supply, "quantity": supply["quantity"] - quantity})

    def cancel_transfer(
        self, transfer_id: str, from_location: str, to_location: str, quantity: int, reason: str
    ) -> None:
        """A transfer was called off before it arrived: its units are back at the source."""
        self._transfer_cancelled(
            transfer_id=transfer_id,
            to_location=to_location,
            reason=reason,
            quantity=quantity,
            in_transit=self.in_transit(to_location) - quantity,
            **self._result(from_location, quantity, 0),
        )

    @event(TransferCancelled)
    def _transfer_cancelled(
        self,
        transfer_id: str,
        to_location: str,
        reason: str,
        quantity: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
        missing: int,
        bin: str | None,
        in_transit: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
        self.incoming().pop(supply_key(TRANSFER, transfer_id), None)

    def expect_purchase(
        self, po_id: str, location_id: str, quantity: int, expected_at: datetime
    ) -> bool:
        """Units of a purchase order still on order, expected then; the same again: no-op."""
        key = supply_key(PURCHASE_ORDER, po_id)
        supply: Incoming = {
            "kind": PURCHASE_ORDER,
            "location_id": location_id,
            "quantity": quantity,
            "expected_at": expected_at,
        }
        before = self.incoming().get(key)
        if before == supply or (quantity <= 0 and before is None):
            return False
        on_order = self.on_order(location_id) - (before["quantity"] if before else 0) + quantity
        self._supply_expected(supply_id=key, sku=self.sku, on_order=on_order, **supply)
        return True

    @event(SupplyExpected)
    def _supply_expected(
        self,
        supply_id: str,
        kind: str,
        location_id: str,
        quantity: int,
        expected_at: datetime | None,
        sku: str,
        on_order: int,
    ) -> None:
        supply: Incoming = {
            "kind": kind,
            "location_id": location_id,
            "quantity": quantity,
            "expected_at": expected_at,
        }
        self._expect(supply_id, supply)

    def receive_purchase(
        self, po_id: str, receipt_id: str, location_id: str, quantity: int
    ) -> None:
        """Units of a purchase order arrived (its PurchaseOrder counts each receipt once)."""
        self._purchase_received(
            po_id=po_id,
            receipt_id=receipt_id,
            quantity=quantity,
            on_order=self.on_order(location_id) - quantity,
            **self._result(location_id, quantity, 0),
        )

    @event(PurchaseReceived)
    def _purchase_received(
        self,
        po_id: str,
        receipt_id: str,
        quantity: int,
        sku: str,
        location_id: str,
        on_hand: int,
        reserved: int,
        available: int,
        missing: int,
        bin: str | None,
        on_order: int,
    ) -> None:
        self._set_level(location_id, on_hand, reserved, missing)
        key = supply_key(PURCHASE_ORDER, po_id)
        supply = self.incoming().get(key)
        if supply is not None:
            self._expect(key, {**supply, "quantity": supply["quantity"] - quantity})

    # -- what channels are told ----------------------------------------------------------------

    def channels_told(self) -> dict[str, ChannelLevel]:
        """What every channel was last told it may sell of this SKU (empty: nothing yet)."""
        told: dict[str, ChannelLevel] = self.__dict__.get("told", {})
        return told

    def tell_channels(self, levels: dict[str, ChannelLevel]) -> bool:
        """Record what channels may sell now, only when it differs from what they were told."""
        if levels == self.channels_told():
            return False
        self._channels_told(sku=self.sku, channels=levels)
        return True

    @event(ChannelsTold)
    def _channels_told(self, sku: str, channels: dict[str, ChannelLevel]) -> None:
        # Stocks snapshotted before stock sync existed lack the attribute.
        self.__dict__["told"] = channels
