"""The Discrepancy aggregate: units a picker did not find, a stock adjustment proposed to ops."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.base import DiscrepancyClosedError, discrepancy_id_for


class DiscrepancyStatus(StrEnum):
    """Proposed until ops decide: confirmed (the units are gone) or rejected (found)."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


CONFIRMED_REASON = "short pick"
REJECTED_REASON = "short pick rejected: units found"


class Discrepancy(Aggregate):
    """A short pick's missing units at a bin, proposed as an adjustment until ops decide.

    Confirmed: the units are gone, on hand drops by them. Rejected: they were found, on hand
    stays. Either way the decision is taken once; asking again answers the same decision.
    """

    class Proposed(Aggregate.Created):
        sku: str
        location_id: str
        bin: str | None
        quantity: int
        order_id: UUID
        shipment_id: UUID
        pick_list_id: UUID
        expected: int
        picked: int

    class Resolved(Aggregate.Event):
        status: DiscrepancyStatus  # stored as its value; read back as a plain string
        note: str | None
        sku: str
        location_id: str
        quantity: int

    @event(Proposed)
    def __init__(
        self,
        sku: str,
        location_id: str,
        bin: str | None,
        quantity: int,
        order_id: UUID,
        shipment_id: UUID,
        pick_list_id: UUID,
        expected: int,
        picked: int,
    ) -> None:
        self.sku = sku
        self.location_id = location_id
        self.bin = bin
        self.quantity = quantity
        self.order_id = order_id
        self.shipment_id = shipment_id
        self.pick_list_id = pick_list_id
        self.expected = expected
        self.picked = picked
        self.status = DiscrepancyStatus.PROPOSED
        self.note: str | None = None

    @staticmethod
    def create_id(pick_list_id: UUID, shipment_id: UUID, sku: str, **_: object) -> UUID:
        """One discrepancy per SKU of a short pick, however often the short pick arrives."""
        return discrepancy_id_for(pick_list_id, shipment_id, sku)

    @property
    def adjustment_reason(self) -> str:
        """The reason of the stock adjustment that resolves this discrepancy."""
        return CONFIRMED_REASON if self.status == DiscrepancyStatus.CONFIRMED else REJECTED_REASON

    def confirm(self, note: str | None) -> bool:
        """The units are gone; True the first time, False when already confirmed."""
        return self._resolve(DiscrepancyStatus.CONFIRMED, note)

    def reject(self, note: str | None) -> bool:
        """The units were found; True the first time, False when already rejected."""
        return self._resolve(DiscrepancyStatus.REJECTED, note)

    def _resolve(self, status: DiscrepancyStatus, note: str | None) -> bool:
        if self.status == status:
            return False
        if self.status != DiscrepancyStatus.PROPOSED:
            raise DiscrepancyClosedError(
                f"discrepancy {self.id} is already {self.status}; it cannot become {status}"
            )
        self._resolved(
            status=status,
            note=note,
            sku=self.sku,
            location_id=self.location_id,
            quantity=self.quantity,
        )
        return True

    @event(Resolved)
    def _resolved(
        self, status: DiscrepancyStatus, note: str | None, sku: str, location_id: str, quantity: int
    ) -> None:
        self.status = DiscrepancyStatus(status)
        self.note = note
