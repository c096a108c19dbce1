"""Promise dates of backordered orders, kept up to date inside the unit of work that changes
what they depend on: a SKU's supply on the way, its queue, or its available units."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from services.inventory_service.domain import (
    NOW,
    Reservation,
    ReservationStatus,
    Stock,
    covers,
    promise_date,
    reservation_id_for,
    stock_id_for,
)
from shared.runtime.application import UnitOfWork


def refresh_promises(
    work: UnitOfWork, skus: Iterable[str], supply_changed: bool = False, only: str | None = None
) -> None:
    """Date again the orders waiting for these SKUs (only this one, when given): the expected
    arrival that covers its missing units, first come first served (published on change).

    Only SKUs with supply on the way are looked at unless their supply itself changed (a
    waiting order can only be promised what is on the way), so a SKU without purchase
    orders or transfers costs nothing here. The queues keep what each order asked for, so
    working the dates out reads no order; recording them reads each order dated.
    """
    promising = _Promising(work)
    orders: dict[str, None] = {}
    for sku in sorted(set(skus)):
        stock = promising.stock(sku)
        if stock is None or not (supply_changed or stock.incoming()):
            continue
        if only is None:
            orders.update(dict.fromkeys(stock.queue))
        elif stock.is_waiting(only):
            orders[only] = None
    promising.date(orders)


Departure = tuple[int, int | None]
"""Where an order stood in a SKU's queue when it left, and the units it waited for."""


def departure(stock: Stock, order_key: str) -> Departure | None:
    """Where an order stands in a SKU's queue (before it leaves), if it waits there."""
    if not stock.is_waiting(order_key):
        return None
    return stock.queue.index(order_key), stock.waiting[order_key]


def refresh_after_leaving(work: UnitOfWork, order_key: str, left: dict[str, Departure]) -> None:
    """An order left these SKUs' queues: date again the orders whose cover it changed (those
    behind it, where it held back supply they now get), not every order waiting."""
    promising = _Promising(work)
    orders: dict[str, None] = {}
    for sku, (position, units) in sorted(left.items()):
        stock = promising.stock(sku)
        if stock is None or not stock.incoming():
            continue
        after = promising.cover(sku)
        if units is None:  # queued before the queue kept units: date them all
            orders.update(dict.fromkeys(after))
            continue
        was_ahead = set(stock.queue[:position])
        demands = promising.demands(sku)
        ahead = [demand for demand in demands if demand[0] in was_ahead]
        behind = demands[len(ahead) :]
        supplies, available = stock.supplies(), stock.available_anywhere()
        before = covers([*ahead, (order_key, units), *behind], available, supplies)
        orders.update(dict.fromkeys(o for o, date in after.items() if before.get(o) != date))
    promising.date(orders)


class _Promising:
    """The queues, supplies and waiting orders one refresh reads, each read once."""

    def __init__(self, work: UnitOfWork) -> None:
        self.work = work
        self.stocks: dict[str, Stock | None] = {}
        self.reservations: dict[str, Reservation | None] = {}
        self.covers: dict[str, dict[str, datetime | None]] = {}

    def stock(self, sku: str) -> Stock | None:
        if sku not in self.stocks:
            self.stocks[sku] = self.work.find(stock_id_for(sku), Stock)
        return self.stocks[sku]

    def reservation(self, order_key: str) -> Reservation | None:
        if order_key not in self.reservations:
            found = self.work.find(reservation_id_for(UUID(order_key)), Reservation)
            self.reservations[order_key] = found
        return self.reservations[order_key]

    def date(self, orders: Iterable[str]) -> None:
        """Record the promise date of each of these orders still backordered."""
        for order_key in orders:
            reservation = self.reservation(order_key)
            if reservation is None or reservation.status != ReservationStatus.BACKORDERED:
                continue
            reservation.promise(self.date_of(order_key, reservation))

    def date_of(self, order_key: str, reservation: Reservation) -> datetime | None:
        """The order's promise date: the latest cover of the SKUs it waits for."""
        waits_for = [
            sku
            for sku in sorted(reservation.requested)
            if (stock := self.stock(sku)) is not None and stock.is_waiting(order_key)
        ]
        return promise_date([self.cover(sku).get(order_key, NOW) for sku in waits_for])

    def cover(self, sku: str) -> dict[str, datetime | None]:
        """When each order waiting for a SKU gets its units, in queue order."""
        if sku not in self.covers:
            stock = self.stock(sku)
            if stock is None:
                return {}
            demands = self.demands(sku)
            self.covers[sku] = covers(demands, stock.available_anywhere(), stock.supplies())
        return self.covers[sku]

    def demands(self, sku: str) -> list[tuple[str, int]]:
        """(order, units) waiting for a SKU, in queue order (from the queue, which keeps them)."""
        stock = self.stock(sku)
        demands: list[tuple[str, int]] = []
        for order_key, units in stock.waiting.items() if stock is not None else ():
            if units is None:  # queued before the queue kept units: ask the order
                reservation = self.reservation(order_key)
                if reservation is None or reservation.status != ReservationStatus.BACKORDERED:
                    continue
                units = reservation.requested.get(sku, 0)
            demands.append((order_key, units))
        return demands
