"""What a SKU's stock knows per location: levels, bins, the queue (queries and helpers of Stock)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypedDict

from services.inventory_service.domain.base import (
    IdempotencyKeyReusedError,
    InsufficientStockError,
    Level,
    Movement,
)


class WaitingOrders(dict[str, int | None]):
    """Order ids in arrival order (a set that keeps order): O(1) to join, look up and leave.

    Each maps to the units of the SKU the order asked for (None when queued before the queue
    kept them), so promise dates are worked out without reading every waiting order.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> WaitingOrders:
        # Keys are immutable strings: a shallow copy is a deep one, at C speed. Every read
        # of a Stock deep-copies it out of the cache, and a sold-out SKU may queue thousands.
        return WaitingOrders(self)


class LevelAfter(TypedDict):
    """The level a change leads to at one location, and the bin: every level event carries it."""

    sku: str
    location_id: str
    on_hand: int
    reserved: int
    available: int
    missing: int
    bin: str | None


class LevelEvent(Protocol):
    """A stored Stock event that changed a level (receipt, reservation, shipment, ...).

    Events stored before short picks and bins lack missing and bin; their classes default
    them to 0 and None.
    """

    @property
    def sku(self) -> str: ...
    @property
    def location_id(self) -> str: ...
    @property
    def on_hand(self) -> int: ...
    @property
    def reserved(self) -> int: ...
    @property
    def available(self) -> int: ...
    @property
    def missing(self) -> int: ...
    @property
    def bin(self) -> str | None: ...
    @property
    def timestamp(self) -> datetime: ...


class StockLevels:
    """Queries and bookkeeping of the Stock aggregate; every change goes through Stock's events.

    Per location: on hand (physically there, as far as the books know), reserved (promised
    to orders) and missing (reported missing by a picker, waiting for ops to confirm or
    reject). Missing units are neither promised nor promisable: available excludes them.
    Which order holds which units is the order's Reservation's business, not the SKU's.
    """

    sku: str
    levels: dict[str, Level]  # location -> on_hand, reserved, missing
    movements: dict[str, Movement]  # processed receipt/adjustment id -> what it did
    bins: dict[str, str]  # location -> bin
    quarantined_units: dict[str, int]  # location -> quarantined units (read through quarantined())
    waiting: WaitingOrders  # order ids waiting for this SKU, first come first served

    def on_hand(self, location_id: str) -> int:
        """Units physically at a location."""
        level = self.levels.get(location_id)
        return level["on_hand"] if level else 0

    def reserved(self, location_id: str) -> int:
        """Units at a location promised to orders."""
        level = self.levels.get(location_id)
        return level["reserved"] if level else 0

    def missing(self, location_id: str) -> int:
        """Units a picker did not find at a location, until ops confirm or reject the count."""
        level = self.levels.get(location_id)
        return level["missing"] if level else 0

    def available(self, location_id: str) -> int:
        """Units at a location that can still be promised."""
        return self.on_hand(location_id) - self.reserved(location_id) - self.missing(location_id)

    def available_anywhere(self) -> int:
        """Units that can still be promised, over all locations."""
        return sum(max(0, self.available(loc)) for loc in self.levels)

    def safety_stock(self, location_id: str) -> int:
        """Units at a location kept back from channels (set per SKU and location)."""
        safety: dict[str, int] = self.__dict__.get("safety", {})
        return safety.get(location_id, 0)

    def quarantined(self, location_id: str) -> int:
        """Damaged or held-back units at a location: not on hand, never promised."""
        return self._quarantine().get(location_id, 0)

    def _quarantine(self) -> dict[str, int]:
        # Stocks created (or snapshotted) before quarantine existed lack the dict.
        quarantine: dict[str, int] = self.__dict__.setdefault("quarantined_units", {})
        return quarantine

    def bin_at(self, location_id: str) -> str | None:
        """The SKU's bin at a location, if it has one."""
        return self.bins.get(location_id)

    @property
    def queue(self) -> list[str]:
        """Order ids waiting for this SKU, first come first served."""
        return list(self.waiting)

    def is_waiting(self, order_id: str) -> bool:
        """Whether an order waits in this SKU's backorder queue."""
        return order_id in self.waiting

    # -- helpers of the events ------------------------------------------------------------------

    def _seen(self, movement_id: str, what: Movement) -> bool:
        done = self.movements.get(movement_id)
        if done is None:
            return False
        if done != what:
            raise IdempotencyKeyReusedError(
                f"Idempotency-Key already used for {self.sku} with {done}, not {what}"
            )
        return True

    def _check_unreserve(self, order_id: str, location_id: str, quantity: int) -> None:
        """An order gives up units it holds: never more than the location has reserved."""
        if quantity < 0 or quantity > self.reserved(location_id):
            raise InsufficientStockError(
                f"{self.sku} at {location_id}: {self.reserved(location_id)} reserved; order"
                f" {order_id} cannot give up {quantity}"
            )

    def _result(
        self, location_id: str, on_hand_delta: int, reserved_delta: int, missing_delta: int = 0
    ) -> LevelAfter:
        """The level a change leads to; every level event carries it (and the bin)."""
        on_hand = self.on_hand(location_id) + on_hand_delta
        reserved = self.reserved(location_id) + reserved_delta
        missing = self.missing(location_id) + missing_delta
        return {
            "sku": self.sku,
            "location_id": location_id,
            "on_hand": on_hand,
            "reserved": reserved,
            "available": on_hand - reserved - missing,
            "missing": missing,
            "bin": self.bin_at(location_id),
        }

    def _set_level(self, location_id: str, on_hand: int, reserved: int, missing: int) -> None:
        self.levels[location_id] = {"on_hand": on_hand, "reserved": reserved, "missing": missing}
