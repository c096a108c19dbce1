"""Edits of an order's lines made in the OMS: the channel order follows each revision once, and
the edit maps to Shopify's order edit mutations and to WooCommerce's line items update."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.channel_gateway import integration
from services.channel_gateway.application import ChannelOrders
from services.channel_gateway.channels.http import Job, PermanentChannelError
from services.channel_gateway.channels.shopify.transport import edit_steps
from services.channel_gateway.channels.woocommerce.transport import edit_items
from services.channel_gateway.domain import DeliveryStatus, delivery_id_for
from shared import events as ev
from tests import factories
from tests.kit import apply

GIFT = "ギフト包装"  # a non-Latin title, as the shop names the line


def order_in(app: ChannelOrders, channel: str, currency: str = "EUR") -> uuid.UUID:
    """An order of two channel lines: 2 tees (discounted) and a mug."""
    intake = app.intake.receive_order(
        channel,
        uuid.uuid4().hex,
        factories.customer(),
        factories.address(),
        [
            {"sku": "TEE", "quantity": 2, "unit_price": "24.90", "line_id": "111"},
            {"sku": "MUG", "quantity": 1, "unit_price": "14.50", "line_id": "222"},
        ],
        currency,
        refs={
            "lines": [
                {"sku": "TEE", "quantity": 2, "line_id": 111, "variant_id": 4001},
                {"sku": "MUG", "quantity": 1, "line_id": 222, "variant_id": 4002},
            ]
        },
    )
    return intake.order_id


def line(sku: str, quantity: int, price: str, **more: Any) -> ev.OrderLine:
    return ev.OrderLine(sku=sku, quantity=quantity, unit_price=Decimal(price), **more)


def edit(
    order_id: uuid.UUID,
    channel: str,
    revision: int = 1,
    source: str = "ops",
    added: list[ev.OrderLine] | None = None,
    cancelled: list[ev.CancelledUnits] | None = None,
) -> ev.OrderLinesChanged:
    """One tee and the mug cancelled, gift wrap added (unless told otherwise)."""
    added = [line("GIFT", 1, "3.00", title=GIFT)] if added is None else added
    if cancelled is None:
        cancelled = [
            ev.CancelledUnits(line=1, sku="TEE", quantity=1, paid=Decimal("22.40")),
            ev.CancelledUnits(line=2, sku="MUG", quantity=1, paid=Decimal("14.50")),
        ]
    return ev.OrderLinesChanged(
        order_id=order_id,
        channel=channel,
        external_id="x",
        revision=revision,
        lines=[line("TEE", 1, "24.90", line_id="111"), *added],
        cancelled=cancelled,
        added=added,
        currency="EUR",
        reason="customer asked",
        source=source,
        changed_at=datetime(2026, 11, 28, 15, 2, 11, tzinfo=UTC),
    )


# -- the channel order follows the edit --------------------------------------------------------


def test_an_ops_edit_is_recorded_once_per_revision_and_one_delivery_tells_the_channel():
    app = ChannelOrders()
    order_id = order_in(app, "shopify-eu")
    first = edit(order_id, "shopify-eu")

    apply(app, integration.CONSUMES, first, first)  # redelivered: old news
    apply(app, integration.CONSUMES, edit(order_id, "shopify-eu", revision=1, added=[]))

    order = app.orders.get(order_id)
    assert order.revision == 1
    assert [(x["sku"], x["quantity"]) for x in order.lines] == [("TEE", 1), ("GIFT", 1)]
    (recorded,) = order.edits
    assert recorded["told"] == integration.TOLD
    delivery = app.deliveries.get(delivery_id_for(order_id, "edit", "revision-1"))
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.details["changed"] == [
        {"line": 1, "line_id": "111", "sku": "TEE", "quantity": 1, "title": None},
        {"line": 2, "line_id": "222", "sku": "MUG", "quantity": 0, "title": None},
    ]
    (gift,) = delivery.details["added"]
    assert gift["key"] == "1:1"
    assert (gift["title"], gift["unit_price"], gift["discount"]) == (GIFT, "3.00", "0")
    assert "product" not in gift  # the order has no line of it: a custom item


def test_the_channel_lines_follow_the_edit_so_later_news_spreads_over_what_is_left():
    app = ChannelOrders()
    order_id = order_in(app, "shopify-eu")
    more_mugs = [line("MUG", 2, "14.50", title="Enamel Mug")]
    cancelled = [ev.CancelledUnits(line=1, sku="TEE", quantity=2, paid=Decimal("49.80"))]

    apply(
        app,
        integration.CONSUMES,
        edit(order_id, "shopify-eu", added=more_mugs, cancelled=cancelled),
    )

    refs = app.orders.get(order_id).refs["lines"]
    # The tee line is gone; the mug's channel line keeps its unit, the added mugs follow.
    assert [(r["sku"], r["quantity"], r.get("line_id")) for r in refs] == [
        ("MUG", 1, 222),
        ("MUG", 2, None),
    ]
    (added,) = app.deliveries.get(delivery_id_for(order_id, "edit", "revision-1")).details["added"]
    assert added["product"] == {"variant_id": 4002}  # the order's mug: added as that variant


@pytest.mark.parametrize(
    ("channel", "source", "told"),
    [
        # Channels not connected here are known by their kind's name.
        ("shopee", "ops", "not told: shopee does not accept edits of an order's lines"),
        ("amazon", "ops", "not told: amazon does not accept edits of an order's lines"),
        ("web", "ops", "nobody to tell: web is the merchant's own channel"),
        ("shopify", "channel", "not told: the edit came from the channel"),
    ],
)
def test_an_edit_no_channel_can_take_is_kept_with_why_and_no_delivery(channel, source, told):
    app = ChannelOrders()
    order_id = order_in(app, channel)

    apply(app, integration.CONSUMES, edit(order_id, channel, source=source))

    order = app.orders.get(order_id)
    assert order.edits[0]["told"] == told
    assert [(x["sku"], x["quantity"]) for x in order.lines] == [("TEE", 1), ("GIFT", 1)]
    with pytest.raises(Exception, match="no delivery"):
        app.deliveries.get(delivery_id_for(order_id, "edit", "revision-1"))


# -- Shopify: the order edit mutations ---------------------------------------------------------


def job(details: dict[str, Any], refs: list[dict[str, Any]], currency: str = "KWD") -> Job:
    return Job(
        delivery_id=uuid.uuid4(),
        action="edit",
        external_id="5829104779429",
        details=details,
        order={"refs": {"lines": refs}, "currency": currency},
    )


KWD_EDIT = {
    "revision": 2,
    "reason": "customer asked",
    "changed_at": "2026-11-28T15:02:11Z",
    "currency": "KWD",
    # A discounted line of 3 loses 2 units.
    "changed": [{"line": 1, "line_id": "111", "sku": "TEE", "quantity": 1}],
    # 3 x 1.250 KWD less 0.100: 3.650 does not divide by 3.
    "added": [
        {
            "key": "2:1",
            "sku": "GIFT",
            "quantity": 3,
            "unit_price": "1.250",
            "discount": "0.100",
            "title": GIFT,
        }
    ],
}
REFS = [{"sku": "TEE", "quantity": 3, "line_id": 111, "title": "Tee"}]


def shopify_state(*items: dict[str, Any]) -> dict[str, Any]:
    tee = {
        "id": "gid://shopify/LineItem/111",
        "title": "Tee",
        "sku": "SHOP-TEE",
        "currentQuantity": 3,
    }
    return {"lineItems": {"nodes": [tee, *items]}}


def test_shopify_sets_the_cancelled_lines_quantity_and_adds_a_custom_item_priced_exactly():
    steps = edit_steps(job(KWD_EDIT, REFS), shopify_state())

    assert steps == [
        (
            "OmsOrderEditSetQuantity",
            {"lineItemId": "gid://shopify/CalculatedLineItem/111", "quantity": 1, "restock": True},
        ),
        # The discount is in the price; 2 units cost a fils more so the items add up to 3.650.
        (
            "OmsOrderEditAddCustomItem",
            {
                "title": GIFT,
                "price": {"amount": "1.217", "currencyCode": "KWD"},
                "quantity": 2,
                "requiresShipping": True,
                "taxable": True,
            },
        ),
        (
            "OmsOrderEditAddCustomItem",
            {
                "title": GIFT,
                "price": {"amount": "1.216", "currencyCode": "KWD"},
                "quantity": 1,
                "requiresShipping": True,
                "taxable": True,
            },
        ),
    ]


def test_shopify_adds_a_known_variant_as_that_variant():
    details = {
        **KWD_EDIT,
        "changed": [],
        "added": [{**KWD_EDIT["added"][0], "product": {"variant_id": 4001}}],
    }

    steps = edit_steps(job(details, REFS), shopify_state())

    assert steps == [
        (
            "OmsOrderEditAddVariant",
            {
                "variantId": "gid://shopify/ProductVariant/4001",
                "quantity": 3,
                "allowDuplicates": True,
            },
        )
    ]


def test_shopify_is_not_edited_again_where_the_order_shows_the_edit_done():
    done = shopify_state(
        {"id": "gid://shopify/LineItem/9001", "title": GIFT, "sku": None, "currentQuantity": 2},
        {"id": "gid://shopify/LineItem/9002", "title": GIFT, "sku": None, "currentQuantity": 1},
    )
    done["lineItems"]["nodes"][0]["currentQuantity"] = 1

    assert edit_steps(job(KWD_EDIT, REFS), done) == []


def test_a_line_without_a_channel_line_id_cannot_be_edited_at_the_channel():
    details = {**KWD_EDIT, "changed": [{"line": 3, "line_id": None, "sku": "GIFT", "quantity": 0}]}

    with pytest.raises(PermanentChannelError, match=r"line 3 \(GIFT\) has no Shopify line item"):
        edit_steps(job(details, REFS), shopify_state())


# -- WooCommerce: one update of the order's line items ------------------------------------------


def woo_order(*more: dict[str, Any]) -> dict[str, Any]:
    tee = {"id": 111, "name": "Tee", "quantity": 3, "subtotal": "3.750", "total": "3.600"}
    return {"currency": "KWD", "line_items": [tee, *more]}


def test_woocommerce_scales_the_stores_own_line_amounts_and_adds_the_line_by_name():
    items = edit_items(job(KWD_EDIT, REFS), woo_order())

    assert items == [
        {"id": 111, "quantity": 1, "subtotal": "1.250", "total": "1.200"},
        {
            "name": GIFT,
            "quantity": 3,
            "subtotal": "3.750",
            "total": "3.650",
            "meta_data": [{"key": "_oms_edit_line", "value": "2:1"}],
        },
    ]


def test_woocommerce_removes_a_line_of_none_and_adds_a_known_product_by_its_id():
    details = {
        **KWD_EDIT,
        "changed": [{"line": 1, "line_id": "111", "sku": "TEE", "quantity": 0}],
        "added": [{**KWD_EDIT["added"][0], "product": {"product_id": 93}}],
    }

    removed, added = edit_items(job(details, REFS), woo_order())

    assert removed == {"id": 111, "quantity": 0}
    assert added["product_id"] == 93


def test_woocommerce_is_not_sent_what_the_order_shows_done():
    done = woo_order(
        {
            "id": 900,
            "name": GIFT,
            "quantity": 3,
            "meta_data": [{"key": "_oms_edit_line", "value": "2:1"}],
        }
    )
    done["line_items"][0]["quantity"] = 1

    assert edit_items(job(KWD_EDIT, REFS), done) == []


def test_a_shipment_after_an_edit_is_told_of_the_channel_line_left_not_the_cancelled_one():
    app = ChannelOrders()
    intake = app.intake.receive_order(
        "amazon",
        "028-1234567-0000301",
        factories.customer(),
        factories.address(),
        [
            {"sku": "TEE", "quantity": 1, "unit_price": "24.90"},
            {"sku": "TEE", "quantity": 1, "unit_price": "19.90"},
        ],
        "EUR",
        refs={
            "lines": [
                {"sku": "TEE", "quantity": 1, "order_item_id": "A"},
                {"sku": "TEE", "quantity": 1, "order_item_id": "B"},
            ]
        },
    )
    cancelled = [ev.CancelledUnits(line=1, sku="TEE", quantity=1, paid=Decimal("24.90"))]
    lines_left = [line("TEE", 1, "19.90")]
    changed = edit(intake.order_id, "amazon", added=[], cancelled=cancelled)
    apply(app, integration.CONSUMES, changed.model_copy(update={"lines": lines_left}))
    shipment = factories.shipped(intake.order_id, {"TEE": 1}, tracking_number="JJD1")

    apply(app, integration.CONSUMES, shipment)

    delivery = app.deliveries.get(
        delivery_id_for(intake.order_id, "shipment", str(shipment.shipment_id))
    )
    job = Job(delivery.id, "shipment", "x", delivery.details, delivery.order)
    assert [(part.ref["order_item_id"], part.quantity) for part in job.spread("TEE", 1)] == [
        ("B", 1)
    ]
    assert delivery.order["fully_shipped"] is True
