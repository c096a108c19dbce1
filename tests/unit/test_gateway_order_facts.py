"""The order's own facts at the gateway: the channel's number, billing address, the customer's
note, shipping lines and totals, from each channel's documented payloads and POST /v1/orders."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from services.channel_gateway.application import ChannelOrders, Translation
from services.channel_gateway.bootstrap import events
from services.channel_gateway.channels.amazon import translate as amazon
from services.channel_gateway.channels.base import Connection
from services.channel_gateway.channels.email.transport import shipping_email
from services.channel_gateway.channels.http import Job
from services.channel_gateway.channels.shopee import translate as shopee
from services.channel_gateway.channels.shopify import translate as shopify
from services.channel_gateway.channels.woocommerce import translate as woocommerce
from services.channel_gateway.schemas import ChannelOrderCreate
from shared import events as ev
from tests.factories_channel_gateway import canonical_order
from tests.fakes import payloads as p

AS_IS = {"require_sku_mapping": False}
SHOPIFY = Connection("shopify-us", "shopify", AS_IS)
WOO = Connection("woo-de", "woocommerce", {}, p.WOO_SKUS)
SHOPEE = Connection("shopee-sg", "shopee", {}, p.SHOPEE_SKUS)
AMAZON = Connection("amazon-de", "amazon", {}, p.AMAZON_SKUS)


# -- Shopify ------------------------------------------------------------------------------


def test_shopify_s_sample_order_keeps_its_name_bill_note_shipping_and_totals() -> None:
    payload = p.shopify_sample_order()
    payload["note"] = "Please leave the parcel with the neighbour."

    result = shopify.translate(SHOPIFY, payload)

    assert not result.held, result.reasons
    order = result.order
    assert order["channel_order_number"] == "#9999"
    assert order["note"] == "Please leave the parcel with the neighbour."
    assert order["billing_address"] == {
        "name": "Bob Biller",
        "line1": "123 Billing Street",
        "line2": None,
        "city": "Billtown",
        "postal_code": "K2P0B0",
        "country": "US",
        "company": "My Company",
        "phone": "555-555-BILL",
        "state": "Kentucky",
        "state_code": "US-KY",
    }
    assert order["shipping_lines"] == [
        {"title": "Generic Shipping", "price": "10.00", "discount": "0.00", "taxes": []}
    ]
    # $398 of items, $20 of discounts spread over the lines, $10 shipping: the $388 it took.
    assert order["totals"] == {
        "items": "398.00",
        "discounts": "20.00",
        "tax": "0.00",
        "shipping": "10.00",
        "paid": "388.00",
    }
    assert order["taxes_included"] is False


def test_totals_that_do_not_add_up_hold_the_order_saying_which() -> None:
    payload = p.shopify_sample_order()
    payload["total_price"] = "398.00"  # as if the $20 had not been taken off

    result = shopify.translate(SHOPIFY, payload)

    assert result.held
    assert result.reasons == ["totals.paid 398.00 does not match the lines and shipping 388.00"]
    assert result.draft["channel_order_number"] == "#9999"  # the held order shows its number


def test_a_cent_of_rounding_per_line_is_accepted_more_is_held() -> None:
    # A store that rounds tax on the subtotal is a cent off the sum of its lines' taxes.
    payload = p.shopify_sample_order()
    payload["total_price"] = "388.02"  # three lines (two items, one shipping): within rounding
    assert not shopify.translate(SHOPIFY, payload).held
    payload["total_price"] = "388.04"
    assert shopify.translate(SHOPIFY, payload).held


def test_a_free_shipping_discount_and_shipping_tax_are_counted_on_the_shipping() -> None:
    free_shipping = {
        "title": "DHL Paket",
        "price": "4.90",
        "discount_allocations": [{"amount": "4.90"}],
        "tax_lines": [{"title": "DE MwSt", "rate": 0.19, "price": "0.78"}],
    }
    payload = p.shopify_order(70, total_discounts="4.90", shipping_lines=[free_shipping])

    order = shopify.translate(Connection("s", "shopify", {}, p.SHOPIFY_SKUS), payload).order

    assert order is not None
    assert order["shipping_lines"] == [
        {
            "title": "DHL Paket",
            "price": "4.90",
            "discount": "4.90",
            "taxes": [{"title": "DE MwSt", "rate": "0.19", "amount": "0.78"}],
        }
    ]
    assert order["totals"] == {
        "items": "64.30",
        "discounts": "0.00",  # the lines': the shipping's is in shipping
        "tax": "11.05",
        "shipping": "0.00",
        "paid": "64.30",
    }
    assert [line["discount"] for line in order["lines"]] == ["0.00", "0.00"]


# -- WooCommerce ----------------------------------------------------------------------------


def _woo_tax_included_order() -> dict[str, Any]:
    """A German shop (prices with 19 % VAT): a tee, a mug with a 10 % coupon, DHL shipping."""
    vat = [{"id": 1, "total": "3.98", "subtotal": "3.98"}]
    payload = p.woo_order(4720, prices_include_tax=True, customer_note="Bitte zweimal klingeln.")
    tee, mug = payload["line_items"]
    tee |= {"subtotal": "20.92", "subtotal_tax": "3.98", "total": "20.92", "total_tax": "3.98"}
    tee["taxes"] = vat
    mug |= {"subtotal": "12.18", "subtotal_tax": "2.32", "total": "10.96", "total_tax": "2.08"}
    mug["taxes"] = [{"id": 1, "total": "2.08", "subtotal": "2.32"}]
    payload["tax_lines"] = [
        {"id": 90, "rate_code": "DE-MWST-1", "rate_id": 1, "label": "MwSt", "rate_percent": 19}
    ]
    payload["shipping_lines"] = [
        {
            "id": 91,
            "method_title": "DHL Paket",
            "method_id": "flat_rate",
            "total": "4.12",
            "total_tax": "0.78",
            "taxes": [{"id": 1, "total": "0.78"}],
        }
    ]
    return p.woo_totals(payload)


def test_a_woocommerce_order_keeps_its_number_note_bill_shipping_and_totals() -> None:
    payload = _woo_tax_included_order()
    assert payload["total"] == "42.84" and payload["discount_total"] == "1.22"

    result = woocommerce.translate(WOO, payload)

    assert not result.held, result.reasons
    order = result.order
    assert order["channel_order_number"] == "4720"
    assert order["note"] == "Bitte zweimal klingeln."
    assert order["billing_address"]["name"] == "Jonas Becker"
    assert order["billing_address"]["phone"] == "0221 555 123"
    assert order["customer"]["phone"] == "0221 555 123"
    assert order["taxes_included"] is True
    # WooCommerce keeps line amounts without tax; with prices that include it, ours do too.
    assert [(x["unit_price"], x["discount"], x["paid"]) for x in order["lines"]] == [
        ("24.90", "0.00", "24.90"),
        ("14.50", "1.46", "13.04"),
    ]
    assert order["lines"][1]["taxes"] == [{"title": "MwSt", "rate": "0.19", "amount": "2.08"}]
    assert order["shipping_lines"] == [
        {
            "title": "DHL Paket",
            "price": "4.90",
            "discount": "0.00",
            "taxes": [{"title": "MwSt", "rate": "0.19", "amount": "0.78"}],
        }
    ]
    assert order["totals"] == {
        "items": "39.40",
        "discounts": "1.46",
        "tax": "6.84",
        "shipping": "4.90",
        "paid": "42.84",
    }


def test_a_woocommerce_order_with_a_fee_is_held_the_oms_keeps_no_fees() -> None:
    payload = p.woo_order(4721, fee_lines=[{"id": 5, "name": "PayPal fee", "total": "1.50"}])
    p.woo_totals(payload)

    result = woocommerce.translate(WOO, payload)

    assert result.held
    assert "fee lines the OMS does not keep: PayPal fee 1.50 EUR" in result.reasons


def test_a_woocommerce_ship_to_keeps_its_state_and_company() -> None:
    payload = p.woo_order(4722)
    payload["shipping"] |= {"country": "US", "state": "CA", "company": "Acme", "phone": "555-1"}

    address = woocommerce.translate(WOO, payload).order["shipping_address"]

    assert (address["state"], address["state_code"]) == ("CA", "US-CA")
    assert (address["company"], address["phone"]) == ("Acme", "555-1")


# -- Shopee and Amazon ----------------------------------------------------------------------


def test_a_shopee_order_keeps_its_sn_the_buyer_s_message_and_what_the_buyer_paid() -> None:
    payload = {
        "response": {
            "order_list": [
                p.shopee_order(
                    "2611280ABC",
                    message_to_seller="Please pack it as a gift",
                    total_amount=38.89,  # the tee's 35.90 and 2.99 of shipping the buyer bore
                    estimated_shipping_fee=4.5,
                    actual_shipping_fee=3.2,
                )
            ]
        }
    }

    order = shopee.translate(SHOPEE, payload).order

    assert order is not None
    assert order["channel_order_number"] == "2611280ABC"
    assert order["note"] == "Please pack it as a gift"
    # The courier's fees (estimated, actual) are not what the buyer paid: not on the order.
    assert order["shipping_lines"] == [
        {"title": "Shipping (Shopee)", "price": "2.99", "discount": "0.00", "taxes": []}
    ]
    assert order["totals"]["paid"] == "38.89"


def test_a_shopee_order_paid_partly_with_shopee_coins_spreads_them_as_a_discount() -> None:
    order_sn = "2611280ABD"
    order = shopee.translate(
        SHOPEE, {"response": {"order_list": [p.shopee_order(order_sn, total_amount=33.9)]}}
    ).order

    assert order is not None
    assert "shipping_lines" not in order
    assert [(x["discount"], x["paid"]) for x in order["lines"]] == [("2.00", "33.90")]
    assert order["totals"] == {
        "items": "35.90",
        "discounts": "2.00",
        "tax": "0.00",
        "shipping": "0.00",
        "paid": "33.90",
    }


def test_an_amazon_order_is_known_by_its_order_id_and_its_totals_are_its_lines() -> None:
    payload = {"order": p.amazon_order("302-1234567-1234567", "2026-11-28T15:00:00Z")}

    order = amazon.translate(AMAZON, payload).order

    assert order is not None
    assert order["channel_order_number"] == "302-1234567-1234567"
    assert order["totals"]["paid"] == "49.80"
    assert order["shipping_address"]["state"] == "Bayern"
    assert order["shipping_address"].get("state_code") is None  # a name, not a code


# -- POST /v1/orders ------------------------------------------------------------------------


def _order(**facts: Any) -> dict[str, Any]:
    return canonical_order(
        channel="web",
        external_id=f"W-{uuid4().hex[:8]}",
        channel_order_number="#1001",
        note="Bitte beim Nachbarn abgeben.",
        billing_address={
            "name": "Lena Hoffmann",
            "line1": "Bergmannstraße 42",
            "city": "Berlin",
            "postal_code": "10961",
            "country": "DE",
        },
        shipping_lines=[{"title": "DHL Paket", "price": "4.90"}],
        **facts,
    )


def _create(order: dict[str, Any]) -> ChannelOrderCreate:
    return ChannelOrderCreate.model_validate_json(json.dumps(order))


def test_posted_order_facts_are_kept_and_its_totals_computed_from_the_lines() -> None:
    order = _create(_order(totals={"paid": "69.20"}, taxes_included=True)).canonical()

    assert order["channel_order_number"] == "#1001"
    assert order["note"] == "Bitte beim Nachbarn abgeben."
    assert order["billing_address"]["city"] == "Berlin"
    assert order["shipping_lines"] == [
        {"title": "DHL Paket", "price": "4.90", "discount": "0.00", "taxes": []}
    ]
    assert order["totals"] == {
        "items": "64.30",
        "discounts": "0.00",
        "tax": "0.00",
        "shipping": "4.90",
        "paid": "69.20",
    }
    assert order["taxes_included"] is True


def test_an_order_posted_without_the_facts_still_gets_its_totals() -> None:
    order = _create(canonical_order()).canonical()

    assert order["totals"]["paid"] == "64.30"
    assert "channel_order_number" not in order and "note" not in order


@pytest.mark.parametrize(
    ("facts", "complaint"),
    [
        ({"shipping_lines": [{"title": "DHL", "price": "-4.90"}]}, "greater than or equal to 0"),
        ({"shipping_lines": [{"title": "DHL", "price": "4.905"}]}, "more decimal places"),
        (
            {"shipping_lines": [{"title": "DHL", "price": "4.90", "discount": "5.00"}]},
            "exceeds its price",
        ),
        ({"totals": {"paid": "69.205"}}, "totals.paid 69.205 has more decimal places"),
        ({"totals": {"tax": "-1"}}, "greater than or equal to 0"),
        (
            {"totals": {"paid": "64.30"}},
            "totals.paid 64.30 does not match the lines and shipping 69.20",
        ),
        ({"taxes_included": 1}, "boolean"),
        ({"note": "x" * 5001}, "at most 5000 characters"),
        ({"channel_order_number": "#" * 101}, "at most 100 characters"),
    ],
)
def test_bad_amounts_and_facts_are_refused(facts: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        _create(_order() | facts)


def test_a_billing_address_is_checked_like_the_shipping_address() -> None:
    order = _order()
    order["billing_address"]["country"] = "XX"

    with pytest.raises(ValidationError, match=r"billing_address\.country"):
        _create(order)


def test_a_jpy_shipping_line_is_whole_yen() -> None:
    order = _order(currency="JPY")
    order["lines"] = [{"sku": "TEE", "quantity": 1, "unit_price": "2500"}]

    with pytest.raises(ValidationError, match="JPY allows"):
        _create(order)
    order["shipping_lines"] = [{"title": "ヤマト運輸", "price": "600"}]
    assert _create(order).canonical()["totals"]["paid"] == "3100"


# -- through intake: the public event and the shipping e-mail -------------------------------


def test_the_facts_are_published_and_the_shipping_e_mail_names_the_channel_s_number() -> None:
    app = ChannelOrders()
    posted = _create(_order())
    translation = Translation(posted.channel, posted.external_id, order=posted.canonical())
    result = app.intake.take_in_one(translation)
    (received,) = list(app.events.get(result.order_id))

    public = events().to_integration(received)

    assert isinstance(public, ev.ChannelOrderReceived)
    assert public.channel_order_number == "#1001"
    assert public.note == "Bitte beim Nachbarn abgeben."
    assert public.totals is not None and public.totals.paid == Decimal("69.20")
    assert public.shipping_lines is not None and public.shipping_lines[0].title == "DHL Paket"
    assert public.billing_address is not None and public.billing_address.city == "Berlin"

    order = app.orders.get(result.order_id)
    job = Job(
        uuid4(),
        "shipment",
        order.external_id,
        {"carrier": "DHL", "tracking_number": "JJD1", "lines": [{"sku": "TEE", "quantity": 1}]},
        {"customer": order.customer, "channel_order_number": order.channel_order_number},
    )
    message = shipping_email(job, "orders@shop.example.de", "Shop")
    assert message["Subject"] == "Your order #1001 has shipped"
    assert "your order #1001 is on its way" in message.get_content()
    assert order.external_id not in message.get_content()
