"""An order's money and customer data in the gateway: discounts, taxes, odd currencies."""

from __future__ import annotations

from decimal import Decimal

from services.channel_gateway.application.canonical import CanonicalOrderModel
from services.channel_gateway.channels.base import Connection
from services.channel_gateway.channels.shopify import translate as shopify
from tests.fakes import payloads as p

AS_IS = Connection("shop", "shopify", {"require_sku_mapping": False})


def _item(index: int, sku: str, price: str, quantity: int = 1, **extra: object) -> dict:
    return {
        "id": 1000 + index,
        "sku": sku,
        "title": f"Item {index}",
        "quantity": quantity,
        "price": price,
        **extra,
    }


def test_shopify_s_sample_webhook_keeps_the_discount_the_state_and_the_company() -> None:
    result = shopify.translate(AS_IS, p.shopify_sample_order())

    assert not result.held, result.reasons
    order = result.order
    paid = sum(Decimal(line["paid"]) for line in order["lines"])
    discount = sum(Decimal(line["discount"]) for line in order["lines"])
    assert (discount, paid) == (Decimal("20.00"), Decimal("378.00"))  # + $10 shipping = $388
    assert {line["title"] for line in order["lines"]} == {"IPod Nano - 8GB"}
    ship = order["shipping_address"]
    assert ship["state"] == "Kentucky" and ship["state_code"] == "US-KY"
    assert ship["company"] == "Shipping Company"
    assert ship.get("line2") is None  # the company is no longer pushed into line 2
    assert ship["phone"] == "555-555-SHIP"


def test_shopify_line_discounts_and_exclusive_taxes_in_a_three_decimal_currency() -> None:
    payload = p.shopify_order(
        60,
        currency="KWD",
        taxes_included=False,
        total_discounts="1.000",
        line_items=[
            _item(
                1,
                "SHOP-TEE-BLK-M",
                "4.750",
                2,
                discount_allocations=[{"amount": "1.000"}],
                tax_lines=[{"title": "VAT", "rate": 0.05, "price": "0.425"}],
            ),
            _item(
                2,
                "SHOP-MUG-WHT",
                "2.125",
                tax_lines=[{"title": "VAT", "rate": 0.05, "price": "0.106"}],
            ),
        ],
    )

    lines = shopify.translate(Connection("s", "shopify", {}, p.SHOPIFY_SKUS), payload).order[
        "lines"
    ]

    assert [(x["unit_price"], x["discount"], x["paid"]) for x in lines] == [
        ("4.750", "1.000", "8.925"),  # 9.500 - 1.000 + 0.425
        ("2.125", "0.000", "2.231"),
    ]
    assert lines[0]["taxes"] == [{"title": "VAT", "rate": "0.05", "amount": "0.425"}]


def test_an_unallocated_order_discount_in_yen_is_spread_without_losing_a_yen() -> None:
    payload = p.shopify_order(
        61,
        currency="JPY",
        taxes_included=True,
        total_discounts="100",
        customer={"first_name": "太郎", "last_name": "山田", "email": "taro@example.jp"},
        line_items=[
            _item(1, "A-1", "1000", tax_lines=[{"title": "消費税", "rate": "0.10", "price": "91"}]),
            _item(2, "A-2", "1000"),
            _item(3, "A-3", "1000"),
        ],
    )

    order = shopify.translate(AS_IS, payload).order

    assert [x["discount"] for x in order["lines"]] == ["34", "33", "33"]
    assert [x["paid"] for x in order["lines"]] == ["966", "967", "967"]  # tax included
    assert order["lines"][0]["taxes"][0]["title"] == "消費税"
    assert order["customer"]["name"] == "太郎 山田"


def test_arabic_names_and_a_note_free_order_pass_through() -> None:
    address = {
        **p.shopify_order(62)["shipping_address"],
        "name": "محمد العلي",
        "company": "شركة",
        "province_code": "KU",
        "country_code": "KW",
    }
    payload = p.shopify_order(
        62, currency="KWD", shipping_address=address, line_items=[_item(1, "A-1", "3.500")]
    )

    order = shopify.translate(AS_IS, payload).order

    assert order["shipping_address"]["name"] == "محمد العلي"
    assert order["shipping_address"]["company"] == "شركة"
    assert order["shipping_address"]["state_code"] == "KW-KU"
    assert order["lines"][0]["paid"] == "3.500"


def test_an_order_discount_above_the_lines_holds_the_order() -> None:
    payload = p.shopify_order(63, total_discounts="100.00")

    result = shopify.translate(Connection("s", "shopify", {}, p.SHOPIFY_SKUS), payload)

    assert result.held
    assert any("exceeds the lines" in reason for reason in result.reasons)


def _canonical_lines(lines: list[dict[str, object]], **order: object) -> list[dict[str, object]]:
    """The lines of an order posted to the gateway's canonical API, as intake keeps them."""
    body = {
        "channel": "phone",
        "external_id": "PH-1",
        "customer": {"name": "สมชาย ใจดี", "email": "somchai@example.co.th"},
        "shipping_address": {
            "name": "สมชาย ใจดี",
            "line1": "99/1 ถนนสุขุมวิท",
            "city": "กรุงเทพมหานคร",
            "postal_code": "10110",
            "country": "TH",
        },
        "currency": "KWD",
        "lines": lines,
        **order,
    }
    return CanonicalOrderModel.model_validate(body).canonical()["lines"]


def test_a_posted_line_with_a_discount_says_what_was_paid_so_no_refund_gives_the_discount_back():
    lines = _canonical_lines(
        [
            {"sku": "OUD-50", "quantity": 2, "unit_price": "12.500", "discount": "2.750"},
            {"sku": "DATES-1", "quantity": 1, "unit_price": "3.125"},
        ]
    )

    assert lines[0]["paid"] == "22.250"  # 2 x 12.500 - 2.750, not 25.000
    assert "paid" not in lines[1]  # a price and nothing more: quantity x unit price it is


def test_a_posted_line_s_taxes_count_in_what_was_paid_only_when_prices_exclude_them():
    line = {
        "sku": "OUD-50",
        "quantity": 1,
        "unit_price": "10.000",
        "discount": "1.000",
        "taxes": [{"title": "VAT", "rate": "0.05", "amount": "0.450"}],
    }

    assert _canonical_lines([line], taxes_included=False)[0]["paid"] == "9.450"
    assert _canonical_lines([line], taxes_included=True)[0]["paid"] == "9.000"
