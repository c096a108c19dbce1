"""What each channel says of an order's payment -> the canonical order's payment state (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from services.channel_gateway.channels.amazon import translate as amazon
from services.channel_gateway.channels.base import Connection
from services.channel_gateway.channels.shopee import translate as shopee
from services.channel_gateway.channels.shopify import translate as shopify
from services.channel_gateway.channels.woocommerce import translate as woocommerce
from tests.fakes import payloads as p

SHOPIFY = Connection("shopify-eu", "shopify", {}, p.SHOPIFY_SKUS)
AS_IS = Connection("shop", "shopify", {"require_sku_mapping": False})
WOO = Connection("woo-de", "woocommerce", {}, p.WOO_SKUS)
AMAZON = Connection("amazon-de", "amazon", {}, p.AMAZON_SKUS)
SHOPEE = Connection("shopee-sg", "shopee", {}, p.SHOPEE_SKUS)
COD = "Cash on Delivery (COD)"  # the name of Shopify's own cash on delivery method


def state(translation: Any) -> str:
    """The payment state of a translation that was placed."""
    assert not translation.held, translation.reasons
    return str(translation.order["payment_state"])


# -- Shopify: financial_status, and the COD gateway ----------------------------------------------


def test_shopify_s_sample_orders_create_webhook_is_voided() -> None:
    assert state(shopify.translate(AS_IS, p.shopify_sample_order())) == "voided"


@pytest.mark.parametrize(
    ("financial_status", "expected"),
    [
        ("pending", "pending"),
        ("authorized", "authorized"),
        ("partially_paid", "partially_paid"),
        ("partially_refunded", "partially_refunded"),
        ("refunded", "refunded"),
        ("expired", "voided"),  # never captured: no money will come
        ("something_new", "pending"),  # unknown: never shipped unpaid
    ],
)
def test_a_shopify_order_carries_its_financial_status(financial_status: str, expected: str) -> None:
    payload = p.shopify_order(101, financial_status=financial_status)

    assert state(shopify.translate(SHOPIFY, payload)) == expected


def test_a_shopify_order_paid_by_card_is_paid_and_one_without_a_financial_status_too() -> None:
    paid = p.shopify_order(102)
    absent = {k: v for k, v in p.shopify_order(103).items() if k != "financial_status"}

    assert state(shopify.translate(SHOPIFY, paid)) == "paid"
    assert state(shopify.translate(SHOPIFY, absent)) == "paid"


def test_a_pending_shopify_order_paid_cash_on_delivery_is_cash_on_delivery() -> None:
    cod = p.shopify_order(104, financial_status="pending", payment_gateway_names=[COD], gateway=COD)
    app = p.shopify_order(
        105, financial_status="pending", payment_gateway_names=["cash_on_delivery"]
    )
    bank = p.shopify_order(106, financial_status="pending", payment_gateway_names=["Bank Deposit"])
    collected = p.shopify_order(107, financial_status="paid", payment_gateway_names=[COD])

    assert state(shopify.translate(SHOPIFY, cod)) == "cash_on_delivery"
    assert state(shopify.translate(SHOPIFY, app)) == "cash_on_delivery"
    assert state(shopify.translate(SHOPIFY, bank)) == "pending"
    assert state(shopify.translate(SHOPIFY, collected)) == "paid"


# -- WooCommerce: status, payment_method, date_paid ----------------------------------------------


def _unpaid_woo(order_id: int, status: str, method: str = "bacs") -> dict[str, Any]:
    return p.woo_order(
        order_id,
        status=status,
        payment_method=method,
        payment_method_title="Direct bank transfer" if method == "bacs" else method,
        transaction_id="",
        date_paid=None,
        date_paid_gmt=None,
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", "pending"),  # received, no payment made
        ("on-hold", "pending"),  # awaiting payment confirmation (bank transfer)
        ("failed", "pending"),
        ("cancelled", "voided"),
        ("checkout-draft", "pending"),  # not an order that may ship
    ],
)
def test_an_unpaid_woocommerce_order_is_not_paid(status: str, expected: str) -> None:
    assert state(woocommerce.translate(WOO, _unpaid_woo(4701, status))) == expected


def test_a_processing_or_completed_woocommerce_order_is_paid_and_a_refunded_one_refunded() -> None:
    processing = p.woo_order(4702)
    completed = p.woo_order(4703, status="completed", date_completed="2026-11-30T09:00:00")
    refunded = p.woo_order(4704, status="refunded")
    paid_then_held = p.woo_order(4705, status="on-hold")  # date_paid says the money came

    assert state(woocommerce.translate(WOO, processing)) == "paid"
    assert state(woocommerce.translate(WOO, completed)) == "paid"
    assert state(woocommerce.translate(WOO, refunded)) == "refunded"
    assert state(woocommerce.translate(WOO, paid_then_held)) == "paid"


def test_a_woocommerce_cash_on_delivery_order_is_cash_on_delivery_though_processing() -> None:
    # WooCommerce's COD gateway moves the order to processing and so stamps date_paid.
    cod = p.woo_order(
        4706, payment_method="cod", payment_method_title="Cash on delivery", transaction_id=""
    )
    cancelled = _unpaid_woo(4707, "cancelled", method="cod")

    assert state(woocommerce.translate(WOO, cod)) == "cash_on_delivery"
    assert state(woocommerce.translate(WOO, cancelled)) == "voided"


# -- Amazon (Orders v2026-01-01): fulfillment.fulfillmentStatus, payment.paymentExecutions -------


def _amazon(order_id: str, status: str | None, method: str | None = None) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if status is not None:
        overrides["fulfillment"] = {"fulfillmentStatus": status, "fulfilledBy": "MERCHANT"}
    if method is not None:
        execution = {
            "paymentMethod": method,
            "paymentAmount": {"amount": "49.80", "currencyCode": "EUR"},
        }
        overrides["payment"] = {"paymentExecutions": [execution]}
    order = p.amazon_order(order_id, "2026-11-28T10:00:00Z", **overrides)
    if status is None:
        order.pop("fulfillment")  # getOrder without includedData=FULFILLMENT
    return {"order": order}


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        ("PENDING", None, "pending"),  # Amazon: not ready for shipment
        ("PENDING_AVAILABILITY", None, "pending"),
        ("PENDING", "CashOnDelivery", "pending"),  # not ready, COD or not
        ("UNSHIPPED", None, "paid"),
        ("UNSHIPPED", "CreditCard", "paid"),
        ("UNSHIPPED", "CashOnDelivery", "cash_on_delivery"),
        ("CANCELLED", None, "voided"),
        (None, None, "paid"),  # the poller asks for UNSHIPPED orders only
    ],
)
def test_an_amazon_order_carries_its_fulfillment_status_and_payment_method(
    status: str | None, method: str | None, expected: str
) -> None:
    payload = _amazon("028-2000000-0000001", status, method)

    assert state(amazon.translate(AMAZON, payload)) == expected


# -- Shopee: order_status and cod ------------------------------------------------------------------


def _shopee(order_sn: str, status: str, cod: bool = False) -> dict[str, Any]:
    order = p.shopee_order(order_sn, status, cod=cod)
    return {"error": "", "message": "", "response": {"order_list": [order]}}


def test_a_shopee_order_ready_to_ship_is_paid_or_cash_on_delivery() -> None:
    assert state(shopee.translate(SHOPEE, _shopee("SN-PAID", "READY_TO_SHIP"))) == "paid"
    cod = shopee.translate(SHOPEE, _shopee("SN-COD", "READY_TO_SHIP", cod=True))
    assert state(cod) == "cash_on_delivery"


@pytest.mark.parametrize(
    ("status", "cod", "expected"),
    [("UNPAID", False, "pending"), ("CANCELLED", True, "voided"), ("SHIPPED", False, "paid")],
)
def test_a_shopee_order_not_ready_to_ship_is_held_with_its_payment_state_in_the_draft(
    status: str, cod: bool, expected: str
) -> None:
    held = shopee.translate(SHOPEE, _shopee("SN-HELD", status, cod=cod))

    assert held.held and held.reasons == [f"Shopee order status is {status}"]
    assert held.draft["payment_state"] == expected


# -- a held order keeps its payment state ----------------------------------------------------------


def test_a_held_translation_keeps_the_channel_s_payment_state_in_its_draft() -> None:
    payload = p.shopify_order(108, financial_status="pending")
    payload["line_items"][0]["sku"] = "UNMAPPED"

    held = shopify.translate(SHOPIFY, payload)

    assert held.held and any("unknown SKU UNMAPPED" in r for r in held.reasons)
    assert held.order is None
    assert held.draft["payment_state"] == "pending"
