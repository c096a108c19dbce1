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


def refresh_promises(work: UnitOfWork, skus: Iterable[str], supply_changed: bool = False) -> None:
    """Date again every order waiting for these SKUs: the expected arrival that covers its
    missing units, first come first served (published when it changes).

    Only SKUs with supply on the way are looked at unless their supply itself changed (a
    waiting order can only be promised what is on the way), so a SKU without purchase
    orders or transfers costs nothing here.
    """
    promising = _Promising(work)
    orders: dict[str, None] = {}
    for sku in sorted(set(skus)):
        stock = promising.stock(sku)
        if stock is None or not (supply_changed or stock.incoming()):
            continue
        orders.update(dict.fromkeys(stock.queue))
    for order_key in orders:
        reservation = promising.reservation(order_key)
        if reservation is None or reservation.status != ReservationStatus.BACKORDERED:
            continue
        reservation.promise(promising.date_of(order_key, reservation))


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
            demands: list[tuple[str, int]] = []
            for order_key in stock.queue if stock is not None else []:
                reservation = self.reservation(order_key)
                if reservation is not None and reservation.status == ReservationStatus.BACKORDERED:
                    demands.append((order_key, reservation.requested.get(sku, 0)))
            if stock is None:
                return {}
            self.covers[sku] = covers(demands, stock.available_anywhere(), stock.supplies())
        return self.covers[sku]
