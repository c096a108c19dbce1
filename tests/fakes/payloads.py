"""Channel payloads in each channel's documented shape, and how each channel signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from shared import money

# Overriding any of these keeps the payload's own totals (to make ones that do not add up).
SHOPIFY_TOTALS = frozenset({"total_price", "total_tax", "total_line_items_price"})
WOO_TOTALS = frozenset({"total", "total_tax", "discount_total", "shipping_total"})


def shopify_order(order_id: int = 5829104779429, **overrides: Any) -> dict[str, Any]:
    """An orders/create webhook body (REST order resource, trimmed to realistic essentials).

    Its totals add up, as Shopify's do, also with other lines, discounts or shipping lines given
    (`shopify_totals`); a test that changes lines afterwards calls `shopify_totals` again.
    """
    order = {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{1000 + order_id % 1000}",
        "order_number": 1000 + order_id % 1000,
        "email": "lena.hoffmann@example.de",
        "contact_email": "lena.hoffmann@example.de",
        "created_at": "2026-11-28T16:05:11+01:00",
        "currency": "EUR",
        "presentment_currency": "EUR",
        "financial_status": "paid",
        "fulfillment_status": None,
        "payment_gateway_names": ["shopify_payments"],
        "total_price": "64.30",
        "subtotal_price": "64.30",
        "total_tax": "10.27",
        "taxes_included": True,
        "customer": {
            "id": 7390210342,
            "email": "lena.hoffmann@example.de",
            "first_name": "Lena",
            "last_name": "Hoffmann",
        },
        "shipping_address": {
            "first_name": "Lena",
            "last_name": "Hoffmann",
            "name": "Lena Hoffmann",
            "address1": "Bergmannstraße 42",
            "address2": "Hinterhaus, 3. OG",
            "city": "Berlin",
            "zip": "10961",
            "province": None,
            "country": "Germany",
            "country_code": "DE",
            "phone": "+49 30 1234567",
            "company": None,
        },
        "line_items": [
            {
                "id": 13630371692709,
                "variant_id": 40123456789,
                "product_id": 7012345678,
                "title": "Organic Tee",
                "variant_title": "Black / M",
                "sku": "SHOP-TEE-BLK-M",
                "quantity": 2,
                "price": "24.90",
                "fulfillable_quantity": 2,
                "requires_shipping": True,
                "discount_allocations": [],
                "tax_lines": [{"title": "DE MwSt", "rate": 0.19, "price": "7.95"}],
            },
            {
                "id": 13630371725477,
                "variant_id": 40123456790,
                "product_id": 7012345679,
                "title": "Enamel Mug 350 ml",
                "variant_title": "White",
                "sku": "SHOP-MUG-WHT",
                "quantity": 1,
                "price": "14.50",
                "fulfillable_quantity": 1,
                "requires_shipping": True,
                "discount_allocations": [],
                "tax_lines": [{"title": "DE MwSt", "rate": 0.19, "price": "2.32"}],
            },
        ],
        "shipping_lines": [],
    }
    order = {**order, **overrides}
    return order if SHOPIFY_TOTALS & overrides.keys() else _added_up(shopify_totals, order)


def shopify_totals(order: dict[str, Any]) -> dict[str, Any]:
    """The order's total_* fields as Shopify computes them from its lines (in place)."""
    currency = order["currency"]

    def amount(value: Any) -> Decimal:
        return Decimal(str(value))

    def text(value: Decimal) -> str:
        return money.text(value, currency)

    items = sum((amount(i["price"]) * i["quantity"] for i in order["line_items"]), Decimal(0))
    shipping = sum((amount(s["price"]) for s in order.get("shipping_lines") or []), Decimal(0))
    taxed = [*order["line_items"], *(order.get("shipping_lines") or [])]
    tax = sum((amount(t["price"]) for x in taxed for t in x.get("tax_lines") or []), Decimal(0))
    discounts = amount(order.get("total_discounts") or 0)
    paid = items - discounts + shipping + (Decimal(0) if order.get("taxes_included") else tax)
    shipping_set = {"amount": text(shipping), "currency_code": currency}
    order |= {
        "total_line_items_price": text(items),
        "subtotal_price": text(items - discounts),
        "total_discounts": text(discounts),
        "total_tax": text(tax),
        "total_shipping_price_set": {
            "shop_money": shipping_set,
            "presentment_money": dict(shipping_set),
        },
        "total_price": text(max(paid, Decimal(0))),  # Shopify's is never negative
        "current_total_price": text(max(paid, Decimal(0))),
    }
    return order


SHOPIFY_SKUS = {"SHOP-TEE-BLK-M": "TEE-ORG-BLK-M", "SHOP-MUG-WHT": "MUG-ENM-350-WHT"}


def _usd(amount: str) -> dict[str, Any]:
    money = {"amount": amount, "currency_code": "USD"}
    return {"shop_money": money, "presentment_money": dict(money)}


def _shopify_address(first: str, last: str, street: str, phone: str, company: str) -> dict:
    return {
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "address1": street,
        "address2": None,
        "phone": phone,
        "city": "Shippington" if "Ship" in street else "Billtown",
        "zip": "40003" if "Ship" in street else "K2P0B0",
        "province": "Kentucky",
        "country": "United States",
        "company": company,
        "latitude": None,
        "longitude": None,
        "country_code": "US",
        "province_code": "KY",
    }


def shopify_sample_order() -> dict[str, Any]:
    """In the shape of Shopify's own sample `orders/create` webhook ("Send test notification"):
    voided, two line items of one SKU at $199.00, $20.00 of discounts not allocated to the
    lines, $10.00 shipping, a Kentucky ship-to with a company; the order took $388.00."""
    line = {
        "variant_id": 808950810,
        "product_id": 632910392,
        "title": "IPod Nano - 8GB",
        "name": "IPod Nano - 8GB",
        "variant_title": None,
        "vendor": None,
        "sku": "IPOD2008PINK",
        "quantity": 1,
        "price": "199.00",
        "price_set": _usd("199.00"),
        "total_discount": "0.00",
        "total_discount_set": _usd("0.00"),
        "discount_allocations": [],
        "tax_lines": [],
        "taxable": True,
        "requires_shipping": True,
        "fulfillable_quantity": 1,
        "fulfillment_status": None,
        "gift_card": False,
        "properties": [],
    }
    return {
        "id": 820982911946154508,
        "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "email": "jon@example.com",
        "contact_email": "jon@example.com",
        "name": "#9999",
        "number": 234,
        "order_number": 1234,
        "note": None,
        "phone": None,
        "created_at": "2021-12-31T19:00:00-05:00",
        "currency": "USD",
        "presentment_currency": "USD",
        "financial_status": "voided",
        "fulfillment_status": None,
        "taxes_included": False,
        "total_line_items_price": "398.00",
        "total_discounts": "20.00",
        "total_discounts_set": _usd("20.00"),
        "subtotal_price": "378.00",
        "total_tax": "0.00",
        "total_shipping_price_set": _usd("10.00"),
        "total_price": "388.00",
        "current_total_price": "388.00",
        "discount_codes": [],
        "tax_lines": [],
        "line_items": [
            {
                **line,
                "id": 866550311766439020,
                "admin_graphql_api_id": "gid://shopify/LineItem/866550311766439020",
            },
            {
                **line,
                "id": 141249953214522974,
                "admin_graphql_api_id": "gid://shopify/LineItem/141249953214522974",
            },
        ],
        "shipping_lines": [
            {
                "id": 271878346596884015,
                "title": "Generic Shipping",
                "code": None,
                "source": "shopify",
                "price": "10.00",
                "price_set": _usd("10.00"),
                "discounted_price": "10.00",
                "discount_allocations": [],
                "tax_lines": [],
            }
        ],
        "billing_address": _shopify_address(
            "Bob", "Biller", "123 Billing Street", "555-555-BILL", "My Company"
        ),
        "shipping_address": _shopify_address(
            "Steve", "Shipper", "123 Shipping Street", "555-555-SHIP", "Shipping Company"
        ),
        "customer": {
            "id": 115310627314723954,
            "email": "john@example.com",
            "first_name": "John",
            "last_name": "Smith",
            "phone": None,
            "note": None,
        },
        "refunds": [],
        "fulfillments": [],
    }


def shopify_headers(body: bytes, secret: str, event_id: str, topic: str = "orders/create") -> dict:
    """The headers Shopify sends with a webhook."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()
        ).decode(),
        "X-Shopify-Shop-Domain": "acme-eu.myshopify.com",
        "X-Shopify-API-Version": "2026-04",
        "X-Shopify-Webhook-Id": f"wh-{event_id}",
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Triggered-At": "2026-11-28T15:05:12.123Z",
    }


def woo_order(order_id: int = 4711, **overrides: Any) -> dict[str, Any]:
    """An order.created webhook body (REST API v3 order resource, trimmed).

    Its totals add up, as WooCommerce's do (`woo_totals`); a test that changes lines afterwards
    calls `woo_totals` again.
    """
    order = {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "order_key": "wc_order_kVzZ8q",
        "created_via": "checkout",
        "status": "processing",
        "currency": "EUR",
        "date_created_gmt": "2026-11-28T15:10:00",
        "prices_include_tax": False,
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": "0.00",
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": "39.40",
        "total_tax": "0.00",
        "customer_id": 12,
        "customer_note": "",
        "billing": {
            "first_name": "Jonas",
            "last_name": "Becker",
            "company": "",
            "address_1": "Lindenstraße 5",
            "address_2": "",
            "city": "Köln",
            "state": "",
            "postcode": "50674",
            "country": "DE",
            "email": "jonas.becker@example.de",
            "phone": "0221 555 123",
        },
        "shipping": {
            "first_name": "Jonas",
            "last_name": "Becker",
            "company": "",
            "address_1": "Lindenstraße 5",
            "address_2": "",
            "city": "Köln",
            "state": "",
            "postcode": "50674",
            "country": "DE",
        },
        "payment_method": "stripe",
        "payment_method_title": "Credit card (Stripe)",
        "transaction_id": "pi_3QfT2kLmN0pQ",
        "date_paid": "2026-11-28T16:10:05",
        "date_paid_gmt": "2026-11-28T15:10:05",
        "line_items": [
            {
                "id": 315,
                "name": "Organic Tee - Black, M",
                "product_id": 93,
                "variation_id": 101,
                "quantity": 1,
                "tax_class": "",
                "subtotal": "24.90",
                "subtotal_tax": "0.00",
                "total": "24.90",
                "total_tax": "0.00",
                "taxes": [],
                "sku": "WOO-TEE-BLK-M",
                "price": 24.9,
            },
            {
                "id": 316,
                "name": "Enamel Mug",
                "product_id": 94,
                "variation_id": 0,
                "quantity": 1,
                "subtotal": "14.50",
                "subtotal_tax": "0.00",
                "total": "14.50",
                "total_tax": "0.00",
                "taxes": [],
                "sku": "WOO-MUG-WHT",
                "price": 14.5,
            },
        ],
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
    }
    order = {**order, **overrides}
    return order if WOO_TOTALS & overrides.keys() else _added_up(woo_totals, order)


def _added_up(totals: Any, order: dict[str, Any]) -> dict[str, Any]:
    """The order with its totals, or as it is when it is malformed on purpose (a test's)."""
    try:
        return totals(order)
    except (InvalidOperation, TypeError, KeyError, ValueError):
        return order


def woo_totals(order: dict[str, Any]) -> dict[str, Any]:
    """The order's totals as WooCommerce computes them from its lines (in place): every line
    amount without tax, the tax beside it."""
    currency = order["currency"]

    def total(rows: list[dict[str, Any]], field: str) -> Decimal:
        return sum((Decimal(str(row.get(field) or 0)) for row in rows), Decimal(0))

    items, shipping = order["line_items"], order.get("shipping_lines") or []
    fees = order.get("fee_lines") or []
    discount = total(items, "subtotal") - total(items, "total")
    discount_tax = total(items, "subtotal_tax") - total(items, "total_tax")
    tax = total(items, "total_tax") + total(shipping, "total_tax") + total(fees, "total_tax")
    paid = total(items, "total") + total(shipping, "total") + total(fees, "total") + tax
    order |= {
        "discount_total": money.text(max(discount, Decimal(0)), currency),
        "discount_tax": money.text(max(discount_tax, Decimal(0)), currency),
        "shipping_total": money.text(total(shipping, "total"), currency),
        "shipping_tax": money.text(total(shipping, "total_tax"), currency),
        "cart_tax": money.text(total(items, "total_tax"), currency),
        "total_tax": money.text(tax, currency),
        "total": money.text(paid, currency),
    }
    return order


WOO_SKUS = {"WOO-TEE-BLK-M": "TEE-ORG-BLK-M", "WOO-MUG-WHT": "MUG-ENM-350-WHT"}


def woo_headers(body: bytes, secret: str, delivery_id: str) -> dict[str, str]:
    """The headers WooCommerce sends with a webhook delivery."""
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://shop.example.de/",
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "created",
        "X-WC-Webhook-Signature": base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()
        ).decode(),
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": delivery_id,
    }


def amazon_order(order_id: str, updated: str, **overrides: Any) -> dict[str, Any]:
    """An order of the Orders API v2026-01-01 with BUYER and RECIPIENT data."""
    order = {
        "orderId": order_id,
        "orderAliases": [],
        "createdTime": updated,
        "lastUpdatedTime": updated,
        "programs": [],
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": "A1PA6795UKMFR9",
            "marketplaceName": "Amazon.de",
        },
        "buyer": {
            "buyerName": "Max Mustermann",
            "buyerEmail": "abc123xyz@marketplace.amazon.de",
        },
        "recipient": {
            "deliveryAddress": {
                "name": "Max Mustermann",
                "addressLine1": "Hauptstraße 1",
                "city": "München",
                "stateOrRegion": "Bayern",
                "postalCode": "80331",
                "countryCode": "DE",
                "addressType": "RESIDENTIAL",
            }
        },
        "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
        "orderItems": [
            {
                "orderItemId": f"{order_id[-6:]}01",
                "quantityOrdered": 2,
                "product": {
                    "asin": "B0TEE00001",
                    "title": "Organic Tee Black M",
                    "sellerSku": "AMZ-TEE-BLK-M",
                    "condition": {"conditionType": "NEW"},
                    "price": {"unitPrice": {"amount": "24.90", "currencyCode": "EUR"}},
                },
            }
        ],
        "packages": [],
    }
    return {**order, **overrides}


AMAZON_SKUS = {"AMZ-TEE-BLK-M": "TEE-ORG-BLK-M"}


def shopee_order(order_sn: str, status: str = "READY_TO_SHIP", **overrides: Any) -> dict:
    """One order of get_order_detail's order_list, with the optional fields we ask for."""
    order = {
        "order_sn": order_sn,
        "region": "SG",
        "currency": "SGD",
        "cod": False,
        "order_status": status,
        "create_time": 1764300000,
        "update_time": 1764300300,
        "buyer_user_id": 25187311,
        "buyer_username": "tan.weiling",
        "recipient_address": {
            "name": "Tan Wei Ling",
            "phone": "6591234567",
            "town": "",
            "district": "",
            "city": "Singapore",
            "state": "",
            "region": "SG",
            "zipcode": "238801",
            "full_address": "391 Orchard Road, #12-01",
        },
        "item_list": [
            {
                "item_id": 2700081234,
                "item_name": "Organic Tee",
                "item_sku": "SPE-TEE",
                "model_id": 170001,
                "model_name": "Black,M",
                "model_sku": "SPE-TEE-BLK-M",
                "model_quantity_purchased": 1,
                "model_original_price": 39.9,
                "model_discounted_price": 35.9,
                "order_item_id": 2700081234,
            }
        ],
        "total_amount": 35.9,
    }
    return {**order, **overrides}


SHOPEE_SKUS = {"SPE-TEE-BLK-M": "TEE-ORG-BLK-M"}


def shopee_push(shop_id: int, order_sn: str, status: str = "READY_TO_SHIP") -> dict[str, Any]:
    """An order status push (code 3)."""
    return {
        "shop_id": shop_id,
        "code": 3,
        "timestamp": 1764300301,
        "data": {"ordersn": order_sn, "status": status, "update_time": 1764300300},
    }


def shopee_push_headers(url: str, body: bytes, partner_key: str) -> dict[str, str]:
    """Shopee's push Authorization: hex HMAC-SHA256 of `<url>|<body>`."""
    digest = hmac.new(partner_key.encode(), url.encode() + b"|" + body, hashlib.sha256)
    return {"Content-Type": "application/json", "Authorization": digest.hexdigest()}


def dumps(payload: Any) -> bytes:
    """JSON as channels send it (compact)."""
    return json.dumps(payload, separators=(",", ":")).encode()


def one_page_pdf(width: int, height: int) -> bytes:
    """A minimal but valid one-page PDF of this size in points (cross-reference table and all,
    so PDF tools read and merge it as they do a carrier's or a channel's label), blank."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 %d %d]>>" % (width, height),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj" % number + body + b"endobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
