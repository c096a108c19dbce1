"""The order flow: reserve an order's stock (or queue it), release, ship and take back."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING
from uuid import UUID

from services.inventory_service.application.allocation import (
    attempt,
    fill_backorders,
    hold,
    queue,
    reservation_of,
    stock_of,
)
from services.inventory_service.application.promises import (
    departure,
    refresh_after_leaving,
    refresh_promises,
)
from services.inventory_service.domain import (
    Line,
    Reservation,
    ReturnedLine,
    merge_lines,
    reservation_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    # Named as a string by the base class below (the package imports this module).
    from services.inventory_service.application import Inventory  # noqa: F401


class Reservations(UseCases["Inventory"]):
    """What each order holds where: reserved all or nothing, released, shipped, returned.

    Every decision reads and writes the Stock aggregates it depends on in one unit of work,
    so a concurrent writer makes the commit fail with a version conflict and the decision
    is taken again on fresh state (docs/architecture.md, "Use cases and conflicts").
    """

    @use_case
    def reserve(
        self,
        order_id: UUID,
        lines: list[Line],
        country: str | None,
        uow: UnitOfWork | None = None,
        *,
        channel: str | None = None,
        postal_code: str | None = None,
    ) -> Reservation:
        """Reserve every line of an order where the routing rules put it, or nothing and queue
        it; an order is reserved once."""
        with self.app.unit_of_work(uow) as work:
            reservation = work.find(reservation_id_for(order_id), Reservation)
            if reservation is not None:
                return reservation
            reservation = Reservation(
                order_id=order_id,
                lines=lines,
                country=country,
                channel=channel,
                postal_code=postal_code,
            )
            work.add(reservation)
            routed = attempt(work, reservation)
            if routed.shortages:
                reservation.backorder(routed.shortages)
            # Backordered, or its rest waits (backorder the rest): at the back of the queues,
            # only its own date is new.
            queue(work, reservation, routed.waits_on)
            if routed.waits_on:
                refresh_promises(work, routed.waits_on, only=str(order_id))
            return reservation

    @use_case
    def change_lines(
        self, order_id: UUID, lines: list[Line], revision: int, uow: UnitOfWork | None = None
    ) -> None:
        """The order's lines were edited: give back what it holds, then reserve the new lines
        all or nothing (or queue it) before anyone waiting gets the units given back."""
        with self.app.unit_of_work(uow) as work:
            reservation = reservation_of(work, order_id)
            before = {sku: reservation.held_of(sku) for sku in reservation.requested}
            if not reservation.change_lines(lines, revision):
                return
            order_key, freed = str(order_id), []
            for sku, held in sorted(before.items()):
                stock = stock_of(work, sku)
                stock.leave_queue(order_key)
                if stock.release(order_key, held):
                    freed.append(sku)
            routed = attempt(work, reservation)
            if routed.shortages:
                reservation.backorder(routed.shortages)
            queue(work, reservation, routed.waits_on)
            fill_backorders(work, freed)
            refresh_promises(work, [*before, *routed.waits_on])

    @use_case
    def source_again(
        self,
        order_id: UUID,
        request_id: str,
        lines: list[Line],
        country: str | None,
        uow: UnitOfWork | None = None,
    ) -> None:
        """Units a picker did not find are asked for again: held wherever routing finds them
        all (missing units are not available, so not the bin that came up empty), or none and
        the order ships without them. Each request is answered once."""
        with self.app.unit_of_work(uow) as work:
            reservation = reservation_of(work, order_id)
            if not reservation.answers(request_id):
                return
            routed = hold(
                work,
                order_id,
                merge_lines(lines),
                country,
                channel=reservation.channel,
                postal_code=reservation.postal_code,
                in_part=False,  # the order waits for these units: all of them, or none
            )
            if routed.shortages:
                reservation.fail_sourcing(request_id, routed.shortages)
            else:
                reservation.source(request_id, routed.allocations, routed.explanation)

    @use_case
    def cancel(self, order_id: UUID, reason: str, uow: UnitOfWork | None = None) -> None:
        """Give back what the order holds, or take it out of the backorder queues."""
        with self.app.unit_of_work(uow) as work:
            # Cancelled before it was placed here: remembered, so a late OrderPlaced is ignored.
            reservation = reservation_of(work, order_id)
            order_key, freed, left = str(order_id), [], {}
            for sku in sorted(reservation.requested):
                stock = stock_of(work, sku)
                if (stood := departure(stock, order_key)) is not None:
                    left[sku] = stood
                stock.leave_queue(order_key)
                if stock.release(order_key, reservation.held_of(sku)):
                    freed.append(sku)
            reservation.cancel(reason)
            fill_backorders(work, freed)
            refresh_after_leaving(work, order_key, left)  # the orders behind it move up

    @use_case
    def record_shipment(
        self,
        shipment_id: UUID,
        order_id: UUID,
        location_id: str,
        lines: list[Line],
        uow: UnitOfWork | None = None,
    ) -> None:
        """A shipment left a location: its units leave on hand and the order's hold (once)."""
        units = merge_lines(lines)
        with self.app.unit_of_work(uow) as work:
            reservation = reservation_of(work, order_id)
            if reservation.has_shipped(str(shipment_id)):
                return
            for sku, quantity in sorted(units.items()):
                held = reservation.held_at(sku, location_id)
                stock = stock_of(work, sku)
                stock.ship(str(shipment_id), str(order_id), location_id, quantity, held)
            reservation.consume(str(shipment_id), location_id, units)

    @use_case
    def record_return(
        self,
        return_id: UUID,
        order_id: UUID,
        lines: list[ReturnedLine],
        uow: UnitOfWork | None = None,
        receipt: str = "",
    ) -> None:
        """Returned units arrived: sellable ones go back on hand, damaged ones into quarantine,
        each once per receipt of the return (when it names one; else once per return)."""
        sellable: Counter[tuple[str, str]] = Counter()
        damaged: Counter[tuple[str, str]] = Counter()
        for line in lines:
            kept = sellable if line["condition"] == "sellable" else damaged
            kept[(line["sku"], line["location_id"])] += line["quantity"]
        if not sellable and not damaged:
            return
        with self.app.unit_of_work(uow) as work:
            for (sku, location_id), quantity in sorted(damaged.items()):
                stock = stock_of(work, sku)
                stock.quarantine_return(str(return_id), location_id, quantity, receipt=receipt)
            if not sellable:
                return
            reservation = reservation_of(work, order_id)
            restocked = reservation.take_back(str(return_id), dict(sellable), receipt)
            for back in restocked:
                stock = stock_of(work, back["sku"])
                stock.restock(str(return_id), str(order_id), back["location_id"], back["quantity"])
            fill_backorders(work, [back["sku"] for back in restocked])
