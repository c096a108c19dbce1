"""The Inventory application: one method per use case, each in one unit of work."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, project_aggregate

from services.inventory_service.domain import (
    BACKORDERED,
    Location,
    LocationConflictError,
    LocationNotFoundError,
    Reservation,
    Stock,
    StockNotFoundError,
    location_id_for,
    merge_lines,
    movement_id_for,
    rank_locations,
    reservation_id_for,
    route,
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
            location = _location(work, location_id)
            location.set_active(active)
            return location

    # -- stock movements -------------------------------------------------------------------

    def receive_stock(
        self,
        location_id: str,
        sku: str,
        quantity: int,
        reference: str | None = None,
        idempotency_key: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> tuple[str, Stock]:
        """Units arrived at a location; waiting orders are served first come, first served."""
        receipt_id = movement_id_for("receipt", idempotency_key) if idempotency_key else _new_id()
        with self.unit_of_work(uow) as work:
            _location(work, location_id)
            stock = _stock(work, sku)
            if stock.receive(receipt_id, location_id, quantity, reference):
                _fill_backorders(work, [sku])
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
        adjustment_id = movement_id_for("adjustment", key) if key else _new_id()
        with self.unit_of_work(uow) as work:
            _location(work, location_id)
            stock = _stock(work, sku)
            applied = stock.adjust(adjustment_id, location_id, quantity_delta, reason)
            if applied and quantity_delta > 0:
                _fill_backorders(work, [sku])
            return adjustment_id, stock

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
            shortages = _attempt(work, reservation)
            if shortages:
                reservation.backorder(shortages)
                for shortage in shortages:
                    _stock(work, shortage["sku"]).wait([str(order_id)])
            return reservation

    def cancel_order(self, order_id: UUID, reason: str, uow: UnitOfWork | None = None) -> None:
        """Give back what the order holds, or take it out of the backorder queues."""
        with self.unit_of_work(uow) as work:
            reservation = work.find(reservation_id_for(order_id), Reservation)
            if reservation is None:
                # Cancelled before it was placed here: remember, so a late OrderPlaced is ignored.
                reservation = Reservation(order_id=order_id, lines=[], country=None)
                work.add(reservation)
            order_key, freed = str(order_id), []
            for sku in sorted(reservation.requested):
                stock = _stock(work, sku)
                stock.leave_queue(order_key)
                if stock.release(order_key):
                    freed.append(sku)
            reservation.cancel(reason)
            _fill_backorders(work, freed)

    def record_shipment(
        self,
        shipment_id: UUID,
        order_id: UUID,
        location_id: str,
        lines: list[dict[str, Any]],
        uow: UnitOfWork | None = None,
    ) -> None:
        """A shipment left a location: its units leave on hand and the order's hold."""
        units = merge_lines(lines)
        with self.unit_of_work(uow) as work:
            for sku, quantity in sorted(units.items()):
                _stock(work, sku).ship(str(shipment_id), str(order_id), location_id, quantity)
            reservation = work.find(reservation_id_for(order_id), Reservation)
            if reservation is not None:
                reservation.consume(str(shipment_id), location_id, units)

    def record_return(
        self,
        return_id: UUID,
        order_id: UUID,
        lines: list[dict[str, Any]],
        uow: UnitOfWork | None = None,
    ) -> None:
        """Returned units arrived: sellable ones go back on hand, damaged ones do not."""
        sellable: Counter[tuple[str, str]] = Counter()
        for line in lines:
            if line["condition"] == "sellable":
                sellable[(line["sku"], line["location_id"])] += int(line["quantity"])
        with self.unit_of_work(uow) as work:
            restocked = []
            for (sku, location_id), quantity in sorted(sellable.items()):
                stock = _stock(work, sku)
                if stock.restock(str(return_id), str(order_id), location_id, quantity):
                    restocked.append(sku)
            _fill_backorders(work, restocked)


# -- allocation inside one unit of work ---------------------------------------------------------


def _attempt(work: UnitOfWork, reservation: Reservation) -> list[dict[str, Any]]:
    """Reserve all lines of the order, or nothing; returns the shortages if any."""
    requested = reservation.requested
    stocks = {sku: _stock(work, sku) for sku in requested}
    location_ids = sorted({loc for stock in stocks.values() for loc in stock.levels})
    locations = [work.find(location_id_for(loc), Location) for loc in location_ids]
    ranked = rank_locations([loc for loc in locations if loc is not None], reservation.country)
    available = {
        sku: {loc: stock.available(loc) for loc in ranked} for sku, stock in stocks.items()
    }
    allocations, shortages = route(requested, available, ranked)
    if shortages:
        return shortages
    order_key = str(reservation.order_id)
    for allocation in allocations:
        stock = stocks[allocation["sku"]]
        stock.reserve(order_key, allocation["location_id"], allocation["quantity"])
    reservation.reserve(allocations)
    return []


def _fill_backorders(work: UnitOfWork, skus: Iterable[str]) -> None:
    """Stock of these SKUs became available: serve their waiting orders."""
    for sku in sorted(set(skus)):
        _fill_backorders_of(work, sku)


def _fill_backorders_of(work: UnitOfWork, sku: str) -> None:
    """Try the waiting orders of one SKU first come, first served, each all or nothing."""
    stock = _stock(work, sku)
    still_short: dict[str, list[str]] = {}
    for order_key in list(stock.queue):
        if stock.available_anywhere() <= 0:
            break
        reservation = work.find(reservation_id_for(UUID(order_key)), Reservation)
        if reservation is None or reservation.status != BACKORDERED:
            stock.leave_queue(order_key)
            continue
        if reservation.requested.get(sku, 0) > stock.available_anywhere():
            continue  # keeps its place; later, smaller orders may still fit
        for shortage in _attempt(work, reservation):
            still_short.setdefault(shortage["sku"], []).append(order_key)
    for short_sku, order_keys in sorted(still_short.items()):
        short = _stock(work, short_sku)
        # Write to every stock found short, unless this unit writes it anyway: otherwise a
        # concurrent receipt of that SKU and this attempt would both miss the order.
        if not short.pending_events or any(key not in short.queue for key in order_keys):
            short.wait(order_keys)


def _stock(work: UnitOfWork, sku: str) -> Stock:
    """The SKU's stock, started empty the first time the SKU is seen."""
    stock = work.find(stock_id_for(sku), Stock)
    if stock is None:
        stock = Stock(sku=sku)
        work.add(stock)
    return stock


def _location(work: UnitOfWork, location_id: str) -> Location:
    location = work.find(location_id_for(location_id), Location)
    if location is None:
        raise LocationNotFoundError(f"no location {location_id}")
    return location


def _new_id() -> str:
    """A fresh movement id: without an Idempotency-Key every request is a new movement."""
    return str(uuid4())
