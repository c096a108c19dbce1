"""News of N units of a SKU spread over the channel lines of that SKU (lines are never merged)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.channel_gateway.channels.http import Job, LinePart, spread_units
from shared.money import minor_units


def refs(*quantities: int | None, sku: str = "TEE") -> list[dict[str, Any]]:
    """Line refs of one SKU, line ids 1, 2, ... (None: a ref kept before quantities were)."""
    return [
        {"sku": sku, "line_id": index, **({} if q is None else {"quantity": q})}
        for index, q in enumerate(quantities, start=1)
    ]


def job(lines: list[dict[str, Any]], currency: str = "EUR", **order: Any) -> Job:
    return Job(
        delivery_id=uuid.uuid4(),
        action="refund",
        external_id="1",
        details={"currency": currency},
        order={"refs": {"lines": lines}, "currency": currency, **order},
    )


def placed(parts: list[LinePart]) -> list[tuple[Any, int]]:
    return [(part.ref.get("line_id"), part.quantity) for part in parts]


def test_units_fill_the_sku_s_lines_in_order_each_up_to_its_own_quantity():
    assert placed(spread_units(refs(1, 1), 2)) == [(1, 1), (2, 1)]
    assert placed(spread_units(refs(2, 3), 4)) == [(1, 2), (2, 2)]
    assert placed(spread_units(refs(2, 3), 1)) == [(1, 1)]


def test_units_earlier_news_took_are_skipped():
    assert placed(spread_units(refs(1, 1), 1, before=1)) == [(2, 1)]
    assert placed(spread_units(refs(2, 3), 2, before=1)) == [(1, 1), (2, 1)]


def test_units_beyond_every_line_go_to_the_last_and_refs_without_quantities_take_all():
    assert placed(spread_units(refs(1, 1), 3)) == [(1, 1), (2, 2)]
    assert placed(spread_units(refs(None, None), 2, before=1)) == [(1, 2)]  # as before
    assert placed(spread_units([], 2)) == [(None, 2)]


def test_only_the_sku_s_own_lines_are_used_and_the_amount_is_shared_exactly():
    lines = refs(1, sku="MUG") + refs(1, 1)

    parts = job(lines).spread("TEE", 2, "30.01")

    assert [(p.ref["sku"], p.quantity, p.amount) for p in parts] == [
        ("TEE", 1, Decimal("15.01")),  # the odd cent to the earlier line
        ("TEE", 1, Decimal("15.00")),
    ]


def test_shares_are_told_in_the_currency_s_minor_units_a_zero_share_too():
    assert [p.amount_text for p in job(refs(1, 1)).spread("TEE", 2, "0.01")] == ["0.01", "0.00"]
    assert [p.amount_text for p in job(refs(1, 1), "JPY").spread("TEE", 2, "1001")] == [
        "501",
        "500",
    ]


def test_a_later_refund_of_a_sku_goes_to_the_line_not_yet_refunded():
    parts = job(refs(1, 1), units_before={"TEE": 1}).spread("TEE", 1, "12.45")

    assert [(p.ref["line_id"], p.quantity, p.amount) for p in parts] == [(2, 1, Decimal("12.45"))]


@settings(max_examples=200, deadline=None)
@given(
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
    quantities=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    before=st.integers(0, 5),
    units=st.integers(1, 12),
    minor=st.integers(0, 10**7),
)
def test_every_unit_and_every_minor_unit_is_told_once(currency, quantities, before, units, minor):
    unit = Decimal(1).scaleb(-minor_units(currency))
    amount = minor * unit

    parts = job(refs(*quantities), currency).spread("TEE", units, amount)
    parts_before = spread_units(refs(*quantities), before)
    after = spread_units(refs(*quantities), units, before)

    shares = [p.amount or Decimal(0) for p in parts]
    assert sum(p.quantity for p in parts) == units
    assert sum(shares, Decimal(0)) == amount
    assert all(share == share.quantize(unit) for share in shares)
    if before + units <= sum(quantities):  # within the lines: no line is told of too much
        told: dict[int, int] = {}
        for part in parts_before + after:
            told[part.ref["line_id"]] = told.get(part.ref["line_id"], 0) + part.quantity
        assert all(told[i] <= quantities[i - 1] for i in told)
