"""The Transfer aggregate: units moving from one location to another, received in parts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.base import IdempotencyKeyReusedError, Line
from services.inventory_service.domain.location import merge_lines
from services.inventory_service.domain.supply import (
    OverReceiptError,
    SupplyConflictError,
    transfer_id_for,
)


class TransferStatus(StrEnum):
    """Where a transfer stands: on its way, partly or fully arrived, or called off."""

    IN_TRANSIT = "in_transit"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class Transfer(Aggregate):
    """Units that left one location for another: in transit until received at the destination.

    Shipping takes them off the source's on hand (the SKUs' Stock checks they are available
    there); each receipt, named by its id so a repeat changes nothing, puts units on the
    destination's on hand, never more than are still in transit. Cancelled before anything
    arrived, the units go back to the source.
    """

    class Shipped(Aggregate.Created):
        transfer_id: str
        from_location: str
        to_location: str
        lines: list[Line]
        expected_at: datetime | None

    class Received(Aggregate.Event):
        transfer_id: str
        receipt_id: str
        lines: list[Line]
        status: TransferStatus  # stored as its value; read back as a plain string
        received: dict[str, int]  # units per SKU received so far, this receipt included

    class Cancelled(Aggregate.Event):
        transfer_id: str
        reason: str
        lines: list[Line]  # what went back to the source

    @event(Shipped)
    def __init__(
        self,
        transfer_id: str,
        from_location: str,
        to_location: str,
        lines: list[Line],
        expected_at: datetime | None,
    ) -> None:
        self.transfer_id = transfer_id
        self.from_location = from_location
        self.to_location = to_location
        self.lines = [line.copy() for line in lines]
        self.expected_at = expected_at
        self.status = TransferStatus.IN_TRANSIT
        self.receipts: dict[str, list[Line]] = {}
        self.received: dict[str, int] = {}
        self.cancel_reason: str | None = None

    @staticmethod
    def create_id(transfer_id: str, **_: object) -> UUID:
        """One transfer per id, however often it is posted."""
        return transfer_id_for(transfer_id)

    @property
    def shipped(self) -> dict[str, int]:
        """Units per SKU that left the source."""
        return merge_lines(self.lines)

    @property
    def outstanding(self) -> dict[str, int]:
        """Units per SKU still in transit (none once cancelled)."""
        if self.status == TransferStatus.CANCELLED:
            return {}
        return {
            sku: quantity - self.received.get(sku, 0)
            for sku, quantity in self.shipped.items()
            if quantity > self.received.get(sku, 0)
        }

    def same_as(
        self, from_location: str, to_location: str, lines: list[Line], expected_at: datetime | None
    ) -> bool:
        """Whether posting this transfer again asks for what it already is."""
        return (self.from_location, self.to_location, self.shipped, self.expected_at) == (
            from_location,
            to_location,
            merge_lines(lines),
            expected_at,
        )

    def receive(self, receipt_id: str, lines: list[Line]) -> dict[str, int]:
        """Units arrived at the destination: the units per SKU, none for a receipt seen before.

        More than is still in transit, or a SKU that was never on it, is refused.
        """
        units = merge_lines(lines)
        seen = self.receipts.get(receipt_id)
        if seen is not None:
            if merge_lines(seen) != units:
                raise IdempotencyKeyReusedError(
                    f"receipt {receipt_id} of transfer {self.transfer_id} was {seen}"
                )
            return {}
        if self.status == TransferStatus.CANCELLED:
            raise SupplyConflictError(f"transfer {self.transfer_id} was cancelled")
        outstanding = self.outstanding
        for sku, quantity in sorted(units.items()):
            if quantity > outstanding.get(sku, 0):
                raise OverReceiptError(
                    f"transfer {self.transfer_id}: {outstanding.get(sku, 0)} of {sku} still in"
                    f" transit, {quantity} received"
                )
        left = sum(outstanding.values()) - sum(units.values())
        status = TransferStatus.RECEIVED if left == 0 else TransferStatus.PARTIALLY_RECEIVED
        self._received(
            transfer_id=self.transfer_id,
            receipt_id=receipt_id,
            lines=[{"sku": sku, "quantity": q} for sku, q in sorted(units.items())],
            status=status,
            received={sku: self.received.get(sku, 0) + units.get(sku, 0) for sku in self.shipped},
        )
        return units

    @event(Received)
    def _received(
        self,
        transfer_id: str,
        receipt_id: str,
        lines: list[Line],
        status: TransferStatus,
        received: dict[str, int],
    ) -> None:
        self.receipts[receipt_id] = [line.copy() for line in lines]
        self.received = dict(received)
        self.status = TransferStatus(status)

    def cancel(self, reason: str) -> dict[str, int]:
        """Called off before anything arrived: the units per SKU that go back to the source
        (none when it was cancelled before); refused once a unit was received."""
        if self.status == TransferStatus.CANCELLED:
            return {}
        if self.received:
            raise SupplyConflictError(
                f"transfer {self.transfer_id} was received in part: it can no longer be cancelled"
            )
        back = self.shipped
        self._cancelled(
            transfer_id=self.transfer_id,
            reason=reason,
            lines=[{"sku": sku, "quantity": q} for sku, q in sorted(back.items())],
        )
        return back

    @event(Cancelled)
    def _cancelled(self, transfer_id: str, reason: str, lines: list[Line]) -> None:
        self.status = TransferStatus.CANCELLED
        self.cancel_reason = reason
