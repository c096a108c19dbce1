"""Channel payloads in their documented shapes -> canonical orders, holds or refusals (pure)."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from services.channel_gateway.channels.amazon import translate as amazon
from services.channel_gateway.channels.base import Connection, MalformedPayloadError
from services.channel_gateway.channels.csv_import.translate import translate_rows
from services.channel_gateway.channels.shopee import translate as shopee
from services.channel_gateway.channels.shopify import translate as shopify
from services.channel_gateway.channels.woocommerce import translate as woocommerce
from shared import signing
from tests.fakes import payloads as p

SHOPIFY = Connection("shopify-eu", "shopify", {}, p.SHOPIFY_SKUS)
CORE = ("sku", "quantity", "unit_price")


def core(lines):
    """The lines as they were before amounts and titles: SKU, quantity, unit price."""
    return [{k: v for k, v in line.items() if k in CORE} for line in lines]


def test_a_shopify_order_translates_to_our_skus_prices_address_and_channel_refs():
    result = shopify.translate(SHOPIFY, p.shopify_order(42))

    assert not result.held
    assert result.external_id == "42"
    order = result.order
    assert core(order["lines"]) == [
        {"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"},
        {"sku": "MUG-ENM-350-WHT", "quantity": 1, "unit_price": "14.50"},
    ]
    assert order["lines"][0]["title"] == "Organic Tee"
    assert order["lines"][0]["paid"] == "49.80"
    assert order["shipping_address"] == {
        "name": "Lena Hoffmann",
        "line1": "Bergmannstraße 42",
        "line2": "Hinterhaus, 3. OG",
        "city": "Berlin",
        "postal_code": "10961",
        "country": "DE",
        "phone": "+49 30 1234567",
    }
    assert order["customer"] == {
        "name": "Lena Hoffmann",
        "email": "lena.hoffmann@example.de",
        "phone": "+49 30 1234567",  # the ship-to's, as the order has none of its own
    }
    assert order["refs"]["order_gid"] == "gid://shopify/Order/42"
    assert order["refs"]["lines"][0]["line_id"] == 13630371692709


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda o: o["line_items"][0].update(sku="UNMAPPED"), "unknown SKU UNMAPPED"),
        (lambda o: o["line_items"][0].update(sku=""), "has no SKU"),
        (lambda o: o.update(shipping_address=None), "missing shipping address"),
        (lambda o: o["shipping_address"].update(zip=None), "missing shipping address postal code"),
        (lambda o: o["shipping_address"].update(country_code="XX"), "shipping_address.country"),
        (lambda o: o.update(email=None, contact_email=None, customer={}), "missing customer email"),
    ],
    ids=["unknown sku", "no sku", "no address", "no zip", "bad country", "no email"],
)
def test_an_order_that_cannot_be_placed_is_held_with_a_reason_and_keeps_the_payload(change, reason):
    payload = p.shopify_order(43)
    change(payload)

    result = shopify.translate(SHOPIFY, payload)

    assert result.held
    assert any(reason in r for r in result.reasons), result.reasons
    assert result.payload == payload


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"id": 1, "currency": "EUR", "line_items": []}, "line_items"),
        ({"currency": "EUR", "line_items": [{"id": 1, "quantity": 1, "price": "1"}]}, "id"),
        ({**p.shopify_order(1), "currency": "EURO"}, "currency"),
        (
            {**p.shopify_order(1), "line_items": [{"id": 1, "quantity": 0, "price": "1"}]},
            "quantity",
        ),
    ],
    ids=["no lines", "no id", "bad currency", "zero quantity"],
)
def test_a_payload_not_in_shopifys_shape_is_refused_naming_the_field(payload, named):
    with pytest.raises(MalformedPayloadError, match=named):
        shopify.translate(SHOPIFY, payload)


def test_two_channel_lines_of_one_of_our_skus_at_one_price_stay_two_lines():
    # Lines are never merged: the second line kept its own id, and both their refs are kept.
    payload = p.shopify_order(44)
    payload["line_items"][1].update(sku="SHOP-TEE-BLK-M", price="24.90", quantity=3)
    p.shopify_totals(payload)

    result = shopify.translate(SHOPIFY, payload)

    assert not result.held, result.reasons
    assert core(result.order["lines"]) == [
        {"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"},
        {"sku": "TEE-ORG-BLK-M", "quantity": 3, "unit_price": "24.90"},
    ]
    ids = [item["id"] for item in payload["line_items"]]
    assert [line["line_id"] for line in result.order["lines"]] == [str(i) for i in ids]
    assert [(r["line_id"], r["quantity"]) for r in result.order["refs"]["lines"]] == [
        (ids[0], 2),
        (ids[1], 3),
    ]


def test_shopify_s_sample_webhook_keeps_both_line_items_of_its_one_sku():
    payload = p.shopify_sample_order()

    result = shopify.translate(Connection("s", "shopify", {"require_sku_mapping": False}), payload)

    assert not result.held, result.reasons
    lines, refs = result.order["lines"], result.order["refs"]["lines"]
    assert [(x["sku"], x["quantity"], x["unit_price"]) for x in lines] == [
        ("IPOD2008PINK", 1, "199.00"),
        ("IPOD2008PINK", 1, "199.00"),
    ]
    assert [x["line_id"] for x in lines] == ["866550311766439020", "141249953214522974"]
    assert [x["title"] for x in lines] == ["IPod Nano - 8GB", "IPod Nano - 8GB"]
    assert [x["paid"] for x in lines] == ["189.00", "189.00"]  # $20 spread over the two
    assert refs == [
        {
            "sku": "IPOD2008PINK",
            "channel_sku": "IPOD2008PINK",
            "quantity": 1,
            "line_id": line_id,
            "variant_id": 808950810,
        }
        for line_id in (866550311766439020, 141249953214522974)
    ]


def test_a_woocommerce_order_of_one_product_twice_at_two_prices_is_taken_in_as_two_lines():
    # The second tee was discounted: WooCommerce sends the product on a line of its own.
    payload = p.woo_order(4712)
    payload["line_items"][1].update(
        id=317,
        name="Organic Tee - Black, M",
        product_id=93,
        sku="WOO-TEE-BLK-M",
        subtotal="12.45",
        total="12.45",
    )
    p.woo_totals(payload)

    result = woocommerce.translate(Connection("woo", "woocommerce", {}, p.WOO_SKUS), payload)

    assert not result.held, result.reasons
    assert [(x["sku"], x["unit_price"], x["line_id"]) for x in result.order["lines"]] == [
        ("TEE-ORG-BLK-M", "24.90", "315"),
        ("TEE-ORG-BLK-M", "12.45", "317"),
    ]
    assert [(r["line_id"], r["quantity"]) for r in result.order["refs"]["lines"]] == [
        (315, 1),
        (317, 1),
    ]


def test_marketplace_skus_must_be_mapped_unless_the_channel_says_they_are_ours():
    as_is = Connection("shop", "shopify", {"require_sku_mapping": False})
    own = Connection("phone", "phone")

    assert shopify.translate(as_is, p.shopify_order(45)).order["lines"][0]["sku"] == (
        "SHOP-TEE-BLK-M"
    )
    assert own.our_sku("TEE-ORG-BLK-M") == "TEE-ORG-BLK-M"
    assert Connection("amz", "amazon").our_sku("TEE-ORG-BLK-M") is None


def test_shopify_and_woocommerce_signatures_accept_current_or_previous_secret_only():
    body = p.dumps(p.shopify_order(46))
    good = signing.base64_signature("current", body)
    old = signing.base64_signature("previous", body)

    assert shopify.signature_valid(body, good, ["current", "previous"])
    assert shopify.signature_valid(body, old, ["current", "previous"])
    assert not shopify.signature_valid(body, old, ["current"])
    assert not shopify.signature_valid(body + b" ", good, ["current"])
    assert not shopify.signature_valid(body, None, ["current"])
    assert not shopify.signature_valid(body, good, [])
    assert woocommerce.signature_valid(body, good, ["current"])


def test_a_woocommerce_order_uses_the_paid_line_totals_and_billing_email():
    payload = p.woo_order(4711)
    payload["line_items"][0].update(quantity=3, subtotal="59.70", total="59.70")
    p.woo_totals(payload)

    result = woocommerce.translate(Connection("woo", "woocommerce", {}, p.WOO_SKUS), payload)

    assert core(result.order["lines"])[0] == {
        "sku": "TEE-ORG-BLK-M",
        "quantity": 3,
        "unit_price": "19.90",
    }
    assert result.order["customer"]["email"] == "jonas.becker@example.de"
    assert woocommerce.is_ping(b"webhook_id=7", "application/x-www-form-urlencoded")
    assert not woocommerce.is_ping(p.dumps(payload), "application/json")


def test_an_amazon_order_translates_with_recipient_buyer_and_order_item_ids():
    payload = {"order": p.amazon_order("028-1-1", "2026-11-28T10:00:00Z")}

    result = amazon.translate(Connection("amz", "amazon", {}, p.AMAZON_SKUS), payload)

    assert core(result.order["lines"]) == [
        {"sku": "TEE-ORG-BLK-M", "quantity": 2, "unit_price": "24.90"}
    ]
    assert result.order["shipping_address"]["city"] == "München"
    assert result.order["refs"]["lines"][0]["order_item_id"] == "28-1-101"
    assert result.order["refs"]["marketplace_id"] == "A1PA6795UKMFR9"
    with pytest.raises(MalformedPayloadError, match="getOrder"):
        amazon.translate(Connection("amz", "amazon"), {"orders": []})


def test_a_shopee_order_is_placeable_only_when_ready_to_ship_and_pushes_are_signed_over_url():
    detail = {"error": "", "response": {"order_list": [p.shopee_order("SN1")]}}
    unpaid = copy.deepcopy(detail)
    unpaid["response"]["order_list"][0]["order_status"] = "UNPAID"
    connection = Connection("shopee", "shopee", {}, p.SHOPEE_SKUS)
    body = p.dumps(p.shopee_push(1, "SN1"))
    url = "https://oms.example.com/v1/webhooks/shopee/shopee"
    header = p.shopee_push_headers(url, body, "key")["Authorization"]

    placed = shopee.translate(connection, detail)
    held = shopee.translate(connection, unpaid)

    assert core(placed.order["lines"]) == [
        {"sku": "TEE-ORG-BLK-M", "quantity": 1, "unit_price": "35.90"}
    ]
    assert placed.order["shipping_address"]["country"] == "SG"
    assert held.held and held.reasons == ["Shopee order status is UNPAID"]
    assert shopee.push_signature_valid(url, body, header, "key")
    assert not shopee.push_signature_valid(url + "?x=1", body, header, "key")
    assert shopee.sign("k", 1, "/api/v2/x", 2, "t", 3) == signing.hex_signature(
        "k", b"1/api/v2/x2t3"
    )


def test_csv_rows_group_into_orders_and_every_bad_row_is_named_by_its_line():
    base = {
        "order_ref": "PH-1",
        "customer_name": "Anna",
        "customer_email": "anna@example.de",
        "ship_line1": "Weg 1",
        "ship_city": "Kiel",
        "ship_postal_code": "24103",
        "ship_country": "de",
        "sku": "TEE-ORG-BLK-M",
        "quantity": "1",
        "unit_price": "24,90",
        "currency": "eur",
    }
    rows = [
        (2, base),
        (3, {**base, "sku": "MUG-ENM-350-WHT", "unit_price": "14.5"}),
        (4, {**base, "order_ref": "PH-2", "quantity": "0"}),
        (5, {**base, "order_ref": "PH-3", "customer_email": "other@example.de"}),
        (6, {**base, "order_ref": "PH-3", "customer_email": "changed@example.de"}),
    ]

    orders, errors = translate_rows(Connection("phone", "phone"), rows)

    by_ref = {o.order_ref: o for o in orders}
    assert by_ref["PH-1"].translation.order["lines"][1]["unit_price"] == "14.50"
    assert by_ref["PH-1"].translation.order["shipping_address"]["country"] == "DE"
    assert by_ref["PH-1"].lines == [2, 3]
    assert [(e.line, e.reason) for e in errors] == [
        (4, "quantity '0' is not a whole number above 0"),
        (6, "customer_email differs from line 5 of the same order_ref"),
    ]
    assert by_ref["PH-2"].translation is None and by_ref["PH-3"].translation is None
    assert Decimal(by_ref["PH-1"].translation.order["lines"][0]["unit_price"]) == Decimal("24.90")
