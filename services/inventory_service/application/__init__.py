"""The Inventory application: one method per use case, each in one unit of work."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, project_aggregate

from services.inventory_service.application.allocation import (
    attempt,
    fill_backorders,
    location_of,
    new_id,
    reservation_of,
    stock_of,
)
from services.inventory_service.application.shortpicks import (
    propose_discrepancies,
    resolve_discrepancy,
)
from services.inventory_service.domain import (
    Discrepancy,
    DiscrepancyNotFoundError,
    Location,
    LocationConflictError,
    Reservation,
    Stock,
    StockNotFoundError,
    location_id_for,
    merge_lines,
    movement_id_for,
    reservation_id_for,
    stock_id_for,
)
from shared.runtime.application import ServiceApplication, UnitOfWork


class Inventory(ServiceApplication):
    """Stock per SKU per location, reservations per order; never promises a unit twice.

    Every decision reads and writes the Stock aggregates it depends on in one unit of work,
    so a concurrent writer (another instance, another thread) makes the commit fail with a
    version conflict and the whole decision is taken again on fresh state.
    """

    # -- locations -----------------------------------------------------------------------------

    def register_location(
        self,
        location_id: str,
        name: str,
        country: str,
        priority: int,
        uow: UnitOfWork | None = None,
    ) -> tuple[Location, bool]:
        """Register a location; (location, created). The same data again changes nothing."""
        with self.unit_of_work(uow) as work:
            location = work.find(location_id_for(location_id), Location)
            if location is not None:
                if not location.same_as(name, country, priority):
                    raise LocationConflictError(
                        f"location {location_id} exists as {location.name!r}, {location.country},"
                        f" priority {location.priority}"
                    )
                return location, False
            location = Location(
                location_id=location_id, name=name, country=country, priority=priority
            )
            work.add(location)
            return location, True

    def set_location_active(
        self, location_id: str, active: bool, uow: UnitOfWork | None = None
    ) -> Location:
        """Open or close a location for routing new reservations."""
        with self.unit_of_work(uow) as work:
            location = location_of(work, location_id)
            location.set_active(active)
            return location

    # -- stock movements and bins ------------------------------------------------------------

    def receive_stock(
        self,
        location_id: str,
        sku: str,
        quantity: int,
        reference: str | None = None,
        idempotency_key: str | None = None,
        bin_code: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> tuple[str, Stock]:
        """Units arrived at a location (into a bin); waiting orders are served first come first."""
        receipt_id = movement_id_for("receipt", idempotency_key) if idempotency_key else new_id()
        with self.unit_of_work(uow) as work:
            location_of(work, location_id)
            stock = stock_of(work, sku)
            if stock.receive(receipt_id, location_id, quantity, reference, bin_code):
                fill_backorders(work, [sku])
            return receipt_id, stock

    def adjust_stock(
        self,
        location_id: str,
        sku: str,
        quantity_delta: int,
        reason: str,
        idempotency_key: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> tuple[str, Stock]:
        """Correct on hand (count, damage, loss); found units serve waiting orders."""
        key = idempotency_key
        adjustment_id = movement_id_for("adjustment", key) if key else new_id()
        with self.unit_of_work(uow) as work:
            location_of(work, location_id)
            stock = stock_of(work, sku)
            applied = stock.adjust(adjustment_id, location_id, quantity_delta, reason)
            if applied and quantity_delta > 0:
                fill_backorders(work, [sku])
            return adjustment_id, stock

    def assign_bin(
        self, location_id: str, sku: str, bin_code: str, uow: UnitOfWork | None = None
    ) -> str | None:
        """Put a SKU away into a bin, or move it to another; returns the bin it had before."""
        with self.unit_of_work(uow) as work:
            location_of(work, location_id)
            stock = stock_of(work, sku)
            previous = stock.bin_at(location_id)
            stock.assign_bin(location_id, bin_code)
            return previous

    def get_stock(self, sku: str) -> Stock:
        """A SKU's stock as its events say it is now."""
        try:
            stock: Any = self.repository.get(stock_id_for(sku))
        except AggregateNotFoundError:
            raise StockNotFoundError(f"no stock was ever recorded for {sku}") from None
        # The cache does not fast-forward (commands detect staleness by conflict instead),
        # so a read brings its copy up to date with what other instances recorded.
        newer = self.repository.event_store.get(stock.id, gt=stock.version)
        stock = project_aggregate(stock, newer)
        assert isinstance(stock, Stock)
        return stock

    # -- the order flow -----------------------------------------------------------------------

    def reserve_order(
        self,
        order_id: UUID,
        lines: list[dict[str, Any]],
        country: str | None,
        uow: UnitOfWork | None = None,
    ) -> Reservation:
        """Reserve every line of an order, or nothing and queue it; an order is reserved once."""
        with self.unit_of_work(uow) as work:
            reservation = work.find(reservation_id_for(order_id), Reservation)
            if reservation is not None:
                return reservation
            reservation = Reservation(order_id=order_id, lines=lines, country=country)
            work.add(reservation)
            shortages = attempt(work, reservation)
            if shortages:
                reservation.backorder(shortages)
                for shortage in shortages:
                    stock_of(work, shortage["sku"]).wait([str(order_id)])
            return reservation

    def cancel_order(self, order_id: UUID, reason: str, uow: UnitOfWork | None = None) -> None:
        """Give back what the order holds, or take it out of the backorder queues."""
        with self.unit_of_work(uow) as work:
            # Cancelled before it was placed here: remembered, so a late OrderPlaced is ignored.
            reservation = reservation_of(work, order_id)
            order_key, freed = str(order_id), []
            for sku in sorted(reservation.requested):
                stock = stock_of(work, sku)
                stock.leave_queue(order_key)
                if stock.release(order_key, reservation.held_of(sku)):
                    freed.append(sku)
            reservation.cancel(reason)
            fill_backorders(work, freed)

    def record_shipment(
        self,
        shipment_id: UUID,
        order_id: UUID,
        location_id: str,
        lines: list[dict[str, Any]],
        uow: UnitOfWork | None = None,
    ) -> None:
        """A shipment left a location: its units leave on hand and the order's hold (once)."""
        units = merge_lines(lines)
        with self.unit_of_work(uow) as work:
            reservation = reservation_of(work, order_id)
            if reservation.has_shipped(str(shipment_id)):
                return
            for sku, quantity in sorted(units.items()):
                held = reservation.held_at(sku, location_id)
                stock = stock_of(work, sku)
                stock.ship(str(shipment_id), str(order_id), location_id, quantity, held)
            reservation.consume(str(shipment_id), location_id, units)

    def record_return(
        self,
        return_id: UUID,
        order_id: UUID,
        lines: list[dict[str, Any]],
        uow: UnitOfWork | None = None,
    ) -> None:
        """Returned units arrived: sellable ones go back on hand (once), damaged ones do not."""
        sellable: Counter[tuple[str, str]] = Counter()
        for line in lines:
            if line["condition"] == "sellable":
                sellable[(line["sku"], line["location_id"])] += int(line["quantity"])
        if not sellable:
            return
        with self.unit_of_work(uow) as work:
            reservation = reservation_of(work, order_id)
            restocked = reservation.take_back(str(return_id), dict(sellable))
            for line in restocked:
                stock = stock_of(work, line["sku"])
                stock.restock(str(return_id), str(order_id), line["location_id"], line["quantity"])
            fill_backorders(work, [line["sku"] for line in restocked])

    # -- short picks and discrepancies ---------------------------------------------------------

    def record_short_pick(
        self,
        shipment_id: UUID,
        order_id: UUID,
        location_id: str,
        pick_list_id: UUID,
        lines: list[dict[str, Any]],
        uow: UnitOfWork | None = None,
    ) -> list[Discrepancy]:
        """A picker found fewer units than expected: release them, propose a discrepancy each."""
        with self.unit_of_work(uow) as work:
            return propose_discrepancies(
                work, shipment_id, order_id, location_id, pick_list_id, lines
            )

    def confirm_discrepancy(
        self, discrepancy_id: UUID, note: str | None = None, uow: UnitOfWork | None = None
    ) -> Discrepancy:
        """Ops agree the units are gone: on hand drops by them (once)."""
        with self.unit_of_work(uow) as work:
            return resolve_discrepancy(work, discrepancy_id, confirm=True, note=note)

    def reject_discrepancy(
        self, discrepancy_id: UUID, note: str | None = None, uow: UnitOfWork | None = None
    ) -> Discrepancy:
        """Ops found the units: on hand stays, they can be promised again."""
        with self.unit_of_work(uow) as work:
            return resolve_discrepancy(work, discrepancy_id, confirm=False, note=note)

    def get_discrepancy(self, discrepancy_id: UUID) -> Discrepancy:
        """A discrepancy as its events say it is now."""
        try:
            discrepancy: Any = self.repository.get(discrepancy_id)
        except AggregateNotFoundError:
            raise DiscrepancyNotFoundError(f"no discrepancy {discrepancy_id}") from None
        if not isinstance(discrepancy, Discrepancy):
            raise DiscrepancyNotFoundError(f"no discrepancy {discrepancy_id}")
        return discrepancy
