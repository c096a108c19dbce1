"""Helpers of the Inventory use cases that work inside one unit of work (allocation, lookups).

Shared by the use-case groups; each takes the unit of work it reads and writes through.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID, uuid4

from services.inventory_service.application.promises import refresh_promises
from services.inventory_service.domain import (
    Allocation,
    Location,
    LocationNotFoundError,
    Reservation,
    ReservationStatus,
    Shortage,
    Stock,
    location_id_for,
    rank_locations,
    reservation_id_for,
    route,
    stock_id_for,
)
from shared.runtime.application import UnitOfWork


def attempt(work: UnitOfWork, reservation: Reservation) -> list[Shortage]:
    """Reserve all lines of the order, or nothing; returns the shortages if any."""
    allocations, shortages = hold(
        work, reservation.order_id, reservation.requested, reservation.country
    )
    if not shortages:
        reservation.reserve(allocations)
    return shortages


def hold(
    work: UnitOfWork, order_id: UUID, requested: dict[str, int], country: str | None
) -> tuple[list[Allocation], list[Shortage]]:
    """Hold these units for the order where routing puts them, all or nothing: the allocations
    held, or the shortages (nothing held)."""
    stocks = {sku: stock_of(work, sku) for sku in requested}
    ranked = ranked_locations(work, stocks.values(), country)
    available = {
        sku: {loc: stock.available(loc) for loc in ranked} for sku, stock in stocks.items()
    }
    allocations, shortages = route(requested, available, ranked)
    if shortages:
        return [], shortages
    for allocation in allocations:
        stock = stocks[allocation["sku"]]
        stock.reserve(str(order_id), allocation["location_id"], allocation["quantity"])
    return allocations, []


def ranked_locations(work: UnitOfWork, stocks: Iterable[Stock], country: str | None) -> list[str]:
    """The open locations holding any of these stocks, in the order routing prefers them."""
    location_ids = sorted({loc for stock in stocks for loc in stock.levels})
    locations = [work.find(location_id_for(loc), Location) for loc in location_ids]
    return rank_locations([loc for loc in locations if loc is not None], country)


def fill_backorders(work: UnitOfWork, skus: Iterable[str]) -> None:
    """Stock of these SKUs became available: serve their waiting orders (the ones still
    waiting are dated again)."""
    skus = sorted(set(skus))
    for sku in skus:
        _fill_backorders_of(work, sku)
    refresh_promises(work, skus)


def _fill_backorders_of(work: UnitOfWork, sku: str) -> None:
    """Try the waiting orders of one SKU first come, first served, each all or nothing."""
    stock = stock_of(work, sku)
    still_short: dict[str, dict[str, int]] = {}
    for order_key in list(stock.queue):
        if stock.available_anywhere() <= 0:
            break
        reservation = work.find(reservation_id_for(UUID(order_key)), Reservation)
        if reservation is None or reservation.status != ReservationStatus.BACKORDERED:
            stock.leave_queue(order_key)
            continue
        if reservation.requested.get(sku, 0) > stock.available_anywhere():
            continue  # keeps its place; later, smaller orders may still fit
        for shortage in attempt(work, reservation):
            units = reservation.requested.get(shortage["sku"], 0)
            still_short.setdefault(shortage["sku"], {})[order_key] = units
    for short_sku, waiting in sorted(still_short.items()):
        short = stock_of(work, short_sku)
        # Write to every stock found short, unless this unit writes it anyway: otherwise a
        # concurrent receipt of that SKU and this attempt would both miss the order.
        if not short.pending_events or not all(map(short.is_waiting, waiting)):
            short.wait(list(waiting), waiting)


def queue(work: UnitOfWork, reservation: Reservation, shortages: list[Shortage]) -> None:
    """A backordered order joins the queue of every SKU it is short of, with its units."""
    order_key, requested = str(reservation.order_id), reservation.requested
    for shortage in shortages:
        sku = shortage["sku"]
        stock_of(work, sku).wait([order_key], {order_key: requested.get(sku, 0)})


def stock_of(work: UnitOfWork, sku: str) -> Stock:
    """The SKU's stock, started empty the first time the SKU is seen."""
    stock = work.find(stock_id_for(sku), Stock)
    if stock is None:
        stock = Stock(sku=sku)
        work.add(stock)
    return stock


def reservation_of(work: UnitOfWork, order_id: UUID) -> Reservation:
    """The order's reservation; an order never placed here gets an empty one.

    The empty one remembers what happened to the order (cancelled, shipped, returned), so a
    redelivery changes nothing and an OrderPlaced arriving after it is ignored.
    """
    reservation = work.find(reservation_id_for(order_id), Reservation)
    if reservation is None:
        reservation = Reservation(order_id=order_id, lines=[], country=None)
        work.add(reservation)
    return reservation


def location_of(work: UnitOfWork, location_id: str) -> Location:
    """A registered location; LocationNotFoundError if there is none with this id."""
    location = work.find(location_id_for(location_id), Location)
    if location is None:
        raise LocationNotFoundError(f"no location {location_id}")
    return location


def new_id() -> str:
    """A fresh movement id: without an Idempotency-Key every request is a new movement."""
    return str(uuid4())
