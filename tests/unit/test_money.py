"""The money of an order: minor units, rounding, allocation that never loses a minor unit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.money import UnknownCurrency, allocate, fits, minor_units, money, text


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("EUR", 2),
        ("USD", 2),
        ("KWD", 3),
        ("BHD", 3),
        ("OMR", 3),
        ("JOD", 3),
        ("TND", 3),
    ],
)
def test_minor_units_are_iso_4217(currency: str, places: int) -> None:
    assert minor_units(currency) == places


def test_an_unknown_currency_is_refused_not_guessed() -> None:
    with pytest.raises(UnknownCurrency, match="'XYZ' is not an ISO 4217"):
        minor_units("XYZ")
    with pytest.raises(UnknownCurrency):
        money(Decimal("1.005"), "eur")


def test_rounding_is_half_up_in_the_currency_s_units() -> None:
    assert money(Decimal("2.345"), "USD") == Decimal("2.35")
    assert money(Decimal("2.355"), "USD") == Decimal("2.36")
    assert money(Decimal("0.0005"), "KWD") == Decimal("0.001")
    assert money(Decimal("99.5"), "JPY") == Decimal("100")
    assert text(Decimal("1200"), "JPY") == "1200"
    assert text(Decimal("1.2"), "KWD") == "1.200"
    assert fits(Decimal("1.234"), "KWD") and not fits(Decimal("1.234"), "EUR")


def test_shopify_sample_discount_over_two_lines_of_the_same_sku() -> None:
    # Shopify's sample orders/create: two lines of $199.00, $20.00 of discounts.
    assert allocate(Decimal("20.00"), [Decimal("199.00"), Decimal("199.00")], "USD") == [
        Decimal("10.00"),
        Decimal("10.00"),
    ]


def test_an_odd_minor_unit_goes_to_the_largest_remainder() -> None:
    assert allocate(Decimal("0.10"), [Decimal(1)] * 3, "EUR") == [
        Decimal("0.04"),
        Decimal("0.03"),
        Decimal("0.03"),
    ]
    assert allocate(Decimal("100"), [Decimal(1000), Decimal(2000), Decimal(3000)], "JPY") == [
        Decimal(17),
        Decimal(33),
        Decimal(50),
    ]
    assert sum(allocate(Decimal("1.000"), [Decimal("0.333")] * 3, "KWD")) == Decimal("1.000")


def test_nothing_to_allocate_over_nothing() -> None:
    assert allocate(Decimal(0), [], "EUR") == []
    assert allocate(Decimal(0), [Decimal(0), Decimal(0)], "EUR") == [Decimal("0.00")] * 2
    with pytest.raises(ValueError, match="no lines"):
        allocate(Decimal(1), [], "EUR")
    with pytest.raises(ValueError, match="negative"):
        allocate(Decimal(-1), [Decimal(1)], "EUR")


@st.composite
def orders(draw: st.DrawFn) -> tuple[str, list[Decimal], Decimal]:
    currency = draw(st.sampled_from(["JPY", "EUR", "USD", "KWD", "BHD"]))
    unit = Decimal(1).scaleb(-minor_units(currency))
    lines = draw(st.lists(st.integers(0, 10**9), min_size=1, max_size=30))
    subtotals = [Decimal(units) * unit for units in lines]
    whole = sum(lines)
    discount_units = draw(st.integers(0, whole)) if whole else 0
    return currency, subtotals, Decimal(discount_units) * unit


@given(orders())
def test_allocated_discounts_sum_exactly_and_no_line_is_paid_below_zero(
    order: tuple[str, list[Decimal], Decimal],
) -> None:
    currency, subtotals, discount = order
    shares = allocate(discount, subtotals, currency)
    assert sum(shares, Decimal(0)) == discount
    assert all(fits(share, currency) for share in shares)
    pairs = zip(shares, subtotals, strict=True)
    assert all(share >= 0 and subtotal - share >= 0 for share, subtotal in pairs)
