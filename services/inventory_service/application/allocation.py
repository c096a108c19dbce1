"""Helpers of the Inventory use cases that work inside one unit of work (allocation, lookups).

Shared by the use-case groups; each takes the unit of work it reads and writes through.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID, uuid4

from services.inventory_service.application.promises import refresh_promises
from services.inventory_service.application.routing import DEFAULT_ROUTING, Routing
from services.inventory_service.domain import (
    Location,
    LocationNotFoundError,
    PartialPolicy,
    Plan,
    Reservation,
    ReservationStatus,
    Site,
    Stock,
    location_id_for,
    plan,
    reservation_id_for,
    stock_id_for,
)
from shared.runtime.application import UnitOfWork


def attempt(work: UnitOfWork, reservation: Reservation) -> Plan:
    """Reserve all lines of the order, or nothing; the plan says what is short and which
    SKUs' queues the order waits in."""
    routed = hold(
        work,
        reservation.order_id,
        reservation.requested,
        reservation.country,
        channel=reservation.channel,
        postal_code=reservation.postal_code,
    )
    if routed.allocations:
        reservation.reserve(routed.allocations, routed.explanation, routed.short, routed.rest)
    return routed


def hold(
    work: UnitOfWork,
    order_id: UUID,
    requested: dict[str, int],
    country: str | None,
    *,
    channel: str | None = None,
    postal_code: str | None = None,
    in_part: bool = True,
) -> Plan:
    """Hold these units for the order where the routing rules put them: the plan held (with
    its explanation), or its shortages (nothing held). All or nothing, unless the channel's
    partial policy and `in_part` allow part: then what is there is held, and the rest is
    `short` (given up) or `rest` (waits for stock in the queues of `waits_on`)."""
    routing = routing_of(work)
    stocks = {sku: stock_of(work, sku) for sku in requested}
    sites = open_sites(work, stocks.values(), routing)
    available = {
        sku: {site.location_id: stock.available(site.location_id) for site in sites}
        for sku, stock in stocks.items()
    }
    destination = routing.destination(country, postal_code)
    policy = routing.policy(channel)
    routed = plan(requested, available, sites, destination, policy)
    partial = policy.partial if in_part else PartialPolicy.WAIT_ALL
    if routed.shortages and not (partial != PartialPolicy.WAIT_ALL and routed.allocations):
        routed.allocations = []
        return routed
    if routed.shortages and partial == PartialPolicy.SHIP_AVAILABLE:
        # Ships what is there: the short lines are given up, the order waits for nothing.
        routed.short, routed.shortages, routed.waits_on = routed.shortages, [], []
    elif routed.shortages:
        # Backorders the rest: it waits in the queues of the short SKUs, held when it can be.
        routed.rest, routed.shortages = routed.shortages, []
    for allocation in routed.allocations:
        stock = stocks[allocation["sku"]]
        stock.reserve(str(order_id), allocation["location_id"], allocation["quantity"])
    return routed


def routing_of(work: UnitOfWork) -> Routing:
    """The routing configuration of the application this unit works for."""
    # Read off the unit, so the many callers of fill_backorders need not pass it along.
    routing = getattr(work.app, "routing", None)
    return routing if isinstance(routing, Routing) else DEFAULT_ROUTING


def open_sites(work: UnitOfWork, stocks: Iterable[Stock], routing: Routing) -> list[Site]:
    """The open locations holding any of these stocks, as routing sees them."""
    location_ids = sorted({loc for stock in stocks for loc in stock.levels})
    sites: list[Site] = []
    for location_id in location_ids:
        location = work.find(location_id_for(location_id), Location)
        if location is None or not location.active:
            continue
        address = location.address
        postal_code = address["postal_code"] if address is not None else None
        sites.append(location.site(routing.centroids.locate(location.country, postal_code)))
    return sites


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
        waiting = reservation is not None and reservation.status == ReservationStatus.BACKORDERED
        if reservation is None or not (waiting or reservation.rest):
            stock.leave_queue(order_key)
            continue
        needed = reservation.requested if waiting else reservation.rest
        if needed.get(sku, 0) > stock.available_anywhere():
            continue  # keeps its place; later, smaller orders may still fit
        waits_on = attempt(work, reservation).waits_on if waiting else _hold_rest(work, reservation)
        for waiting_on in waits_on:
            still_short.setdefault(waiting_on, {})[order_key] = waited_units(
                reservation, waiting_on
            )
    for short_sku, queued in sorted(still_short.items()):
        short = stock_of(work, short_sku)
        # Write to every stock found short, unless this unit writes it anyway: otherwise a
        # concurrent receipt of that SKU and this attempt would both miss the order.
        if not short.pending_events or not all(map(short.is_waiting, queued)):
            short.wait(list(queued), queued)


def queue(work: UnitOfWork, reservation: Reservation, skus: Iterable[str]) -> None:
    """The order joins the queue of every SKU it waits for, with the units it waits for."""
    order_key = str(reservation.order_id)
    for sku in skus:
        stock_of(work, sku).wait([order_key], {order_key: waited_units(reservation, sku)})


def waited_units(reservation: Reservation, sku: str) -> int:
    """Units of the SKU the order waits for: all it asked for when backordered, else its rest."""
    if reservation.status == ReservationStatus.BACKORDERED:
        return reservation.requested.get(sku, 0)
    return reservation.rest.get(sku, 0)


def _hold_rest(work: UnitOfWork, reservation: Reservation) -> list[str]:
    """Hold the rest of a reservation held in part (all of the rest, or none); the SKUs it
    still waits for."""
    routed = hold(
        work,
        reservation.order_id,
        dict(reservation.rest),
        reservation.country,
        channel=reservation.channel,
        postal_code=reservation.postal_code,
        in_part=False,
    )
    if routed.shortages:
        return routed.waits_on
    if reservation.rest_request is not None:
        reservation.source(reservation.rest_request, routed.allocations, routed.explanation)
    return []


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
