"""Events in and out: which integration events the stream jobs read, what they make of them,
and the analytics events they publish. Pure: no faust, no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from services.stream_jobs import domain
from shared.events import models as ev
from shared.events.base import IntegrationEvent
from shared.events.codec import DecodeError, Envelope, WireMessage, decode, encode, peek
from shared.events.models import EVENTS_BY_TYPE
from shared.money import minor_units

SERVICE = "stream_jobs"
# Ids of analytics events derive from what they say, so a snapshot sent again is recognisable.
_IDS = uuid.UUID("5f0c7a52-3d1e-4b8e-9c61-7a2f0e4d9b13")

FactsUpdate = Callable[[domain.OrderFacts], domain.OrderFacts]

ORDER_EVENTS: tuple[type[IntegrationEvent], ...] = (
    ev.OrderPlaced,
    ev.OrderBackordered,
    ev.OrderShipped,
    ev.OrderCancelled,
)
STOCK_EVENTS: tuple[type[IntegrationEvent], ...] = (ev.StockReserved, ev.StockLevelChanged)


class StockMove(TypedDict, total=False):
    """One fact about a SKU at a location, forwarded keyed by SKU: a level or a reservation."""

    kind: str  # "level" or "reserved"
    sku: str
    location_id: str
    at: str
    available: int
    on_hand: int
    reservation: str  # the order (and request) the units are reserved for
    units: int


def read(
    headers: Sequence[tuple[str, bytes]] | None,
    key: bytes | None,
    value: bytes,
    handled: tuple[type[IntegrationEvent], ...],
) -> Envelope | None:
    """The envelope of a record of a handled event type; None for the types not read here.

    Raises DecodeError for a record that is no OMS CloudEvent or breaks its contract.
    """
    event_class = EVENTS_BY_TYPE.get(peek(list(headers or [])).event_type)
    if event_class not in handled:
        return None
    return decode(list(headers or []), key, value, tolerant=True)


def order_update(event: IntegrationEvent) -> tuple[str, FactsUpdate]:
    """The order an event is about and what it does to the order's facts.

    Raises ValueError for an order whose revenue cannot be counted (a currency that is no
    ISO 4217 code, an amount finer than its minor unit): it is dead-lettered, not guessed at.
    """
    match event:
        case ev.OrderPlaced():
            placed = event
            lines = [domain.PricedLine(li.quantity, li.unit_price, li.paid) for li in placed.lines]
            revenue = domain.order_revenue(lines, placed.totals.paid if placed.totals else None)
            domain.to_minor_units(revenue, placed.currency)
            units = sum(line.quantity for line in placed.lines)
            return str(placed.order_id), lambda facts: domain.placed(
                facts,
                channel=placed.channel,
                placed_at=placed.placed_at,
                currency=placed.currency,
                units=units,
                revenue=revenue,
            )
        case ev.OrderBackordered():
            return str(event.order_id), domain.backordered
        case ev.OrderCancelled():
            return str(event.order_id), domain.cancelled
        case ev.OrderShipped():
            done = event
            shipped_units = sum(line.quantity for line in done.lines)
            short_units = sum(line.quantity for line in done.short_lines or ())
            return str(done.order_id), lambda facts: domain.shipped(
                facts,
                shipped_at=done.shipped_at,
                shipped_units=shipped_units,
                short_units=short_units,
            )
    raise DecodeError(f"{event.event_type()} is not an order event the stream jobs read")


def stock_moves(event: IntegrationEvent) -> list[StockMove]:
    """The per-SKU facts of an inventory event."""
    match event:
        case ev.StockLevelChanged():
            return [
                {
                    "kind": "level",
                    "sku": event.sku,
                    "location_id": event.location_id,
                    "at": event.changed_at.isoformat(),
                    "available": event.available,
                    "on_hand": event.on_hand,
                }
            ]
        case ev.StockReserved():
            # One entry per order and request: an edit's new reservation replaces the old one.
            reservation = f"{event.order_id}/{event.request_id or ''}"
            units: dict[tuple[str, str], int] = {}
            for allocation in event.allocations:
                place = (allocation.sku, allocation.location_id)
                units[place] = units.get(place, 0) + allocation.quantity
            return [
                {
                    "kind": "reserved",
                    "sku": sku,
                    "location_id": location_id,
                    "at": event.reserved_at.isoformat(),
                    "reservation": reservation,
                    "units": quantity,
                }
                for (sku, location_id), quantity in units.items()
            ]
    raise DecodeError(f"{event.event_type()} is not a stock event the stream jobs read")


def kpis_event(kpis: domain.ChannelHourKpis, computed_at: datetime) -> ev.ChannelKpisComputed:
    """The analytics event of one channel and hour."""
    return ev.ChannelKpisComputed(
        channel=kpis.channel,
        hour=kpis.hour,
        orders=kpis.orders,
        units=kpis.units,
        revenue=[
            ev.RevenueAmount(
                currency=currency,
                amount=Decimal(amount).scaleb(-minor_units(currency)),
                minor_units=amount,
            )
            for currency, amount in kpis.revenue.items()
        ],
        backordered=kpis.backordered,
        cancelled=kpis.cancelled,
        shipped=kpis.shipped,
        backorder_rate=kpis.backorder_rate,
        fill_rate=kpis.fill_rate,
        median_placed_to_shipped_seconds=kpis.median_placed_to_shipped_seconds,
        computed_at=computed_at,
    )


@dataclass(frozen=True)
class Place:
    """A SKU at a location."""

    sku: str
    location_id: str


def low_stock_events(
    place: Place, assessment: domain.Assessment, policy: domain.ReorderPolicy, at: datetime
) -> list[IntegrationEvent]:
    """The alert of a location that just went low, and its reorder suggestion."""
    events: list[IntegrationEvent] = [
        ev.LowStockAlerted(
            sku=place.sku,
            location_id=place.location_id,
            available=assessment.available,
            reorder_point=assessment.reorder_point,
            safety_stock=assessment.safety_stock,
            daily_demand=assessment.daily_demand,
            demand_window_days=policy.demand_window_days,
            lead_time_days=policy.lead_time_days,
            alerted_at=at,
        )
    ]
    if assessment.suggested_quantity > 0:
        events.append(
            ev.ReorderSuggested(
                sku=place.sku,
                location_id=place.location_id,
                quantity=assessment.suggested_quantity,
                available=assessment.available,
                reorder_point=assessment.reorder_point,
                daily_demand=assessment.daily_demand,
                lead_time_days=policy.lead_time_days,
                cover_days=policy.cover_days,
                suggested_at=at,
            )
        )
    return events


def wire(event: IntegrationEvent, sent_at: datetime) -> WireMessage:
    """An analytics event as a CloudEvent; its id derives from its content (times of
    computing aside), its sequence is the time it was computed in milliseconds."""
    payload = event.model_dump_json(exclude={"computed_at"})
    event_id = uuid.uuid5(_IDS, f"{event.event_type()}|{payload}")
    return encode(
        event,
        event_id=str(event_id),
        service=SERVICE,
        position=max(1, int(sent_at.timestamp() * 1000)),
        time=sent_at,
    )
