"""The pick list: one walk along the pick path collecting units for many shipments (slots)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from services.fulfillment_service.domain.bins import pick_path_key
from services.fulfillment_service.domain.errors import (
    PickConfirmationError,
    PickLineAlreadyConfirmedError,
    PickListClosedError,
)
from services.fulfillment_service.domain.ids import pick_list_id_for
from services.fulfillment_service.domain.statuses import PickListStatus as Status
from services.fulfillment_service.domain.values import (
    PickConfirmation,
    PickedLine,
    PickLine,
    Slot,
    SlotRequest,
    SlotShare,
)


def plan_pick_list(
    shipments: list[SlotRequest], bins: dict[str, str]
) -> tuple[list[Slot], list[PickLine]]:
    """Slots (one per shipment, in the given order) and lines per SKU and bin along the path.

    Each line says how many units go to which slot.
    """
    slots: list[Slot] = []
    lines: dict[str, PickLine] = {}
    for number, shipment in enumerate(shipments, start=1):
        slots.append(
            Slot(
                slot=number,
                shipment_id=str(shipment["shipment_id"]),
                order_id=str(shipment["order_id"]),
                order_number=shipment.get("order_number"),
            )
        )
        for item in shipment["lines"]:
            sku = item["sku"]
            line = lines.setdefault(sku, PickLine(sku=sku, bin=bins.get(sku), quantity=0, slots=[]))
            line["quantity"] += item["quantity"]
            line["slots"].append(
                SlotShare(
                    slot=number,
                    shipment_id=str(shipment["shipment_id"]),
                    quantity=item["quantity"],
                )
            )
    ordered = sorted(lines.values(), key=lambda line: pick_path_key(line["bin"], line["sku"]))
    return slots, ordered


def distribute(picked: int, slots: list[SlotShare]) -> list[int]:
    """Picked units handed to the slots first come, first served by slot number."""
    given, remaining = [], picked
    for slot in slots:
        share = min(slot["quantity"], remaining)
        given.append(share)
        remaining -= share
    return given


class PickList(Aggregate):
    """Lines in pick-path order for a batch of shipments at one location, confirmed per line."""

    class Created(Aggregate.Created):
        """Open shipments were batched into one walk along the pick path."""

        location_id: str
        carrier: str | None
        slots: list[Slot]
        lines: list[PickLine]
        request_key: str | None = None

    class LinesConfirmed(Aggregate.Event):
        """The picker confirmed units found for some lines."""

        lines: list[PickConfirmation]

    class Completed(Aggregate.Event):
        """Every line was confirmed: the walk is done."""

    class ShipmentDropped(Aggregate.Event):
        """A shipment on the list was cancelled; its units are not picked."""

        shipment_id: str

    class Cancelled(Aggregate.Event):
        """The walk will not happen."""

        reason: str

    @event(Created)
    def __init__(
        self,
        location_id: str,
        carrier: str | None,
        slots: list[Slot],
        lines: list[PickLine],
        request_key: str | None = None,
    ) -> None:
        self.location_id = location_id
        self.carrier = carrier
        self.slots = slots
        self.lines = lines
        self.status = Status.OPEN
        self.confirmed: dict[str, int] = {}
        self.dropped: list[str] = []
        self.completed_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.cancel_reason: str | None = None

    @staticmethod
    def create_id(location_id: str, request_key: str | None = None, **_: Any) -> UUID:
        """Derived from the Idempotency-Key when the client sent one, else new."""
        return pick_list_id_for(location_id, request_key) if request_key else uuid4()

    @property
    def created_at(self) -> datetime:
        """When the pick list was made."""
        return self.created_on

    def line(self, sku: str) -> PickLine | None:
        """The line of a SKU, or None."""
        return next((line for line in self.lines if line["sku"] == sku), None)

    def active_slots(self, line: PickLine) -> list[SlotShare]:
        """The line's slots whose shipment is still on the list, by slot number."""
        kept = [s for s in line["slots"] if s["shipment_id"] not in self.dropped]
        return sorted(kept, key=lambda s: s["slot"])

    def requested(self, line: PickLine) -> int:
        """Units still to pick for a line (dropped shipments no longer count)."""
        return sum(s["quantity"] for s in self.active_slots(line))

    @property
    def shipment_ids(self) -> list[str]:
        """Shipments still on the list, by slot."""
        return [s["shipment_id"] for s in self.slots if s["shipment_id"] not in self.dropped]

    @property
    def all_confirmed(self) -> bool:
        """Whether every line that still asks for units was confirmed."""
        return all(line["sku"] in self.confirmed or not self.requested(line) for line in self.lines)

    # -- confirming -----------------------------------------------------------------------

    def confirm(self, picks: list[PickConfirmation]) -> bool:
        """Record picked units per SKU; refuses the whole request if one pick is wrong."""
        if self.status != Status.OPEN:
            raise PickListClosedError(f"pick list {self.id} is {self.status}")
        new: list[PickConfirmation] = []
        seen = set()
        for pick in picks:
            sku, picked = pick["sku"], pick["picked"]
            if sku in seen:
                raise PickConfirmationError(f"{sku} is confirmed twice in one request")
            seen.add(sku)
            if self._check_pick(sku, picked):
                new.append(PickConfirmation(sku=sku, picked=picked))
        if not new:
            return False
        self._lines_confirmed(lines=new)
        return True

    def _check_pick(self, sku: str, picked: int) -> bool:
        """Whether the pick is new; raises if it is wrong or contradicts an earlier one."""
        line = self.line(sku)
        if line is None:
            raise PickConfirmationError(f"{sku} is not on pick list {self.id}")
        requested = self.requested(line)
        if picked > requested:
            raise PickConfirmationError(f"{sku}: picked {picked} but only {requested} requested")
        if sku in self.confirmed:
            if self.confirmed[sku] != picked:
                raise PickLineAlreadyConfirmedError(
                    f"{sku} was confirmed with {self.confirmed[sku]} picked"
                )
            return False
        return True

    @event(LinesConfirmed)
    def _lines_confirmed(self, lines: list[PickConfirmation]) -> None:
        for line in lines:
            self.confirmed[line["sku"]] = line["picked"]

    def picks_by_shipment(self) -> dict[str, list[PickedLine]]:
        """Per shipment, {sku, bin, expected, picked} per line it asked for."""
        result: dict[str, list[PickedLine]] = {sid: [] for sid in self.shipment_ids}
        for line in self.lines:
            slots = self.active_slots(line)
            shares = distribute(self.confirmed.get(line["sku"], 0), slots)
            for slot, share in zip(slots, shares, strict=True):
                result[slot["shipment_id"]].append(
                    PickedLine(
                        sku=line["sku"], bin=line["bin"], expected=slot["quantity"], picked=share
                    )
                )
        return result

    def complete(self) -> bool:
        """Every line is confirmed: the walk is done."""
        if self.status != Status.OPEN or not self.all_confirmed:
            return False
        self._completed()
        return True

    @event(Completed)
    def _completed(self, timestamp: datetime | None = None) -> None:
        self.status = Status.COMPLETED
        self.completed_at = timestamp

    # -- shipments leaving the list -----------------------------------------------------------

    def drop_shipment(self, shipment_id: UUID) -> bool:
        """A shipment on the open list was cancelled: its units are no longer to be picked."""
        if self.status != Status.OPEN or str(shipment_id) not in self.shipment_ids:
            return False
        self._shipment_dropped(shipment_id=str(shipment_id))
        return True

    @event(ShipmentDropped)
    def _shipment_dropped(self, shipment_id: str) -> None:
        self.dropped.append(shipment_id)

    def cancel(self, reason: str) -> bool:
        """The walk will not happen; its shipments go back to open."""
        if self.status != Status.OPEN:
            raise PickListClosedError(f"pick list {self.id} is {self.status}")
        self._cancelled(reason=reason)
        return True

    @event(Cancelled)
    def _cancelled(self, reason: str, timestamp: datetime | None = None) -> None:
        self.status = Status.CANCELLED
        self.cancel_reason = reason
        self.cancelled_at = timestamp
