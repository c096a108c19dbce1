"""What a SKU's stock knows per location: levels, holds, bins (queries and helpers of Stock)."""

from __future__ import annotations

from typing import Any

from services.inventory_service.domain.base import IdempotencyKeyReusedError


class StockLevels:
    """Queries and bookkeeping of the Stock aggregate; every change goes through Stock's events.

    Per location: on hand (physically there, as far as the books know), reserved (promised
    to orders) and missing (reported missing by a picker, waiting for ops to confirm or
    reject). Missing units are neither promised nor promisable: available excludes them.
    """

    sku: str
    levels: dict[str, dict[str, int]]  # location -> on_hand, reserved, missing
    holds: dict[str, dict[str, int]]  # order id -> location -> units held
    movements: dict[str, dict[str, Any]]  # processed movement id -> what it did
    bins: dict[str, str]  # location -> bin

    def on_hand(self, location_id: str) -> int:
        """Units physically at a location."""
        return self.levels.get(location_id, {}).get("on_hand", 0)

    def reserved(self, location_id: str) -> int:
        """Units at a location promised to orders."""
        return self.levels.get(location_id, {}).get("reserved", 0)

    def missing(self, location_id: str) -> int:
        """Units a picker did not find at a location, until ops confirm or reject the count."""
        return self.levels.get(location_id, {}).get("missing", 0)

    def available(self, location_id: str) -> int:
        """Units at a location that can still be promised."""
        return self.on_hand(location_id) - self.reserved(location_id) - self.missing(location_id)

    def available_anywhere(self) -> int:
        """Units that can still be promised, over all locations."""
        return sum(max(0, self.available(loc)) for loc in self.levels)

    def held_by(self, order_id: str) -> dict[str, int]:
        """Units an order holds, per location."""
        return dict(self.holds.get(order_id, {}))

    def bin_at(self, location_id: str) -> str | None:
        """The SKU's bin at a location, if it has one."""
        return self.bins.get(location_id)

    # -- helpers of the events ------------------------------------------------------------------

    def _seen(self, movement_id: str, what: dict[str, Any]) -> bool:
        done = self.movements.get(movement_id)
        if done is None:
            return False
        if done != what:
            raise IdempotencyKeyReusedError(
                f"Idempotency-Key already used for {self.sku} with {done}, not {what}"
            )
        return True

    def _result(
        self, location_id: str, on_hand_delta: int, reserved_delta: int, missing_delta: int = 0
    ) -> dict[str, Any]:
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

    def _hold(self, order_id: str, location_id: str, delta: int) -> None:
        holds = self.holds.setdefault(order_id, {})
        holds[location_id] = holds.get(location_id, 0) + delta
        if holds[location_id] <= 0:
            del holds[location_id]
        if not holds:
            del self.holds[order_id]
