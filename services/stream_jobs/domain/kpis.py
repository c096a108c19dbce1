"""KPIs per channel and hour, computed from what each order did.

An order's facts (`OrderFacts`) only ever grow: placed, backordered, shipped, cancelled are
set, never added to. Applying the same event twice, or an older snapshot after a newer one
arrives again, changes nothing: that is what makes the counts safe under at-least-once
delivery (docs/architecture.md, "The stream jobs").
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TypedDict

from shared.money import minor_units

RATE_PLACES = Decimal("0.0001")


class OrderFacts(TypedDict, total=False):
    """What the stream jobs know of one order; times are UTC RFC 3339 strings."""

    channel: str
    placed_at: str
    currency: str
    units: int
    revenue: str
    backordered: bool
    cancelled: bool
    shipped_at: str
    shipped_units: int
    short_units: int


@dataclass(frozen=True)
class PricedLine:
    """An order line as revenue needs it: units, unit price and what was paid, if told."""

    quantity: int
    unit_price: Decimal
    paid: Decimal | None = None


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour a moment falls in; a naive time is refused, not guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no UTC offset")
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def order_revenue(lines: Iterable[PricedLine], paid_total: Decimal | None) -> Decimal:
    """What the buyer paid for the order: its total when told, else its lines' paid amounts."""
    if paid_total is not None:
        return paid_total
    return sum(
        (line.paid if line.paid is not None else line.unit_price * line.quantity for line in lines),
        Decimal(0),
    )


def to_minor_units(amount: Decimal, currency: str) -> int:
    """An amount in the currency's smallest unit (1.235 KWD is 1235); refuses a fraction of it."""
    scaled = amount.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(scaled)


def median_seconds(durations: Iterable[int]) -> Decimal | None:
    """The median of durations in seconds (the mean of the middle two for an even count)."""
    values = sorted(durations)
    if not values:
        return None
    return Decimal(statistics.median_low(values) + statistics.median_high(values)) / 2


def placed(
    facts: OrderFacts,
    *,
    channel: str,
    placed_at: datetime,
    currency: str,
    units: int,
    revenue: Decimal,
) -> OrderFacts:
    """The facts once the order was placed."""
    return {
        **facts,
        "channel": channel,
        "placed_at": _text(placed_at),
        "currency": currency,
        "units": units,
        "revenue": format(revenue, "f"),
    }


def backordered(facts: OrderFacts) -> OrderFacts:
    """The facts once the order was backordered (at least once)."""
    return {**facts, "backordered": True}


def cancelled(facts: OrderFacts) -> OrderFacts:
    """The facts once the order was cancelled."""
    return {**facts, "cancelled": True}


def shipped(
    facts: OrderFacts, *, shipped_at: datetime, shipped_units: int, short_units: int
) -> OrderFacts:
    """The facts once every unit of the order shipped or was short."""
    return {
        **facts,
        "shipped_at": _text(shipped_at),
        "shipped_units": shipped_units,
        "short_units": short_units,
    }


def bucket_of(facts: OrderFacts) -> tuple[str, datetime] | None:
    """The channel and placed hour an order counts in; None before it was placed."""
    if "channel" not in facts or "placed_at" not in facts:
        return None
    return facts["channel"], hour_of(datetime.fromisoformat(facts["placed_at"]))


@dataclass(frozen=True)
class ChannelHourKpis:
    """The KPIs of the orders placed on one channel in one UTC hour."""

    channel: str
    hour: datetime
    orders: int
    units: int
    revenue: dict[str, int]
    backordered: int
    cancelled: int
    shipped: int
    backorder_rate: Decimal | None
    fill_rate: Decimal | None
    median_placed_to_shipped_seconds: Decimal | None


def channel_hour_kpis(
    channel: str, hour: datetime, orders: Iterable[OrderFacts]
) -> ChannelHourKpis:
    """The KPIs of one channel and hour from the facts of its orders.

    Backorder rate: orders backordered at least once / orders placed. Fill rate: units shipped
    / units shipped or short, over the orders that shipped. Placed-to-shipped: seconds from an
    order's placing to its last unit shipping, median over the orders that shipped.
    """
    count = units = backorders = cancels = shipped_units = short_units = 0
    revenue: dict[str, int] = {}
    durations: list[int] = []
    for facts in orders:
        count += 1
        units += facts.get("units", 0)
        currency = facts["currency"]
        amount = to_minor_units(Decimal(facts.get("revenue", "0")), currency)
        revenue[currency] = revenue.get(currency, 0) + amount
        backorders += facts.get("backordered", False)
        cancels += facts.get("cancelled", False)
        if "shipped_at" in facts:
            shipped_units += facts.get("shipped_units", 0)
            short_units += facts.get("short_units", 0)
            took = datetime.fromisoformat(facts["shipped_at"]) - datetime.fromisoformat(
                facts["placed_at"]
            )
            durations.append(max(0, int(took.total_seconds())))
    return ChannelHourKpis(
        channel=channel,
        hour=hour,
        orders=count,
        units=units,
        revenue=dict(sorted(revenue.items())),
        backordered=backorders,
        cancelled=cancels,
        shipped=len(durations),
        backorder_rate=_rate(backorders, count),
        fill_rate=_rate(shipped_units, shipped_units + short_units),
        median_placed_to_shipped_seconds=median_seconds(durations),
    )


def _rate(part: int, whole: int) -> Decimal | None:
    """part / whole to four places, half-up; None when there is nothing to divide."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _text(moment: datetime) -> str:
    """A time as the facts keep it: UTC, RFC 3339."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no UTC offset")
    return moment.astimezone(UTC).isoformat()
