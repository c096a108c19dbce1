"""The stream jobs' pure computations: hour buckets, revenue, medians, rates, reorder points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.stream_jobs.domain import (
    OrderFacts,
    PricedLine,
    ReorderPolicy,
    Reservation,
    as_of,
    assess,
    backordered,
    bucket_of,
    cancelled,
    channel_hour_kpis,
    daily_demand,
    hour_of,
    level_changed,
    mark,
    median_seconds,
    order_revenue,
    placed,
    reorder_point,
    shipped,
    to_minor_units,
)
from shared.money import UnknownCurrency

T0 = datetime(2026, 11, 29, 9, 41, 13, tzinfo=UTC)


# -- hour buckets ---------------------------------------------------------------------------


def test_an_hour_bucket_starts_at_the_full_utc_hour():
    assert hour_of(T0) == datetime(2026, 11, 29, 9, tzinfo=UTC)


def test_an_hour_bucket_of_a_time_with_an_offset_is_the_utc_hour():
    bangkok = timezone(timedelta(hours=7))
    assert hour_of(datetime(2026, 11, 29, 0, 30, tzinfo=bangkok)) == datetime(
        2026, 11, 28, 17, tzinfo=UTC
    )


def test_an_hour_bucket_of_a_half_hour_offset_lands_on_the_right_utc_hour():
    india = timezone(timedelta(hours=5, minutes=30))
    assert hour_of(datetime(2026, 11, 29, 10, 15, tzinfo=india)) == datetime(
        2026, 11, 29, 4, tzinfo=UTC
    )


def test_a_naive_time_has_no_hour_bucket():
    with pytest.raises(ValueError, match="no UTC offset"):
        hour_of(datetime(2026, 11, 29, 9, 41))


def test_an_order_counts_in_the_channel_and_hour_it_was_placed_in():
    facts = placed(
        {}, channel="web", placed_at=T0, currency="EUR", units=1, revenue=Decimal("1.00")
    )
    assert bucket_of(facts) == ("web", datetime(2026, 11, 29, 9, tzinfo=UTC))
    assert bucket_of(backordered({})) is None


# -- money ----------------------------------------------------------------------------------


def test_revenue_of_a_three_decimal_currency_keeps_every_fils():
    assert to_minor_units(Decimal("12.345"), "KWD") == 12345
    assert to_minor_units(Decimal("2.470"), "KWD") == 2470


def test_revenue_in_minor_units_follows_the_currency():
    assert to_minor_units(Decimal("24.90"), "EUR") == 2490
    assert to_minor_units(Decimal("1200"), "JPY") == 1200


def test_an_amount_finer_than_the_currency_is_refused_not_rounded():
    with pytest.raises(ValueError, match="minor units"):
        to_minor_units(Decimal("4.905"), "EUR")
    with pytest.raises(UnknownCurrency):
        to_minor_units(Decimal("1"), "XYZ")


def test_revenue_is_the_total_paid_when_told_else_the_lines():
    lines = [PricedLine(2, Decimal("1.235"), Decimal("2.000")), PricedLine(1, Decimal("0.500"))]
    assert order_revenue(lines, None) == Decimal("2.500")
    assert order_revenue(lines, Decimal("3.100")) == Decimal("3.100")


# -- medians and KPIs -----------------------------------------------------------------------


def test_the_median_of_an_odd_count_is_the_middle_value():
    assert median_seconds([300, 10, 20]) == Decimal(20)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two():
    assert median_seconds([10, 20, 31, 400]) == Decimal("25.5")


def test_there_is_no_median_of_nothing():
    assert median_seconds([]) is None


def _order(minutes_to_ship: int | None = None, **changes: object) -> OrderFacts:
    facts = placed(
        {}, channel="web", placed_at=T0, currency="KWD", units=3, revenue=Decimal("1.235")
    )
    if minutes_to_ship is not None:
        facts = shipped(
            facts,
            shipped_at=T0 + timedelta(minutes=minutes_to_ship),
            shipped_units=int(str(changes.pop("shipped_units", 3))),
            short_units=int(str(changes.pop("short_units", 0))),
        )
    return facts


def test_kpis_of_an_hour_count_orders_units_revenue_and_rates():
    orders = [
        _order(60),
        _order(120, shipped_units=2, short_units=1),
        backordered(_order()),
        cancelled(_order()),
    ]
    kpis = channel_hour_kpis("web", hour_of(T0), orders)
    assert (kpis.orders, kpis.units, kpis.shipped) == (4, 12, 2)
    assert kpis.revenue == {"KWD": 4940}
    assert kpis.backorder_rate == Decimal("0.2500")
    assert kpis.fill_rate == Decimal("0.8333")
    assert kpis.median_placed_to_shipped_seconds == Decimal(5400)
    assert (kpis.backordered, kpis.cancelled) == (1, 1)


def test_kpis_keep_each_currency_apart():
    euro = placed({}, channel="web", placed_at=T0, currency="EUR", units=1, revenue=Decimal("9.99"))
    kpis = channel_hour_kpis("web", hour_of(T0), [euro, _order()])
    assert kpis.revenue == {"EUR": 999, "KWD": 1235}


def test_an_hour_with_nothing_shipped_has_no_fill_rate_nor_median():
    kpis = channel_hour_kpis("web", hour_of(T0), [_order()])
    assert kpis.fill_rate is None
    assert kpis.median_placed_to_shipped_seconds is None
    assert kpis.backorder_rate == Decimal(0)


def test_facts_applied_twice_are_the_same_facts():
    once = shipped(backordered(_order()), shipped_at=T0, shipped_units=3, short_units=0)
    twice = shipped(backordered(backordered(once)), shipped_at=T0, shipped_units=3, short_units=0)
    assert once == twice
    again = placed(
        twice, channel="web", placed_at=T0, currency="KWD", units=3, revenue=Decimal("1.235")
    )
    assert again == once


# -- reorder points -------------------------------------------------------------------------

POLICY = ReorderPolicy(
    lead_time_days=Decimal(7),
    demand_window_days=7,
    safety_stock_days=Decimal(2),
    safety_stock_units=1,
    cover_days=Decimal(14),
)


def _reservation(units: int, days_ago: float) -> Reservation:
    return {"units": units, "at": (T0 - timedelta(days=days_ago)).isoformat()}


def test_demand_is_the_units_reserved_per_day_over_the_window():
    reservations = [
        _reservation(10, 1),
        _reservation(4, 6.9),
        _reservation(100, 7),
        _reservation(50, -1),
    ]
    assert daily_demand(reservations, T0, 7) == Decimal("2.0000")


def test_the_reorder_point_is_demand_over_the_lead_time_plus_safety_stock():
    # 2/day x 7 days = 14, safety 1 + 2/day x 2 days = 5
    assert reorder_point(Decimal(2), POLICY) == 19
    # fractions are rounded up, never down: 1.5 x 7 = 10.5 -> 11, safety 1 + 3 = 4
    assert reorder_point(Decimal("1.5"), POLICY) == 15


def test_stock_below_its_reorder_point_is_low_and_a_suggestion_covers_lead_time_and_cover():
    assessment = assess(available=11, demand=Decimal(2), policy=POLICY)
    assert assessment.low
    assert assessment.reorder_point == 19
    assert assessment.suggested_quantity == 19 + 28 - 11


def test_stock_at_its_reorder_point_is_not_low():
    assessment = assess(available=19, demand=Decimal(2), policy=POLICY)
    assert not assessment.low
    assert assessment.suggested_quantity == 0


def test_a_location_going_low_alerts_once_until_it_recovers():
    low = assess(available=1, demand=Decimal(2), policy=POLICY)
    fine = assess(available=50, demand=Decimal(2), policy=POLICY)
    state, alert = mark({}, low, T0)
    assert alert and state["low"]
    state, alert = mark(state, low, T0 + timedelta(hours=1))
    assert not alert
    state, alert = mark(state, fine, T0 + timedelta(hours=2))
    assert not alert and not state["low"]
    _, alert = mark(state, low, T0 + timedelta(hours=3))
    assert alert


def test_an_older_level_report_does_not_overwrite_a_newer_one():
    state = level_changed({}, available=5, on_hand=8, at=T0)
    assert level_changed(state, available=9, on_hand=9, at=T0 - timedelta(minutes=1)) == state
    assert level_changed(state, available=9, on_hand=9, at=T0)["available"] == 9


def test_demand_is_measured_up_to_the_latest_time_heard_of_a_place():
    state, at = as_of({}, T0)
    state, later = as_of(state, T0 - timedelta(days=3))
    assert later == at == T0
    assert as_of(state, T0 + timedelta(hours=1))[1] == T0 + timedelta(hours=1)
