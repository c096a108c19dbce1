"""The Reservation aggregate: what one order asked for and what it holds where."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.base import (
    Allocation,
    Line,
    Shortage,
    reservation_id_for,
)
from services.inventory_service.domain.location import merge_lines
from services.inventory_service.domain.routing import Explanation


class ReservationStatus(StrEnum):
    """Where an order's reservation stands."""

    REQUESTED = "requested"
    RESERVED = "reserved"
    BACKORDERED = "backordered"
    RELEASED = "released"
    PARTIALLY_CONSUMED = "partially_consumed"
    CONSUMED = "consumed"
    CANCELLED = "cancelled"


REST_REQUEST_PREFIX = "rest-r"
"""Request ids of the rest of an order held in part (backorder the rest), per revision."""


def is_rest_request(request_id: str) -> bool:
    """Whether a request id names the rest of an order held in part."""
    return request_id.startswith(REST_REQUEST_PREFIX)


HOLDING = frozenset({ReservationStatus.RESERVED, ReservationStatus.PARTIALLY_CONSUMED})
ENDED = frozenset({ReservationStatus.RELEASED, ReservationStatus.CANCELLED})


class Reservation(Aggregate):
    """What one order asked for, the stock it still holds where, and what it shipped and returned.

    The per-order half of the stock books: a SKU's Stock keeps only totals per location, so
    releasing, shipping or short-picking asks the Reservation what the order holds, and the
    Reservation remembers the shipments and returns it counted (redeliveries change nothing).
    """

    class Requested(Aggregate.Created):
        order_id: UUID
        lines: list[Line]
        country: str | None
        # Absent on events before routing rules: routed as any channel, by country alone.
        channel: str | None = None
        postal_code: str | None = None

    class Reserved(Aggregate.Event):
        order_id: UUID
        allocations: list[Allocation]
        revision: int = 0  # the order's edit this answers (absent on events before edits)
        explanation: Explanation | None = None  # why routing chose these locations
        # Lines held only in part (the channel ships what is there): not held, not waited for.
        short: list[Shortage] | None = None
        # Lines held only in part (the channel backorders the rest): the rest waits for stock,
        # held later under rest_request_id (a Sourced event).
        rest: list[Shortage] | None = None
        rest_request_id: str | None = None

    class Backordered(Aggregate.Event):
        order_id: UUID
        shortages: list[Shortage]
        revision: int = 0

    class LinesChanged(Aggregate.Event):
        """The order's lines were edited: what it held is given back, it asks again."""

        order_id: UUID
        lines: list[Line]
        revision: int
        released: list[Allocation]

    class Released(Aggregate.Event):
        order_id: UUID
        allocations: list[Allocation]
        reason: str

    class Cancelled(Aggregate.Event):
        order_id: UUID
        reason: str

    class Sourced(Aggregate.Event):
        """Units a picker did not find are held again, elsewhere (a follow-up shipment)."""

        order_id: UUID
        request_id: str
        allocations: list[Allocation]
        status: ReservationStatus  # stored as its value; read back as a plain string
        explanation: Explanation | None = None  # why routing chose these locations

    class SourcingFailed(Aggregate.Event):
        """Units asked for again are available nowhere: nothing more is held."""

        order_id: UUID
        request_id: str
        shortages: list[Shortage]

    class Consumed(Aggregate.Event):
        order_id: UUID
        shipment_id: str
        location_id: str
        lines: list[Line]
        held: list[Allocation]
        status: ReservationStatus  # stored as its value; read back as a plain string

    class ShortReleased(Aggregate.Event):
        order_id: UUID
        location_id: str
        allocations: list[Allocation]
        held: list[Allocation]
        status: ReservationStatus  # stored as its value; read back as a plain string

    class Restocked(Aggregate.Event):
        order_id: UUID
        return_id: str
        lines: list[Allocation]
        receipt: str

    class Promised(Aggregate.Event):
        """The backordered order's missing units are expected then (None: nothing expected
        covers them any more)."""

        order_id: UUID
        promise_date: datetime | None
        revision: int

    @event(Requested)
    def __init__(
        self,
        order_id: UUID,
        lines: list[Line],
        country: str | None,
        channel: str | None = None,
        postal_code: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.lines = [line.copy() for line in lines]
        self.country = country
        self.channel = channel
        self.postal_code = postal_code
        self.explanation: Explanation | None = None
        self.status = ReservationStatus.REQUESTED
        self.allocations: list[Allocation] = []
        self.held: list[Allocation] = []
        self.shortages: list[Shortage] = []
        self.shipment_ids: list[str] = []
        self.restocked: dict[str, int] = {}  # return id:receipt:sku:location -> units taken back
        self.revision = 0  # the order's edits taken in
        self.requests: list[str] = []  # units asked for again, answered
        self.cancelled = False  # the order was cancelled: nothing is held for it again
        self.rest: dict[str, int] = {}  # units still to hold as stock arrives (backorder rest)
        self.rest_request: str | None = None
        self.promise_date: datetime | None = None  # when a backorder's units are expected

    @staticmethod
    def create_id(order_id: UUID, **_: object) -> UUID:
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

    def reserve(
        self,
        allocations: list[Allocation],
        explanation: Explanation | None = None,
        short: list[Shortage] | None = None,
        rest: list[Shortage] | None = None,
    ) -> None:
        """The lines are held at these locations, for the reasons explained; `short` lines only
        in part (the channel ships what is there), the rest given up; `rest` lines in part (the
        channel backorders the rest), the rest held later as stock arrives."""
        if self.status in (ReservationStatus.REQUESTED, ReservationStatus.BACKORDERED):
            self._reserved(
                order_id=self.order_id,
                allocations=allocations,
                revision=self.revision,
                explanation=explanation,
                short=short or None,
                rest=rest or None,
                rest_request_id=f"{REST_REQUEST_PREFIX}{self.revision}" if rest else None,
            )

    @event(Reserved)
    def _reserved(
        self,
        order_id: UUID,
        allocations: list[Allocation],
        revision: int = 0,
        explanation: Explanation | None = None,
        short: list[Shortage] | None = None,
        rest: list[Shortage] | None = None,
        rest_request_id: str | None = None,
    ) -> None:
        self.explanation = explanation
        self.rest = {r["sku"]: r["requested"] - r["available"] for r in rest or []}
        self.rest_request = rest_request_id
        self.allocations = [a.copy() for a in allocations]
        self.held = [a.copy() for a in allocations]
        self.shortages = [s.copy() for s in short or []]
        self.status = ReservationStatus.RESERVED
        self.promise_date = None

    def backorder(self, shortages: list[Shortage]) -> None:
        """Some line cannot be filled: nothing is held, the order waits for stock."""
        if self.status == ReservationStatus.REQUESTED:
            self._backordered(order_id=self.order_id, shortages=shortages, revision=self.revision)

    @event(Backordered)
    def _backordered(self, order_id: UUID, shortages: list[Shortage], revision: int = 0) -> None:
        self.shortages = [s.copy() for s in shortages]
        self.status = ReservationStatus.BACKORDERED

    def change_lines(self, lines: list[Line], revision: int) -> bool:
        """The order's lines were edited before anything shipped: it gives back what it holds
        and asks for the new lines (each edit once; ignored once ended or shipping)."""
        if revision <= self.revision or self.status in ENDED or self.shipment_ids:
            return False
        self._lines_changed(
            order_id=self.order_id, lines=lines, revision=revision, released=self.held
        )
        return True

    @event(LinesChanged)
    def _lines_changed(
        self, order_id: UUID, lines: list[Line], revision: int, released: list[Allocation]
    ) -> None:
        self.lines = [line.copy() for line in lines]
        self.revision = revision
        self.rest, self.rest_request = {}, None
        self.allocations = []
        self.held = []
        self.shortages = []
        self.status = ReservationStatus.REQUESTED
        self.promise_date = None

    def cancel(self, reason: str) -> None:
        """The order was cancelled: give back what is still held (cancelling twice does nothing)."""
        if self.status in ENDED:
            return
        if self.held:
            self._released(order_id=self.order_id, allocations=self.held, reason=reason)
        else:
            self._cancelled(order_id=self.order_id, reason=reason)

    @event(Released)
    def _released(self, order_id: UUID, allocations: list[Allocation], reason: str) -> None:
        self.held = []
        self.status = ReservationStatus.RELEASED
        self.cancelled = True
        self.rest, self.rest_request = {}, None

    @event(Cancelled)
    def _cancelled(self, order_id: UUID, reason: str) -> None:
        self.status = ReservationStatus.CANCELLED
        self.cancelled = True
        self.rest, self.rest_request = {}, None

    def answers(self, request_id: str) -> bool:
        """Whether a request for units again may still be answered (once; never once the
        order was cancelled)."""
        return request_id not in self.requests and not self.cancelled

    def source(
        self,
        request_id: str,
        allocations: list[Allocation],
        explanation: Explanation | None = None,
    ) -> None:
        """Units asked for again are held at these locations, on top of what the order holds."""
        status = ReservationStatus(self.status)
        if status in (ReservationStatus.CONSUMED, ReservationStatus.RELEASED):
            status = (
                ReservationStatus.PARTIALLY_CONSUMED
                if self.shipment_ids
                else ReservationStatus.RESERVED
            )
        self._sourced(
            order_id=self.order_id,
            request_id=request_id,
            allocations=allocations,
            status=status,
            explanation=explanation,
        )

    @event(Sourced)
    def _sourced(
        self,
        order_id: UUID,
        request_id: str,
        allocations: list[Allocation],
        status: ReservationStatus,
        explanation: Explanation | None = None,
    ) -> None:
        self.allocations = [*self.allocations, *(a.copy() for a in allocations)]
        self.held = [*self.held, *(a.copy() for a in allocations)]
        self.requests = [*self.requests, request_id]
        self.status = ReservationStatus(status)
        if request_id == self.rest_request:
            self.rest, self.rest_request = {}, None

    def fail_sourcing(self, request_id: str, shortages: list[Shortage]) -> None:
        """Units asked for again are available nowhere."""
        self._sourcing_failed(order_id=self.order_id, request_id=request_id, shortages=shortages)

    @event(SourcingFailed)
    def _sourcing_failed(self, order_id: UUID, request_id: str, shortages: list[Shortage]) -> None:
        self.requests = [*self.requests, request_id]

    def consume(self, shipment_id: str, location_id: str, lines: dict[str, int]) -> None:
        """A shipment took held units away from a location; each shipment counts once."""
        if self.has_shipped(shipment_id):
            return
        held = _take(self.held, location_id, lines)
        status = self.status
        if status in HOLDING:
            status = ReservationStatus.PARTIALLY_CONSUMED if held else ReservationStatus.CONSUMED
        self._consumed(
            order_id=self.order_id,
            shipment_id=shipment_id,
            location_id=location_id,
            lines=[{"sku": sku, "quantity": q} for sku, q in lines.items()],
            held=held,
            status=status,
        )

    @event(Consumed)
    def _consumed(
        self,
        order_id: UUID,
        shipment_id: str,
        location_id: str,
        lines: list[Line],
        held: list[Allocation],
        status: ReservationStatus,
    ) -> None:
        self.held = [a.copy() for a in held]
        self.shipment_ids.append(shipment_id)
        self.status = ReservationStatus(status)

    def release_short(self, location_id: str, lines: dict[str, int]) -> None:
        """A picker did not find these units at a location: the order stops holding them."""
        held = _take(self.held, location_id, lines)
        if held == self.held:
            return
        status = self.status
        if status in HOLDING and not held:
            status = ReservationStatus.CONSUMED if self.shipment_ids else ReservationStatus.RELEASED
        self._short_released(
            order_id=self.order_id,
            location_id=location_id,
            allocations=[
                {"sku": sku, "location_id": location_id, "quantity": q} for sku, q in lines.items()
            ],
            held=held,
            status=status,
        )

    @event(ShortReleased)
    def _short_released(
        self,
        order_id: UUID,
        location_id: str,
        allocations: list[Allocation],
        held: list[Allocation],
        status: ReservationStatus,
    ) -> None:
        self.held = [a.copy() for a in held]
        self.status = ReservationStatus(status)

    def take_back(
        self, return_id: str, sellable: dict[tuple[str, str], int], receipt: str = ""
    ) -> list[Allocation]:
        """Sellable returned units per (sku, location) of one receipt of a return not counted
        before; they count now."""
        new: list[Allocation] = [
            {"sku": sku, "location_id": location_id, "quantity": quantity}
            for (sku, location_id), quantity in sorted(sellable.items())
            if not self._took_back(return_id, receipt, sku, location_id)
        ]
        if new:
            self._restocked(order_id=self.order_id, return_id=return_id, lines=new, receipt=receipt)
        return new

    def _took_back(self, return_id: str, receipt: str, sku: str, location_id: str) -> bool:
        # Restocks recorded before receipts were told apart name no receipt: they stand for
        # every receipt of their return, as they did when recorded.
        keys = (
            _return_key(return_id, sku, location_id, receipt),
            _return_key(return_id, sku, location_id),
        )
        return any(key in self.restocked for key in keys)

    @event(Restocked)
    def _restocked(
        self, order_id: UUID, return_id: str, lines: list[Allocation], receipt: str = ""
    ) -> None:
        for line in lines:
            key = _return_key(return_id, line["sku"], line["location_id"], receipt)
            self.restocked[key] = line["quantity"]

    @property
    def promised(self) -> datetime | None:
        """When the backordered order's missing units are expected, if anything covers them."""
        # Reservations created (or snapshotted) before promise dates lack the attribute.
        promised: datetime | None = self.__dict__.get("promise_date")
        return promised

    def promise(self, date: datetime | None) -> bool:
        """A backordered order's missing units are expected then; the same date again (or an
        order no longer waiting) records nothing."""
        if self.status != ReservationStatus.BACKORDERED or date == self.promised:
            return False
        self._promised(order_id=self.order_id, promise_date=date, revision=self.revision)
        return True

    @event(Promised)
    def _promised(self, order_id: UUID, promise_date: datetime | None, revision: int) -> None:
        self.promise_date = promise_date


def _return_key(return_id: str, sku: str, location_id: str, receipt: str = "") -> str:
    return (
        f"{return_id}:{receipt}:{sku}:{location_id}"
        if receipt
        else f"{return_id}:{sku}:{location_id}"
    )


def _take(held: list[Allocation], location_id: str, lines: dict[str, int]) -> list[Allocation]:
    """What stays held after a shipment took these units from one location."""
    rest = dict(lines)
    remaining: list[Allocation] = []
    for allocation in held:
        quantity = allocation["quantity"]
        if allocation["location_id"] == location_id:
            taken = min(quantity, rest.get(allocation["sku"], 0))
            rest[allocation["sku"]] = rest.get(allocation["sku"], 0) - taken
            quantity -= taken
        if quantity:
            remaining.append({**allocation, "quantity": quantity})
    return remaining
