"""The PurchaseOrder aggregate: units ordered from a supplier for a location, received in parts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.base import IdempotencyKeyReusedError, Line
from services.inventory_service.domain.location import merge_lines
from services.inventory_service.domain.supply import OverReceiptError, purchase_order_id_for


class PurchaseOrderStatus(StrEnum):
    """Open until every unit ordered arrived."""

    OPEN = "open"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"


class PurchaseOrder(Aggregate):
    """Units on order from a supplier for a location, expected at a time that may change.

    Each receipt, named by its id so a repeat changes nothing, puts units on the location's
    on hand, never more than are still on order.
    """

    class Placed(Aggregate.Created):
        po_id: str
        location_id: str
        supplier: str
        lines: list[Line]
        expected_at: datetime

    class Rescheduled(Aggregate.Event):
        po_id: str
        expected_at: datetime

    class Received(Aggregate.Event):
        po_id: str
        receipt_id: str
        lines: list[Line]
        status: PurchaseOrderStatus  # stored as its value; read back as a plain string
        received: dict[str, int]  # units per SKU received so far, this receipt included

    @event(Placed)
    def __init__(
        self,
        po_id: str,
        location_id: str,
        supplier: str,
        lines: list[Line],
        expected_at: datetime,
    ) -> None:
        self.po_id = po_id
        self.location_id = location_id
        self.supplier = supplier
        self.lines = [line.copy() for line in lines]
        self.expected_at = expected_at
        self.status = PurchaseOrderStatus.OPEN
        self.receipts: dict[str, list[Line]] = {}
        self.received: dict[str, int] = {}

    @staticmethod
    def create_id(po_id: str, **_: object) -> UUID:
        """One purchase order per id, however often it is posted."""
        return purchase_order_id_for(po_id)

    @property
    def ordered(self) -> dict[str, int]:
        """Units per SKU ordered."""
        return merge_lines(self.lines)

    @property
    def outstanding(self) -> dict[str, int]:
        """Units per SKU still on order."""
        return {
            sku: quantity - self.received.get(sku, 0)
            for sku, quantity in self.ordered.items()
            if quantity > self.received.get(sku, 0)
        }

    def same_as(self, location_id: str, supplier: str, lines: list[Line]) -> bool:
        """Whether posting this purchase order again asks for what it already is (the expected
        time may differ: it is changed on its own)."""
        return (self.location_id, self.supplier, self.ordered) == (
            location_id,
            supplier,
            merge_lines(lines),
        )

    def reschedule(self, expected_at: datetime) -> bool:
        """The supplier names another time; the same time again changes nothing."""
        if expected_at == self.expected_at:
            return False
        self._rescheduled(po_id=self.po_id, expected_at=expected_at)
        return True

    @event(Rescheduled)
    def _rescheduled(self, po_id: str, expected_at: datetime) -> None:
        self.expected_at = expected_at

    def receive(self, receipt_id: str, lines: list[Line]) -> dict[str, int]:
        """Units arrived: the units per SKU, none for a receipt seen before; more than is still
        on order, or a SKU not ordered, is refused."""
        units = merge_lines(lines)
        seen = self.receipts.get(receipt_id)
        if seen is not None:
            if merge_lines(seen) != units:
                raise IdempotencyKeyReusedError(
                    f"receipt {receipt_id} of purchase order {self.po_id} was {seen}"
                )
            return {}
        outstanding = self.outstanding
        for sku, quantity in sorted(units.items()):
            if quantity > outstanding.get(sku, 0):
                raise OverReceiptError(
                    f"purchase order {self.po_id}: {outstanding.get(sku, 0)} of {sku} still on"
                    f" order, {quantity} received"
                )
        left = sum(outstanding.values()) - sum(units.values())
        status = PurchaseOrderStatus.PARTIALLY_RECEIVED if left else PurchaseOrderStatus.RECEIVED
        self._received(
            po_id=self.po_id,
            receipt_id=receipt_id,
            lines=[{"sku": sku, "quantity": q} for sku, q in sorted(units.items())],
            status=status,
            received={sku: self.received.get(sku, 0) + units.get(sku, 0) for sku in self.ordered},
        )
        return units

    @event(Received)
    def _received(
        self,
        po_id: str,
        receipt_id: str,
        lines: list[Line],
        status: PurchaseOrderStatus,
        received: dict[str, int],
    ) -> None:
        self.receipts[receipt_id] = [line.copy() for line in lines]
        self.received = dict(received)
        self.status = PurchaseOrderStatus(status)
