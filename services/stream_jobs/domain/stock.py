"""Low stock and reorder suggestions per SKU and location, from levels and recent demand.

Demand is the units reserved at the location over a trailing window (StockReserved), one
entry per order and request, so a reservation seen twice is counted once and an order's
new reservation after an edit replaces its old one. The reorder point is the demand over
the supplier's lead time plus safety stock; a location whose available stock is below it is
low, and gets one alert and one suggestion per time it goes low.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypedDict

DEMAND_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class ReorderPolicy:
    """How far ahead to plan: lead time, demand window, safety stock and cover, in days."""

    lead_time_days: Decimal
    demand_window_days: int
    safety_stock_days: Decimal = Decimal(0)
    safety_stock_units: int = 0
    cover_days: Decimal = Decimal(0)


class Reservation(TypedDict):
    """Units of one order (or one request of it) reserved at a location, and when."""

    units: int
    at: str


class LevelState(TypedDict, total=False):
    """A SKU at a location as last reported, and whether it is low now."""

    available: int
    on_hand: int
    changed_at: str
    as_of: str
    low: bool
    low_since: str


@dataclass(frozen=True)
class Assessment:
    """A SKU at a location measured against its reorder point."""

    available: int
    daily_demand: Decimal
    safety_stock: int
    reorder_point: int
    low: bool
    suggested_quantity: int


def daily_demand(reservations: Iterable[Reservation], now: datetime, window_days: int) -> Decimal:
    """Units reserved per day over the `window_days` up to `now` (later ones do not count)."""
    if window_days < 1:
        raise ValueError("the demand window is at least one day")
    start = now - timedelta(days=window_days)
    units = sum(r["units"] for r in reservations if start < datetime.fromisoformat(r["at"]) <= now)
    return (Decimal(units) / window_days).quantize(DEMAND_PLACES, rounding=ROUND_HALF_UP)


def safety_stock(demand: Decimal, policy: ReorderPolicy) -> int:
    """Units kept for demand above the average: fixed units plus days of demand, rounded up."""
    return policy.safety_stock_units + math.ceil(demand * policy.safety_stock_days)


def reorder_point(demand: Decimal, policy: ReorderPolicy) -> int:
    """Demand over the lead time (rounded up) plus safety stock."""
    return math.ceil(demand * policy.lead_time_days) + safety_stock(demand, policy)


def assess(available: int, demand: Decimal, policy: ReorderPolicy) -> Assessment:
    """Whether stock is below its reorder point, and how much to order to cover the lead
    time, the safety stock and `cover_days` more."""
    point = reorder_point(demand, policy)
    low = available < point
    target = point + math.ceil(demand * policy.cover_days)
    return Assessment(
        available=available,
        daily_demand=demand,
        safety_stock=safety_stock(demand, policy),
        reorder_point=point,
        low=low,
        suggested_quantity=max(0, target - available) if low else 0,
    )


def level_changed(state: LevelState, *, available: int, on_hand: int, at: datetime) -> LevelState:
    """The state after a level report; an older report than the one kept changes nothing."""
    if "changed_at" in state and datetime.fromisoformat(state["changed_at"]) > at:
        return state
    return {**state, "available": available, "on_hand": on_hand, "changed_at": at.isoformat()}


def as_of(state: LevelState, at: datetime) -> tuple[LevelState, datetime]:
    """The state with the latest time anything was heard of the place, and that time.

    Levels and reservations reach a place from several partitions, not in time order;
    demand is measured up to the latest of them, so the last assessment sees them all.
    """
    if "as_of" in state and datetime.fromisoformat(state["as_of"]) >= at:
        return state, datetime.fromisoformat(state["as_of"])
    return {**state, "as_of": at.isoformat()}, at


def mark(state: LevelState, assessment: Assessment, at: datetime) -> tuple[LevelState, bool]:
    """The state with its low flag updated, and whether it just went low (alert once)."""
    was_low = state.get("low", False)
    if assessment.low == was_low:
        return state, False
    if assessment.low:
        return {**state, "low": True, "low_since": at.isoformat()}, True
    cleared: LevelState = {**state, "low": False}
    cleared.pop("low_since", None)
    return cleared, False
