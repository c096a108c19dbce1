"""Returns domain: what a shipped order allows to be returned, received and refunded."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.returns_service.domain import (
    AmountPlacesError,
    OverRefundError,
    ReceiveQuantityError,
    RefundQuantityError,
    RefundReason,
    Return,
    ReturnQuantityError,
    ReturnStatus,
    ShippedOrder,
    SkuNotShippedError,
    add_receipt,
    line_summary,
    refund_id_for,
    return_id_for,
    shipped_order_id_for,
)
from shared.money import minor_units
from tests.factories_returns_service import MUG, TEE


def shipped_order(
    lines=None, shipments=None, currency: str = "EUR", short_lines=None, shipping_paid=None
) -> ShippedOrder:
    return ShippedOrder(
        order_id=uuid4(),
        currency=currency,
        short_lines=short_lines,
        shipping_paid=shipping_paid,
        lines=lines
        or [
            {"sku": TEE, "quantity": 2, "unit_price": "24.90"},
            {"sku": MUG, "quantity": 1, "unit_price": "14.50"},
        ],
        shipments=shipments
        or [
            {"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": 2}]},
            {"location_id": "WH-HAM", "lines": [{"sku": MUG, "quantity": 1}]},
        ],
    )


def received(sku: str, quantity: int, condition: str = "sellable") -> dict:
    return {"sku": sku, "quantity": quantity, "condition": condition}


def test_the_shipped_order_id_is_derived_from_the_order_id():
    order = shipped_order()
    assert order.id == shipped_order_id_for(order.order_id)


def test_the_same_idempotency_key_names_the_same_return_and_no_key_a_new_one():
    assert return_id_for("key-1") == return_id_for("key-1")
    assert return_id_for("key-1") != return_id_for("key-2")
    assert return_id_for(None) != return_id_for(None)


def test_a_return_may_ask_for_shipped_units_not_on_another_return():
    order = shipped_order()
    order.authorise_return(uuid4(), [{"sku": TEE, "quantity": 1}])
    assert order.returnable(TEE) == 1
    with pytest.raises(ReturnQuantityError) as refused:
        order.authorise_return(uuid4(), [{"sku": TEE, "quantity": 2}])
    assert refused.value.details() == {"sku": TEE, "returnable": 1}
    assert order.returnable(TEE) == 1


def test_a_sku_that_never_shipped_cannot_be_returned():
    with pytest.raises(SkuNotShippedError) as refused:
        shipped_order().authorise_return(uuid4(), [{"sku": "SOCK-1", "quantity": 1}])
    assert refused.value.details() == {"sku": "SOCK-1", "returnable": 0}


def test_refund_is_the_price_paid_for_the_received_units():
    order = shipped_order()
    settlement = order.settle_receipt(uuid4(), 1, [received(TEE, 2)])
    assert settlement["amount"] == "49.80"
    assert settlement["refund_lines"] == [{"sku": TEE, "quantity": 2, "amount": "49.80"}]
    assert settlement["capped"] is False
    assert settlement["currency"] == "EUR"


def test_received_units_go_back_to_the_location_that_shipped_them():
    order = shipped_order()
    settlement = order.settle_receipt(uuid4(), 1, [received(TEE, 1), received(MUG, 1, "damaged")])
    assert settlement["lines"] == [
        {"sku": TEE, "quantity": 1, "condition": "sellable", "location_id": "WH-BER"},
        {"sku": MUG, "quantity": 1, "condition": "damaged", "location_id": "WH-HAM"},
    ]


def test_a_sku_split_over_two_locations_comes_back_to_each_no_more_than_it_shipped():
    order = shipped_order(
        lines=[{"sku": TEE, "quantity": 3, "unit_price": "10.00"}],
        shipments=[
            {"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": 2}]},
            {"location_id": "WH-HAM", "lines": [{"sku": TEE, "quantity": 1}]},
        ],
    )
    first = order.settle_receipt(uuid4(), 1, [received(TEE, 1)])
    second = order.settle_receipt(uuid4(), 1, [received(TEE, 2)])
    assert [(line["location_id"], line["quantity"]) for line in first["lines"]] == [("WH-BER", 1)]
    assert [(line["location_id"], line["quantity"]) for line in second["lines"]] == [
        ("WH-BER", 1),
        ("WH-HAM", 1),
    ]


def test_refunds_never_exceed_what_was_paid_and_say_when_they_were_cut():
    # 3 x 0.335 = 1.005 paid; a unit rounds to 0.34, so three of them would be 1.02.
    order = shipped_order(
        lines=[{"sku": TEE, "quantity": 3, "unit_price": "0.335"}],
        shipments=[{"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": 3}]}],
    )
    # Two of three units back: two thirds of 1.005 paid, cut down to cents, not 2 x 0.34.
    first = order.settle_receipt(uuid4(), 1, [received(TEE, 2)])
    last = order.settle_receipt(uuid4(), 2, [received(TEE, 1)])
    assert (first["amount"], first["full_amount"], first["capped"]) == ("0.67", "0.68", True)
    assert (last["amount"], last["full_amount"], last["capped"]) == ("0.33", "0.34", True)
    assert Decimal(first["amount"]) + Decimal(last["amount"]) <= Decimal("1.005")


@pytest.mark.parametrize(
    ("currency", "unit_price", "refund"),
    [("KWD", "1.235", "2.470"), ("BHD", "0.125", "0.250"), ("JPY", "1200", "2400")],
)
def test_refunds_keep_the_currency_s_own_minor_units(currency, unit_price, refund):
    # Refunds were cut to cents: 2 x 1.235 KWD paid back 2.47, and JPY came out as "2400.00".
    order = shipped_order(
        lines=[{"sku": TEE, "quantity": 2, "unit_price": unit_price}],
        shipments=[{"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": 2}]}],
        currency=currency,
    )
    settlement = order.settle_receipt(uuid4(), 1, [received(TEE, 2)])
    assert (settlement["amount"], settlement["capped"]) == (refund, False)
    assert settlement["refund_lines"][0]["amount"] == refund


@settings(max_examples=200, deadline=None)
@given(
    currency=st.sampled_from(["EUR", "KWD", "JPY", "BHD", "USD"]),
    lines=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 10**7)), min_size=1, max_size=3),
    takes=st.lists(st.integers(1, 5), min_size=1, max_size=6),
)
def test_refunds_in_parts_never_exceed_what_was_paid_in_any_currency(currency, lines, takes):
    unit = Decimal(1).scaleb(-minor_units(currency))
    order_lines = [
        {"sku": TEE, "quantity": quantity, "unit_price": str(minor * unit)}
        for quantity, minor in lines
    ]
    shipped = sum(quantity for quantity, _ in lines)
    order = shipped_order(
        lines=order_lines,
        shipments=[{"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": shipped}]}],
        currency=currency,
    )
    paid = sum(Decimal(line["unit_price"]) * line["quantity"] for line in order_lines)
    refunded, left = Decimal(0), shipped
    for sequence, take in enumerate(takes, start=1):
        take = min(take, left)
        if not take:
            break
        settlement = order.settle_receipt(uuid4(), sequence, [received(TEE, take)])
        amount = Decimal(settlement["amount"])
        assert amount == amount.quantize(unit), f"{amount} has more places than {currency}"
        refunded += amount
        left -= take
    assert refunded <= paid
    if left == 0:
        assert refunded == paid  # a full return refunds exactly what was paid


def test_a_sku_on_lines_with_different_prices_is_refunded_at_most_its_total():
    order = shipped_order(
        lines=[
            {"sku": TEE, "quantity": 1, "unit_price": "10.00"},
            {"sku": TEE, "quantity": 2, "unit_price": "10.01"},
        ],
        shipments=[{"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": 3}]}],
    )
    amounts = [order.settle_receipt(uuid4(), n, [received(TEE, 1)])["amount"] for n in (1, 2, 3)]
    assert sum(Decimal(a) for a in amounts) == Decimal("30.02")


def new_return(lines=None) -> Return:
    return Return(
        return_id=uuid4(),
        order_id=uuid4(),
        currency="EUR",
        lines=lines or [{"sku": TEE, "quantity": 2, "reason": "too small"}],
        idempotency_key=None,
    )


def settlement_for(*lines: dict, sequence: int = 1) -> dict:
    located = [{**line, "location_id": "WH-BER"} for line in lines]
    refund = [
        {"sku": line["sku"], "quantity": line["quantity"], "amount": "1.00"} for line in lines
    ]
    return {
        "sequence": sequence,
        "lines": located,
        "refund_lines": refund,
        "amount": "1.00",
        "full_amount": "1.00",
        "capped": False,
        "currency": "EUR",
    }


def test_a_return_is_received_in_parts_then_in_full():
    rma = new_return()
    assert rma.status == ReturnStatus.REQUESTED
    rma.receive(settlement_for(received(TEE, 1)), None)
    assert rma.status == ReturnStatus.PARTIALLY_RECEIVED
    rma.receive(settlement_for(received(TEE, 1, "damaged"), sequence=2), None)
    assert rma.status == ReturnStatus.RECEIVED
    assert [r["refund_id"] for r in rma.refunds] == [
        refund_id_for(rma.id, 1),
        refund_id_for(rma.id, 2),
    ]
    assert rma.line_summary() == [
        {
            "sku": TEE,
            "reason": "too small",
            "requested": 2,
            "received": 2,
            "sellable": 1,
            "damaged": 1,
        }
    ]


def test_a_return_refuses_units_it_did_not_request_or_already_received():
    rma = new_return()
    rma.receive(settlement_for(received(TEE, 2)), None)
    with pytest.raises(ReceiveQuantityError) as refused:
        rma.check_receivable([received(TEE, 1)])
    assert refused.value.details() == {"sku": TEE, "receivable": 0}
    with pytest.raises(ReceiveQuantityError):
        rma.check_receivable([received(MUG, 1)])
    assert len(rma.receipts) == 1


def test_the_line_summary_counts_received_units_per_condition():
    summary = line_summary([{"sku": TEE, "quantity": 3, "reason": "broken"}])
    summary = add_receipt(summary, [received(TEE, 1), received(TEE, 2, "damaged")])
    assert summary[0] == {
        "sku": TEE,
        "reason": "broken",
        "requested": 3,
        "received": 3,
        "sellable": 1,
        "damaged": 2,
    }


def test_shopify_s_sample_order_refunds_what_was_paid_after_its_discount_not_the_list_price():
    # Two units at $199 with $20 of discounts: $378 paid for the items ($388 with shipping);
    # refunding both units at the list price paid back $398.
    order = shipped_order(
        lines=[
            {"sku": TEE, "quantity": 1, "unit_price": "199.00", "paid": "189.00"},
            {"sku": TEE, "quantity": 1, "unit_price": "199.00", "paid": "189.00"},
        ],
        shipments=[{"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": 2}]}],
        currency="USD",
    )
    first = order.settle_receipt(uuid4(), 1, [received(TEE, 1)])
    second = order.settle_receipt(uuid4(), 2, [received(TEE, 1)])
    assert (first["amount"], second["amount"]) == ("189.00", "189.00")


def test_taxes_paid_on_top_of_the_price_are_refunded_with_the_unit():
    # Prices without tax: 2 x 10.000 KWD + 5 % = 21.000 paid.
    order = shipped_order(
        lines=[{"sku": TEE, "quantity": 2, "unit_price": "10.000", "paid": "21.000"}],
        shipments=[{"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": 2}]}],
        currency="KWD",
    )
    assert order.settle_receipt(uuid4(), 1, [received(TEE, 1)])["amount"] == "10.500"


@settings(max_examples=200, deadline=None)
@given(
    currency=st.sampled_from(["EUR", "KWD", "JPY", "BHD", "USD"]),
    lines=st.lists(
        st.tuples(
            st.integers(1, 5),  # quantity
            st.integers(0, 10**6),  # unit price in minor units
            st.integers(0, 100),  # discount, percent of the line
            st.sampled_from([0, 5, 7, 10, 20]),  # tax rate, percent, on top of the price
        ),
        min_size=1,
        max_size=4,
    ),
    takes=st.lists(st.integers(1, 5), min_size=1, max_size=8),
)
def test_refunds_of_discounted_and_taxed_lines_never_exceed_what_was_paid(currency, lines, takes):
    unit = Decimal(1).scaleb(-minor_units(currency))
    order_lines = []
    for quantity, minor, discount_percent, tax_percent in lines:
        subtotal = minor * unit * quantity
        after = subtotal - (subtotal * discount_percent / 100).quantize(unit)
        paid = after + (after * tax_percent / 100).quantize(unit)
        order_lines.append(
            {"sku": TEE, "quantity": quantity, "unit_price": str(minor * unit), "paid": str(paid)}
        )
    shipped = sum(line["quantity"] for line in order_lines)
    order = shipped_order(
        lines=order_lines,
        shipments=[{"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": shipped}]}],
        currency=currency,
    )
    paid = sum(Decimal(line["paid"]) for line in order_lines)
    refunded, left = Decimal(0), shipped
    for sequence, take in enumerate(takes, start=1):
        take = min(take, left)
        if not take:
            break
        amount = Decimal(order.settle_receipt(uuid4(), sequence, [received(TEE, take)])["amount"])
        assert amount >= 0 and amount == amount.quantize(unit)
        refunded += amount
        left -= take
    assert refunded <= paid
    if left == 0:
        assert refunded == paid  # a full return refunds exactly what was paid, discounts and all


# -- refunds without a return and short picks: never more than was paid ------------------------


def short_shipped_order(currency: str = "EUR") -> ShippedOrder:
    """Two tees ordered at 24.90 paid each, one shipped and one short; a mug at 14.50 shipped."""
    return shipped_order(
        lines=[
            {"sku": TEE, "quantity": 1, "unit_price": "24.90", "paid": "24.90"},
            {"sku": MUG, "quantity": 1, "unit_price": "14.50"},
        ],
        shipments=[{"location_id": "WH-BER", "lines": [{"sku": TEE, "quantity": 1}, item(MUG)]}],
        short_lines=[{"sku": TEE, "quantity": 1, "paid": "24.90"}],
        currency=currency,
    )


def item(sku: str, quantity: int = 1) -> dict:
    return {"sku": sku, "quantity": quantity}


def test_an_order_owes_what_was_paid_for_its_shipped_and_its_short_units():
    order = short_shipped_order()
    assert (order.paid_total, order.refundable) == (Decimal("64.30"), Decimal("64.30"))
    assert (order.short[TEE], order.short_refundable(TEE), order.returnable(TEE)) == (1, 1, 1)


def test_short_units_are_refunded_at_what_was_paid_for_them_once():
    order = short_shipped_order()
    settlement = order.settle_short_pick(uuid4())
    assert settlement is not None
    assert (settlement["amount"], settlement["short"], settlement["kind"]) == (
        "24.90",
        True,
        "units",
    )
    assert settlement["lines"] == [{"sku": TEE, "quantity": 1, "amount": "24.90"}]
    assert order.settle_short_pick(uuid4()) is None  # nothing short is left to refund
    assert order.returnable(TEE) == 1  # the shipped tee may still come back
    assert order.refundable == Decimal("39.40")


def test_an_amount_refund_is_money_only_and_capped_by_what_is_left_of_the_order():
    order = short_shipped_order()
    settlement = order.settle_refund(uuid4(), RefundReason.GOODWILL, amount=Decimal("10.00"))
    assert (settlement["kind"], settlement["amount"]) == ("amount", "10.00")
    assert sum(Decimal(line["amount"]) for line in settlement["lines"]) == Decimal("10.00")
    assert order.returnable(TEE) == 1 and order.short_refundable(TEE) == 1  # no unit refunded
    with pytest.raises(OverRefundError) as refused:
        order.settle_refund(uuid4(), RefundReason.GOODWILL, amount=Decimal("54.31"))
    assert refused.value.details() == {"refundable": "54.30", "currency": "EUR"}
    assert "54.30" in str(refused.value)


@pytest.mark.parametrize(
    ("currency", "amount"), [("EUR", "1.001"), ("JPY", "1.5"), ("KWD", "0.0001")]
)
def test_an_amount_with_more_places_than_the_currency_is_refused(currency, amount):
    order = short_shipped_order(currency)
    with pytest.raises(AmountPlacesError):
        order.settle_refund(uuid4(), RefundReason.GOODWILL, amount=Decimal(amount))
    assert order.refund_ids == []


def test_units_refunded_without_a_return_can_no_longer_be_returned_nor_refunded_again():
    order = short_shipped_order()
    lost = order.settle_refund(uuid4(), RefundReason.LOST_PARCEL, lines=[item(TEE)])
    assert (lost["amount"], lost["short"]) == ("24.90", False)
    assert order.returnable(TEE) == 0
    with pytest.raises(RefundQuantityError) as refused:
        order.settle_refund(uuid4(), RefundReason.LOST_PARCEL, lines=[item(TEE)])
    assert refused.value.details() == {"sku": TEE, "refundable": 0}
    with pytest.raises(ReturnQuantityError):
        order.authorise_return(uuid4(), [{"sku": TEE, "quantity": 1, "reason": "x"}])


def test_a_refund_names_only_skus_and_units_the_order_has():
    order = short_shipped_order()
    with pytest.raises(RefundQuantityError):
        order.settle_refund(uuid4(), RefundReason.LOST_PARCEL, lines=[item("SOCK-1")])
    with pytest.raises(RefundQuantityError):  # one tee shipped
        order.settle_refund(uuid4(), RefundReason.LOST_PARCEL, lines=[item(TEE, 2)])
    with pytest.raises(RefundQuantityError):  # the mug was not short
        order.settle_refund(uuid4(), RefundReason.SHORT_PICK, lines=[item(MUG)])
    assert order.refund_ids == []


def test_an_amount_for_units_pays_back_that_much_of_them_and_no_more():
    order = short_shipped_order()
    with pytest.raises(OverRefundError) as refused:
        order.settle_refund(uuid4(), RefundReason.LOST_PARCEL, [item(MUG)], Decimal("14.51"))
    assert refused.value.refundable == "14.50"
    half = order.settle_refund(uuid4(), RefundReason.LOST_PARCEL, [item(MUG)], Decimal("7.25"))
    assert (half["amount"], half["lines"][0]["amount"], half["capped"]) == ("7.25", "7.25", False)


def test_a_return_after_goodwill_is_cut_to_what_is_left_of_the_order():
    order = short_shipped_order()
    order.settle_short_pick(uuid4())
    order.settle_refund(uuid4(), RefundReason.GOODWILL, amount=Decimal("30.00"))
    settlement = order.settle_receipt(uuid4(), 1, [received(TEE, 1), received(MUG, 1)])
    assert (settlement["amount"], settlement["capped"]) == ("9.40", True)
    assert order.refunded_total == order.paid_total == Decimal("64.30")


@settings(max_examples=200, deadline=None)
@given(
    currency=st.sampled_from(["EUR", "KWD", "JPY", "BHD", "USD"]),
    lines=st.lists(
        st.tuples(
            st.sampled_from([TEE, MUG]),
            st.integers(1, 4),  # units shipped
            st.integers(0, 3),  # units short
            st.integers(0, 10**6),  # what was paid for the line, in minor units
        ),
        min_size=1,
        max_size=4,
    ),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["return", "lost", "short", "amount", "short_all"]),
            st.sampled_from([TEE, MUG]),
            st.integers(1, 3),
            st.integers(1, 10**6),
        ),
        max_size=10,
    ),
    shipping=st.integers(0, 10**5),  # what was paid for shipping, in minor units
)
def test_returns_and_refunds_without_a_return_never_exceed_what_was_paid(
    currency, lines, steps, shipping
):
    unit = Decimal(1).scaleb(-minor_units(currency))
    order_lines, short_lines, shipped_units, paid = [], [], {}, shipping * unit
    for sku, shipped, short, minor in lines:
        # What was paid for the line, split between its shipped and short units as the order
        # service splits it: the shipped part cut down, the short part the rest.
        line_paid = minor * unit
        cut = (line_paid * shipped / (shipped + short)).quantize(unit, ROUND_DOWN)
        order_lines.append({"sku": sku, "quantity": shipped, "unit_price": "0", "paid": str(cut)})
        if short:
            short_lines.append({"sku": sku, "quantity": short, "paid": str(line_paid - cut)})
        shipped_units[sku] = shipped_units.get(sku, 0) + shipped
        paid += line_paid
    order = shipped_order(
        lines=order_lines,
        shipments=[
            {"location_id": "WH-BER", "lines": [item(s, q) for s, q in shipped_units.items()]}
        ],
        short_lines=short_lines,
        currency=currency,
        shipping_paid=str(shipping * unit),
    )
    assert order.paid_total == paid  # the two parts add up to exactly what was paid
    refunded, sequence = Decimal(0), 0
    for action, sku, quantity, minor in steps:
        try:
            if action == "return":
                take = min(quantity, order.returnable(sku))
                if not take:
                    continue
                rma = uuid4()
                order.authorise_return(rma, [{"sku": sku, "quantity": take, "reason": "x"}])
                sequence += 1
                back = [received(sku, take)]
                amount = order.settle_receipt(rma, sequence, back, refund_shipping=True)["amount"]
            elif action == "lost":
                lines_ = [item(sku, quantity)]
                amount = order.settle_refund(uuid4(), RefundReason.LOST_PARCEL, lines_)["amount"]
            elif action == "short":
                lines_ = [item(sku, quantity)]
                amount = order.settle_refund(uuid4(), RefundReason.SHORT_PICK, lines_)["amount"]
            elif action == "short_all":
                settlement = order.settle_short_pick(uuid4())
                amount = settlement["amount"] if settlement else "0"
            else:
                reason = RefundReason.GOODWILL
                amount = order.settle_refund(uuid4(), reason, amount=minor * unit)["amount"]
        except (OverRefundError, RefundQuantityError):
            continue  # refused: nothing recorded
        assert Decimal(amount) >= 0 and Decimal(amount) == Decimal(amount).quantize(unit)
        refunded += Decimal(amount)
        assert refunded <= paid
        assert order.refunded_total == refunded
    assert order.refundable == (paid - refunded).quantize(unit, ROUND_DOWN)


@settings(max_examples=100, deadline=None)
@given(
    currency=st.sampled_from(["EUR", "KWD", "JPY"]),
    lines=st.lists(
        st.tuples(st.integers(1, 5), st.integers(0, 4), st.integers(0, 10**6)),
        min_size=1,
        max_size=3,
    ),
    shipping=st.integers(0, 10**5),
)
def test_the_short_pick_refund_and_a_full_return_of_what_shipped_add_up_to_what_was_paid(
    currency, lines, shipping
):
    unit = Decimal(1).scaleb(-minor_units(currency))
    order_lines, short_lines, paid, shipped_total = [], [], shipping * unit, 0
    for shipped, short, minor in lines:
        line_paid = minor * unit
        cut = (line_paid * shipped / (shipped + short)).quantize(unit, ROUND_DOWN)
        order_lines.append({"sku": TEE, "quantity": shipped, "unit_price": "0", "paid": str(cut)})
        if short:
            short_lines.append({"sku": TEE, "quantity": short, "paid": str(line_paid - cut)})
        paid += line_paid
        shipped_total += shipped
    order = shipped_order(
        lines=order_lines,
        shipments=[{"location_id": "WH-BER", "lines": [item(TEE, shipped_total)]}],
        short_lines=short_lines,
        currency=currency,
        shipping_paid=str(shipping * unit),
    )
    short_refund = order.settle_short_pick(uuid4())
    rma = uuid4()
    order.authorise_return(rma, [{"sku": TEE, "quantity": shipped_total, "reason": "x"}])
    back = order.settle_receipt(rma, 1, [received(TEE, shipped_total)], refund_shipping=True)
    total = Decimal(back["amount"]) + Decimal(short_refund["amount"] if short_refund else 0)
    assert total == paid  # lines, short units and shipping: all of it, exactly
    assert Decimal(back.get("shipping", "0")) == shipping * unit


# -- shipping, by the shipping rule -------------------------------------------------------------


def test_shipping_goes_back_with_the_receipt_that_completes_the_return():
    order = shipped_order(shipping_paid="4.90")  # 2 TEE at 24.90, 1 MUG at 14.50
    rma = uuid4()
    order.authorise_return(
        rma,
        [{"sku": TEE, "quantity": 2, "reason": "x"}, {"sku": MUG, "quantity": 1, "reason": "x"}],
    )

    first = order.settle_receipt(rma, 1, [received(TEE, 2)], refund_shipping=True)
    last = order.settle_receipt(rma, 2, [received(MUG, 1)], refund_shipping=True)

    assert (first["amount"], "shipping" in first) == ("49.80", False)
    assert (last["amount"], last["shipping"]) == ("19.40", "4.90")
    assert order.refunded_total == order.paid_total == Decimal("69.20")


def test_with_the_rule_never_shipping_stays_refundable_as_an_amount_only():
    order = shipped_order(shipping_paid="4.90")
    rma = uuid4()
    order.authorise_return(
        rma,
        [{"sku": TEE, "quantity": 2, "reason": "x"}, {"sku": MUG, "quantity": 1, "reason": "x"}],
    )

    back = order.settle_receipt(rma, 1, [received(TEE, 2), received(MUG, 1)])

    assert (back["amount"], "shipping" in back) == ("64.30", False)
    assert order.refundable == Decimal("4.90")
    goodwill = order.settle_refund(uuid4(), RefundReason.GOODWILL, amount=Decimal("4.90"))
    assert goodwill["amount"] == "4.90"
    assert order.refundable == 0


def test_shipping_is_cut_to_what_is_left_after_goodwill():
    order = shipped_order(shipping_paid="4.90")
    order.settle_refund(uuid4(), RefundReason.GOODWILL, amount=Decimal("10.00"))
    rma = uuid4()
    order.authorise_return(
        rma,
        [{"sku": TEE, "quantity": 2, "reason": "x"}, {"sku": MUG, "quantity": 1, "reason": "x"}],
    )

    back = order.settle_receipt(rma, 1, [received(TEE, 2), received(MUG, 1)], refund_shipping=True)

    assert Decimal(back["amount"]) + Decimal("10.00") == order.paid_total == Decimal("69.20")
    assert back["capped"] is True
