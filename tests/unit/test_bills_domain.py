"""Bills: the aggregate, its token, the PromptPay payload, the card webhook's signature, and a
bill's life in the gateway's application (confirmed -> order placed -> paid -> shipped; expired)."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from services.channel_gateway.application import ChannelOrders, CustomerDetails, NewBill
from services.channel_gateway.bootstrap import _bill_policy, events
from services.channel_gateway.channels.checkout import (
    CheckoutError,
    SignatureError,
    StripeCheckout,
    from_smallest_units,
    smallest_units,
)
from services.channel_gateway.domain import (
    BILL_CHANNEL,
    Bill,
    BillClosedError,
    BillNotFoundError,
    BillStatus,
    InvalidBillError,
    PaymentMethod,
    PaymentMismatchError,
    bill_id_for,
    order_id_for,
    token_hash,
)
from services.channel_gateway.domain.promptpay import (
    PromptPayIdError,
    crc16_ccitt_false,
    promptpay_payload,
)
from services.channel_gateway.integration import CONSUMES
from services.channel_gateway.settings import Settings
from shared import events as ev
from tests import factories
from tests.fakes.stripe import stripe_signature
from tests.kit import apply

EVENTS = events()


def thai_bill(**overrides: object) -> NewBill:
    """Two Thai-named lines, a discount to spread and a shipping fee, in baht."""
    values: dict[str, object] = {
        "chat": "line",
        "handle": "U4af4980629",
        "customer_name": "สมชาย ใจดี",
        "lines": [
            {"sku": "TEE-M", "quantity": 2, "unit_price": "199.00", "title": "เสื้อยืด สีดำ M"},
            {"sku": "CAP-1", "quantity": 1, "unit_price": "150.50", "title": "หมวก"},
        ],
        "shipping_fee": Decimal("40.00"),
        "discount": Decimal("48.50"),
        "note": "ส่งด่วนนะคะ",
        "currency": "THB",
    }
    values.update(overrides)
    return NewBill(**values)  # type: ignore[arg-type]


def customer(method: PaymentMethod = PaymentMethod.CARD) -> CustomerDetails:
    return CustomerDetails(
        name="สมชาย ใจดี",
        phone="0812345678",
        email=None,
        line1="99/1 ถนนสุขุมวิท ซอย 11",
        line2="แขวงคลองเตยเหนือ",
        city="เขตวัฒนา",
        state="กรุงเทพมหานคร",
        postal_code="10110",
        country="TH",
        payment_method=method,
    )


@pytest.fixture
def app() -> ChannelOrders:
    return ChannelOrders()


def published(app: ChannelOrders, aggregate_id: object) -> list[object]:
    return [EVENTS.to_integration(e) for e in app.events.get(aggregate_id)]  # type: ignore[arg-type]


# -- the token and the link ---------------------------------------------------------------------


def test_only_the_tokens_hash_is_stored_and_it_finds_the_bill(app: ChannelOrders):
    bill, token = app.bills.create(thai_bill(), timedelta(hours=72), "seller@shop.example")
    assert len(token) >= 40  # 256 random bits, URL-safe
    assert bill.token_hash == token_hash(token) != token
    assert bill.id == bill_id_for(token_hash(token))
    stored = [e.__dict__ for e in app.events.get(bill.id)]  # type: ignore[arg-type]
    assert token not in repr(stored)
    assert app.bills.by_token(token).id == bill.id


def test_a_wrong_token_and_an_expired_bill_are_the_same_not_found(app: ChannelOrders):
    _, token = app.bills.create(thai_bill(), timedelta(hours=72), "seller")
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(BillNotFoundError):
        app.bills.by_token(wrong)
    with pytest.raises(BillNotFoundError):
        app.bills.by_token("short")
    _, gone = app.bills.create(thai_bill(), timedelta(microseconds=1), "seller")
    time.sleep(0.01)
    with pytest.raises(BillNotFoundError):
        app.bills.by_token(gone)


# -- the aggregate ------------------------------------------------------------------------------


def test_the_total_is_items_less_discount_plus_shipping(app: ChannelOrders):
    bill, _ = app.bills.create(thai_bill(), timedelta(hours=1), "seller")
    assert bill.items_total == Decimal("548.50")
    assert bill.total == Decimal("540.00")  # 548.50 - 48.50 + 40.00


def test_a_discount_above_the_items_is_refused():
    with pytest.raises(InvalidBillError):
        Bill.make(
            "0" * 64,
            chat="facebook",
            handle="somchai",
            customer_name="Somchai",
            lines=[{"sku": "A", "quantity": 1, "unit_price": "10", "title": None}],
            shipping_fee=Decimal(0),
            discount=Decimal("10.01"),
            note=None,
            currency="THB",
            expires_at="2030-01-01T00:00:00.000000Z",
            created_by="seller",
        )


def test_three_decimal_amounts_are_kept_exactly(app: ChannelOrders):
    lines = [{"sku": "DATES-1KG", "quantity": 3, "unit_price": "1.235", "title": "تمر"}]
    bill, _ = app.bills.create(
        thai_bill(lines=lines, currency="KWD", shipping_fee=Decimal("0.500"), discount=Decimal(0)),
        timedelta(hours=1),
        "seller",
    )
    assert bill.total == Decimal("4.205")
    with pytest.raises(CheckoutError):  # Stripe's three-decimal amounts end in 0
        smallest_units(bill.total, "KWD")
    with pytest.raises(InvalidBillError):  # 1.2345 KWD has four places
        app.bills.create(
            thai_bill(lines=[{**lines[0], "unit_price": "1.2345"}], currency="KWD"),
            timedelta(hours=1),
            "seller",
        )


# -- confirmed: the canonical order ------------------------------------------------------------


def test_confirming_places_the_order_pending_with_the_bills_money(app: ChannelOrders):
    bill, token = app.bills.create(thai_bill(), timedelta(hours=72), "seller")
    app.bills.confirm(bill.id, customer(PaymentMethod.TRANSFER))

    order_id = order_id_for(BILL_CHANNEL, str(bill.id))
    [received] = [e for e in published(app, order_id) if isinstance(e, ev.ChannelOrderReceived)]
    assert received.payment_state == "pending"
    assert received.channel_order_number == bill.number
    assert received.customer.name == "สมชาย ใจดี"
    assert received.customer.email == f"{bill.number.lower()}@line.chat"
    assert received.shipping_address.country == "TH"
    # The discount is spread over the lines by largest remainder; the lines and the shipping
    # line pay exactly the bill's total.
    assert sum(line.discount or 0 for line in received.lines) == Decimal("48.50")
    assert received.totals is not None and received.totals.paid == Decimal("540.00")
    assert received.shipping_lines and received.shipping_lines[0].price == Decimal("40.00")
    with pytest.raises(BillClosedError):  # a bill is confirmed once
        app.bills.confirm(bill.id, customer(PaymentMethod.TRANSFER))
    assert app.bills.by_token(token).order_id == order_id


def test_cash_on_delivery_goes_in_as_such_and_never_expires(app: ChannelOrders):
    bill, _ = app.bills.create(thai_bill(), timedelta(microseconds=1), "seller")
    # Past its time before confirming, the bill cannot be confirmed any more.
    time.sleep(0.01)
    with pytest.raises(BillNotFoundError):
        app.bills.confirm(bill.id, customer(PaymentMethod.COD))

    fresh, _ = app.bills.create(thai_bill(), timedelta(hours=1), "seller")
    app.bills.confirm(fresh.id, customer(PaymentMethod.COD))
    order_id = order_id_for(BILL_CHANNEL, str(fresh.id))
    [received] = [e for e in published(app, order_id) if isinstance(e, ev.ChannelOrderReceived)]
    assert received.payment_state == "cash_on_delivery"
    assert not app.bills.get(fresh.id).due("2999-01-01T00:00:00.000000Z")


# -- paid, shipped, expired ---------------------------------------------------------------------


def test_a_card_payment_pays_the_bill_and_moves_the_orders_payment_once(app: ChannelOrders):
    bill, _ = app.bills.create(thai_bill(), timedelta(hours=72), "seller")
    app.bills.confirm(bill.id, customer(PaymentMethod.CARD))
    with pytest.raises(PaymentMismatchError):
        app.bills.pay(bill.id, "card", "pi_1", Decimal("539.99"), "card")
    assert app.bills.pay(bill.id, "card", "pi_1", Decimal("540.00"), "card") is True
    assert app.bills.pay(bill.id, "card", "pi_1", Decimal("540.00"), "card") is False  # again

    order_id = order_id_for(BILL_CHANNEL, str(bill.id))
    news = [e for e in published(app, order_id) if isinstance(e, ev.ChannelPaymentChanged)]
    assert [(n.payment_state, n.reference) for n in news] == [("paid", "pi_1")]
    assert app.bills.get(bill.id).status == BillStatus.PAID


def test_a_shipment_of_the_bills_order_ships_the_bill_with_its_tracking(app: ChannelOrders):
    bill, _ = app.bills.create(thai_bill(), timedelta(hours=72), "seller")
    app.bills.confirm(bill.id, customer(PaymentMethod.CARD))
    app.bills.pay(bill.id, "card", "pi_2", Decimal("540.00"), "card")
    order_id = order_id_for(BILL_CHANNEL, str(bill.id))
    shipment = factories.shipped(
        order_id, {"TEE-M": 2, "CAP-1": 1}, carrier="Kerry", tracking_number="KEX123456789TH"
    )
    apply(app, CONSUMES, shipment, shipment)  # redelivered: once

    shipped = app.bills.get(bill.id)
    assert shipped.status == BillStatus.SHIPPED
    assert [(s["carrier"], s["tracking_number"]) for s in shipped.shipments] == [
        ("Kerry", "KEX123456789TH")
    ]
    # The link (in a chat history, showing name, phone and address) closes in a month.
    at = shipped.modified_on
    assert shipped.open_at((at + timedelta(days=29)).isoformat())
    assert not shipped.open_at((at + timedelta(days=31)).isoformat())


def test_an_unpaid_bill_past_its_time_expires_and_its_order_is_cancelled(app: ChannelOrders):
    bill, token = app.bills.create(thai_bill(), timedelta(seconds=0.05), "seller")
    app.bills.confirm(bill.id, customer(PaymentMethod.PROMPTPAY))
    assert app.bills.expire(bill.id) is False  # not yet due
    time.sleep(0.1)
    assert app.bills.expire(bill.id) is True
    assert app.bills.expire(bill.id) is False

    order_id = order_id_for(BILL_CHANNEL, str(bill.id))
    [cancel] = [e for e in published(app, order_id) if isinstance(e, ev.ChannelOrderCancelled)]
    assert cancel.reason == "bill expired unpaid"
    assert app.bills.get(bill.id).status == BillStatus.EXPIRED
    with pytest.raises(BillNotFoundError):
        app.bills.by_token(token)
    with pytest.raises(BillClosedError):  # money that comes too late is not taken as paid
        app.bills.pay(bill.id, "promptpay", "late", Decimal("540.00"), "ops")


def test_an_unpaid_bills_order_cancelled_in_the_oms_expires_it(app: ChannelOrders):
    bill, _ = app.bills.create(thai_bill(), timedelta(hours=72), "seller")
    app.bills.confirm(bill.id, customer(PaymentMethod.TRANSFER))
    order_id = order_id_for(BILL_CHANNEL, str(bill.id))
    apply(app, CONSUMES, factories.order_cancelled(order_id, reason="payment overdue"))
    assert app.bills.get(bill.id).status == BillStatus.EXPIRED
    # Nothing was paid: no refund is due (a paid bill's cancel would make one, README).
    assert not [e for e in published(app, order_id) if isinstance(e, ev.ChannelRefundDue)]


def test_a_paid_bills_order_cancelled_before_shipping_cancels_it_with_a_refund_due(
    app: ChannelOrders,
):
    bill, _ = app.bills.create(thai_bill(), timedelta(hours=72), "seller")
    app.bills.confirm(bill.id, customer(PaymentMethod.CARD))
    app.bills.pay(bill.id, "card", "pi_3", Decimal("540.00"), "card")
    order_id = order_id_for(BILL_CHANNEL, str(bill.id))
    apply(
        app,
        CONSUMES,
        factories.order_cancelled(order_id, reason="out of stock", payment_state="paid"),
    )
    assert app.bills.get(bill.id).status == BillStatus.CANCELLED
    [due] = [e for e in published(app, order_id) if isinstance(e, ev.ChannelRefundDue)]
    assert due.amount == Decimal("500.00")  # the lines' paid; shipping is paid back by ops


def test_slips_are_for_transfer_and_promptpay_bills_only(app: ChannelOrders):
    bill, _ = app.bills.create(thai_bill(), timedelta(hours=72), "seller")
    app.bills.confirm(bill.id, customer(PaymentMethod.CARD))
    with pytest.raises(BillClosedError):
        app.bills.awaiting_slip(bill.id)


# -- PromptPay ----------------------------------------------------------------------------------


def test_crc16_ccitt_false_check_value():
    assert crc16_ccitt_false(b"123456789") == 0x29B1  # the catalogue's check value


@pytest.mark.parametrize(
    ("promptpay_id", "amount", "payload"),
    [
        # Known-good payloads of the promptpay-qr library's tests (dtinth/promptpay-qr).
        (
            "0801234567",
            None,
            "00020101021129370016A000000677010111011300668012345675802TH530376463046197",
        ),
        (
            "+66-89-123-4567",
            None,
            "00020101021129370016A000000677010111011300668912345675802TH5303764630429C1",
        ),
        (
            "1-1111-11111-11-1",
            None,
            "00020101021129370016A000000677010111021311111111111115802TH530376463047B5A",
        ),
        (
            "000-000-0000",
            Decimal("4.22"),
            "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469",
        ),
    ],
)
def test_promptpay_payload_matches_known_good_samples(
    promptpay_id: str, amount: Decimal | None, payload: str
):
    assert promptpay_payload(promptpay_id, amount) == payload


def test_promptpay_refuses_what_is_no_promptpay_id_or_amount():
    with pytest.raises(PromptPayIdError):
        promptpay_payload("12345")
    with pytest.raises(ValueError):
        promptpay_payload("0812345678", Decimal("1.005"))


# -- the card provider's signature -------------------------------------------------------------


def provider() -> StripeCheckout:
    return StripeCheckout("http://127.0.0.1:9", "sk", "whsec_test", 300.0, 5.0)


def test_a_signed_event_verifies_and_anything_else_is_refused():
    body = b'{"id":"evt_1","type":"checkout.session.completed"}'
    provider().verify(body, stripe_signature(body, "whsec_test"))
    for header in (
        None,
        "",
        stripe_signature(body, "another-secret"),
        stripe_signature(body + b" ", "whsec_test"),  # signed another body
        stripe_signature(body, "whsec_test", at=int(time.time()) - 301),  # a replay, too old
        "v1=" + "0" * 64,
    ):
        with pytest.raises(SignatureError):
            provider().verify(body, header)


def test_a_paid_checkout_event_names_the_bill_and_amount_in_major_units():
    bill_id = uuid4()
    body = (
        '{"id":"evt_2","type":"checkout.session.completed","data":{"object":{"id":"cs_1",'
        f'"client_reference_id":"{bill_id}","payment_status":"paid","amount_total":54000,'
        '"currency":"thb","payment_intent":"pi_9"}}}'
    ).encode()
    payment = StripeCheckout.payment(body)
    assert payment is not None
    assert (payment.bill_id, payment.amount, payment.currency, payment.reference) == (
        str(bill_id),
        Decimal("540.00"),
        "THB",
        "pi_9",
    )
    unpaid = body.replace(b'"paid"', b'"unpaid"')
    assert StripeCheckout.payment(unpaid) is None


def test_a_promptpay_id_or_country_that_cannot_work_stops_the_gateway_from_starting():
    with pytest.raises(ValueError, match="OMS_GATEWAY_BILL_PROMPTPAY_ID"):
        _bill_policy(Settings(bill_promptpay_id="12345"))
    with pytest.raises(ValueError, match="OMS_GATEWAY_BILL_COUNTRY"):
        _bill_policy(Settings(bill_country="XX"))
    assert _bill_policy(Settings(bill_promptpay_id="081-234-5678")).promptpay_id


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("49.50", "THB", 4950),
        ("500", "JPY", 500),
        ("5000", "ISK", 500000),  # no decimals in ISO 4217; two at Stripe
        ("1000", "MGA", 1000),  # two decimals in ISO 4217; none at Stripe
        ("1.230", "KWD", 1230),
    ],
)
def test_card_amounts_are_in_stripe_s_units_both_ways(amount: str, currency: str, units: int):
    assert smallest_units(Decimal(amount), currency) == units
    assert from_smallest_units(units, currency) == Decimal(amount)


@pytest.mark.parametrize(("amount", "currency"), [("4.205", "KWD"), ("10.50", "MGA")])
def test_an_amount_stripe_cannot_charge_exactly_is_refused_not_rounded(amount: str, currency: str):
    with pytest.raises(CheckoutError):
        smallest_units(Decimal(amount), currency)


def test_a_signature_header_in_another_script_is_a_bad_signature_not_an_error():
    provider = StripeCheckout("http://127.0.0.1:9", "sk", "whsec", 300.0, 5.0)
    with pytest.raises(SignatureError):
        provider.verify(b"{}", "t=1700000000,v1=ลายเซ็น")
