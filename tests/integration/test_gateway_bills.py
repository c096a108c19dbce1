"""Bills over real HTTP: the seller's API, the customer's page, a card payment through a fake
Stripe Checkout (its signed webhook), transfers with slips, and links that must open nothing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import pytest
import segno

from services.channel_gateway.application import CustomerDetails, NewBill
from services.channel_gateway.application.chat import CHAT_KIND_REF, CHAT_LANGUAGE_REF
from services.channel_gateway.bootstrap import events
from services.channel_gateway.domain import (
    BILL_CHANNEL,
    BillClosedError,
    PaymentMethod,
    order_id_for,
)
from services.channel_gateway.domain.promptpay import promptpay_payload
from services.channel_gateway.integration import CONSUMES
from shared import events as ev
from tests import factories
from tests.fakes.harness import Gateway
from tests.fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, stripe_signature
from tests.kit import apply

pytestmark = pytest.mark.integration
EVENTS = events()
SLIP_LIMIT = 20_000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
BILL = {
    "chat": "instagram",
    "handle": "@somchai.shop",
    "customer_name": "สมชาย ใจดี",
    "currency": "THB",
    "lines": [
        {"sku": "TEE-M", "quantity": 2, "unit_price": "199.00", "title": "เสื้อยืด สีดำ M"},
        {"sku": "CAP-1", "quantity": 1, "unit_price": "150.50", "title": "หมวก"},
    ],
    "shipping_fee": "40.00",
    "discount": "48.50",
    "note": "ส่งด่วนนะคะ",
}
DETAILS = {
    "name": "สมชาย ใจดี",
    "phone": "081-234-5678",
    "line1": "99/1 ถนนสุขุมวิท ซอย 11",
    "line2": "แขวงคลองเตยเหนือ",
    "city": "เขตวัฒนา",
    "state": "กรุงเทพมหานคร",
    "postal_code": "10110",
}


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def gateway(new_database: Any, stripe: FakeStripe) -> Iterator[Gateway]:
    gw = Gateway(
        new_database("gw_bills"),
        card_api_base=stripe.url,
        card_secret_key=SECRET_KEY,
        card_webhook_secret=WEBHOOK_SECRET,
        bill_bank_account="Kasikornbank 123-4-56789-0 (Shop Co., Ltd.)",
        bill_promptpay_id="0812345678",
        bill_slip_max_bytes=SLIP_LIMIT,
        bill_tracking_url="https://track.example/{tracking_number}",
    )
    stripe.webhook_url = f"{gw.server.url}/v1/payment-webhooks/card"
    yield gw
    gw.close()


def make_bill(gw: Gateway, **overrides: Any) -> tuple[dict[str, Any], str]:
    """POST /v1/bills: the answer, and the link's path (/b/<token>)."""
    answer = gw.http.post("/v1/bills", json={**BILL, **overrides})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return body, "/b/" + body["link"].rsplit("/b/", 1)[1]


def open_page(gw: Gateway, path: str, **headers: str) -> tuple[httpx.Response, str]:
    """GET the bill page: the answer and the form's CSRF token (the client keeps the cookie)."""
    page = gw.http.get(path, headers=headers)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    return page, found.group(1) if found else ""


def confirm(gw: Gateway, path: str, method: str) -> httpx.Response:
    _, csrf = open_page(gw, path)
    return gw.http.post(f"{path}/confirm", data={**DETAILS, "payment_method": method, "csrf": csrf})


def published(gw: Gateway, aggregate_id: UUID) -> list[Any]:
    return [EVENTS.to_integration(e) for e in gw.app.events.get(aggregate_id)]


def test_a_customer_pays_a_bill_by_card_and_it_becomes_a_paid_order(
    gateway: Gateway, stripe: FakeStripe
):
    bill, path = make_bill(gateway)
    assert bill["total"] == "540.00" and bill["number"].startswith("B-")

    page, csrf = open_page(gateway, path, **{"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"})
    assert page.status_code == 200
    assert "ยอดรวม" in page.text and "540.00 THB" in page.text  # Thai, by Accept-Language
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["referrer-policy"] == "no-referrer"  # the token stays ours
    assert csrf and "samesite=strict" in page.headers["set-cookie"].lower()
    english, _ = open_page(gateway, f"{path}?lang=en")
    assert "Total" in english.text and "Credit or debit card" in english.text

    confirmed = confirm(gateway, path, "card")
    assert confirmed.status_code == 303, confirmed.text
    order_id = order_id_for(BILL_CHANNEL, bill["bill_id"])
    [received] = published(gateway, order_id)
    assert isinstance(received, ev.ChannelOrderReceived)
    assert (received.payment_state, received.channel_order_number) == ("pending", bill["number"])
    assert received.shipping_address.postal_code == "10110"

    _, csrf = open_page(gateway, path)
    to_provider = gateway.http.post(f"{path}/card", data={"csrf": csrf})
    assert to_provider.status_code == 303, to_provider.text
    [session] = [s for s in stripe.sessions.values() if s["client_reference_id"] == bill["bill_id"]]
    assert to_provider.headers["location"] == session["url"]
    assert (session["amount_total"], session["currency"]) == (54000, "thb")
    # The bill is open 72 h; a checkout at most 24 h (Stripe's limit), so it closes first.
    assert abs(session["expires_at"] - (time.time() + 86_400)) < 120

    paid = stripe.pay(session["id"])
    assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text
    again = stripe.send_event("checkout.session.completed", session)  # Stripe retries
    assert again.json()["status"] == "unchanged"
    news = [e for e in published(gateway, order_id) if isinstance(e, ev.ChannelPaymentChanged)]
    assert [(n.payment_state, n.reference) for n in news] == [("paid", session["payment_intent"])]

    gateway.catch_up()
    listed = gateway.http.get("/v1/bills", params={"status": "paid"}).json()["data"]
    assert bill["bill_id"] in [b["bill_id"] for b in listed]
    one = gateway.http.get(f"/v1/bills/{bill['bill_id']}").json()
    assert (one["status"], one["payment"]["method"], one["total"]) == ("paid", "card", "540.00")
    shown, _ = open_page(gateway, f"{path}?lang=en")
    assert "Paid, being packed" in shown.text

    # Shipped: the carrier's own tracking page is shown; a number that is the merchant's own
    # (a rate table's, not declared real) is not shown to the customer at all.
    own = factories.shipped(
        order_id, {"TEE-M": 1}, tracking_number="OP0000000042", tracking_shared=False
    )
    real = factories.shipped(
        order_id,
        {"TEE-M": 1, "CAP-1": 1},
        carrier="Ninja Van",
        tracking_number="NVTHSHOP000123",
        tracking_url="https://www.ninjavan.co/th-th/tracking?id=NVTHSHOP000123",
    )
    apply(gateway.app, CONSUMES, own, real)
    shipped, _ = open_page(gateway, f"{path}?lang=en")
    assert "Shipped" in shipped.text
    assert "OP0000000042" not in shipped.text
    assert 'href="https://www.ninjavan.co/th-th/tracking?id=NVTHSHOP000123"' in shipped.text


def test_a_wrong_or_expired_link_gets_404_and_shows_nothing_of_the_order(gateway: Gateway):
    bill, path = make_bill(gateway, customer_name="Tanaka Hanako 田中花子")
    wrong = path[:-4] + ("AAAA" if not path.endswith("AAAA") else "BBBB")
    for missing in (wrong, "/b/x", wrong + "/promptpay.svg"):
        answer = gateway.http.get(missing)
        assert answer.status_code == 404
        assert "田中花子" not in answer.text and bill["number"] not in answer.text
    made, token = gateway.app.bills.create(
        NewBill(
            chat="facebook",
            handle="hanako",
            customer_name="田中花子",
            lines=[{"sku": "TEE-M", "quantity": 1, "unit_price": "500", "title": None}],
            shipping_fee=Decimal(0),
            discount=Decimal(0),
            note=None,
            currency="JPY",
        ),
        timedelta(milliseconds=1),
        "seller",
    )
    time.sleep(0.01)
    expired = gateway.http.get(f"/b/{token}")
    assert expired.status_code == 404 and "田中花子" not in expired.text
    refused = gateway.http.post(f"/b/{token}/confirm", data={**DETAILS, "payment_method": "cod"})
    assert refused.status_code == 404
    assert gateway.app.bills.get(made.id).confirmation is None


def test_a_forged_or_replayed_card_webhook_gets_401_and_changes_nothing(
    gateway: Gateway, stripe: FakeStripe
):
    bill, path = make_bill(gateway)
    confirm(gateway, path, "card")
    _, csrf = open_page(gateway, path)
    gateway.http.post(f"{path}/card", data={"csrf": csrf})
    [session] = [s for s in stripe.sessions.values() if s["client_reference_id"] == bill["bill_id"]]
    session = {**session, "payment_status": "paid", "payment_intent": "pi_forged"}
    before = gateway.stored()
    forged = stripe.send_event("checkout.session.completed", session, secret="whsec_guessed")
    assert forged.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"
    body = b'{"type":"checkout.session.completed","data":{"object":{}}}'
    stale = httpx.post(
        stripe.webhook_url,
        content=body,
        headers={"Stripe-Signature": stripe_signature(body, WEBHOOK_SECRET, at=1_700_000_000)},
    )
    assert stale.status_code == 401
    unsigned = httpx.post(stripe.webhook_url, content=body)
    assert unsigned.status_code == 401
    assert gateway.stored() == before
    assert gateway.app.bills.get(UUID(bill["bill_id"])).payment is None


def test_a_transfer_slip_must_be_an_image_or_pdf_under_the_limit_and_the_seller_confirms_it(
    gateway: Gateway,
):
    bill, path = make_bill(gateway)
    assert confirm(gateway, path, "transfer").status_code == 303
    page, csrf = open_page(gateway, f"{path}?lang=en")
    assert "Kasikornbank 123-4-56789-0" in page.text

    def upload(content: bytes, name: str, kind: str, token: str = csrf) -> httpx.Response:
        return gateway.http.post(
            f"{path}/slip", data={"csrf": token}, files={"slip": (name, content, kind)}
        )

    # The browser's claimed type is not trusted: the file's first bytes decide.
    not_a_slip = upload(b"<html><script>alert(1)</script>", "slip.png", "image/png")
    assert not_a_slip.status_code == 415
    assert not_a_slip.headers["content-type"] == "application/problem+json"
    too_large = upload(PNG + b"\x00" * SLIP_LIMIT, "slip.png", "image/png")
    assert too_large.status_code == 413
    assert too_large.headers["content-type"] == "application/problem+json"
    assert upload(PNG, "slip.png", "image/png", token="forged").status_code == 403
    assert gateway.app.bills.get(UUID(bill["bill_id"])).slip is None

    assert upload(PNG, "slip.png", "image/png").status_code == 303
    slip = gateway.http.get(f"/v1/bills/{bill['bill_id']}/slip")
    assert (slip.status_code, slip.headers["content-type"], slip.content) == (200, "image/png", PNG)

    confirmed = gateway.http.post(
        f"/v1/bills/{bill['bill_id']}/payment", json={"reference": "KBANK 0712 1432"}
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "paid", confirmed.text
    order_id = order_id_for(BILL_CHANNEL, bill["bill_id"])
    news = [e for e in published(gateway, order_id) if isinstance(e, ev.ChannelPaymentChanged)]
    assert [n.payment_state for n in news] == ["paid"]
    late = upload(PNG + b"\x01", "slip2.png", "image/png")
    assert late.status_code == 409  # paid: nothing more to upload


def test_promptpay_shows_a_qr_of_the_total(gateway: Gateway):
    bill, path = make_bill(gateway)
    before = gateway.http.get(f"{path}/promptpay.svg")
    assert before.status_code == 404  # not confirmed for PromptPay (yet)
    confirm(gateway, path, "promptpay")
    qr = gateway.http.get(f"{path}/promptpay.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    # The QR holds the EMVCo payload of the bill's total to the shop's PromptPay id.
    payload = promptpay_payload("0812345678", Decimal(bill["total"]))
    assert "5406540.00" in payload
    assert qr.text == segno.make(payload, error="m").svg_inline(scale=6, border=4)


def test_bad_bills_are_422_and_record_nothing(gateway: Gateway):
    before = gateway.stored()
    for bad in (
        {"discount": "900.00"},  # more than the items
        {"shipping_fee": "40.005"},  # baht have two places
        {"chat": "tiktok"},
        {"currency": "XYZ"},
        {"lines": []},
    ):
        answer = gateway.http.post("/v1/bills", json={**BILL, **bad})
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert gateway.stored() == before
    missing = gateway.http.get("/v1/bills/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404


def test_the_sweep_expires_an_unpaid_confirmed_bill_and_cancels_its_order(gateway: Gateway):
    made, token = gateway.app.bills.create(
        NewBill(
            chat="line",
            handle="U1234",
            customer_name="Nok",
            lines=[{"sku": "TEE-M", "quantity": 1, "unit_price": "199.00", "title": None}],
            shipping_fee=Decimal(0),
            discount=Decimal(0),
            note=None,
            currency="THB",
        ),
        timedelta(seconds=1),
        "seller",
    )
    assert confirm(gateway, f"/b/{token}", "transfer").status_code == 303
    time.sleep(1.1)
    gateway.catch_up()
    assert gateway.parts.bill_sweeper.sweep() >= 1
    gateway.catch_up()
    assert gateway.http.get(f"/v1/bills/{made.id}").json()["status"] == "expired"
    order_id = order_id_for(BILL_CHANNEL, str(made.id))
    cancels = [e for e in published(gateway, order_id) if isinstance(e, ev.ChannelOrderCancelled)]
    assert [c.reason for c in cancels] == ["bill expired unpaid"]
    assert gateway.http.get(f"/b/{token}").status_code == 404


def test_a_card_payment_arriving_after_the_bill_expired_is_refused_and_changes_nothing(
    gateway: Gateway, stripe: FakeStripe
):
    made, token = gateway.app.bills.create(
        NewBill(
            chat="facebook",
            handle="somsri",
            customer_name="Somsri",
            lines=[{"sku": "TEE-M", "quantity": 1, "unit_price": "199.00", "title": None}],
            shipping_fee=Decimal(0),
            discount=Decimal(0),
            note=None,
            currency="THB",
        ),
        timedelta(seconds=1),
        "seller",
    )
    path = f"/b/{token}"
    assert confirm(gateway, path, "card").status_code == 303
    _, csrf = open_page(gateway, path)
    assert gateway.http.post(f"{path}/card", data={"csrf": csrf}).status_code == 303
    [session] = [s for s in stripe.sessions.values() if s["client_reference_id"] == str(made.id)]
    time.sleep(1.1)
    gateway.catch_up()
    gateway.parts.bill_sweeper.sweep()
    late = stripe.pay(session["id"])
    assert late.status_code == 409, late.text
    assert gateway.app.bills.get(made.id).status == "expired"
    order_id = order_id_for(BILL_CHANNEL, str(made.id))
    assert not [e for e in published(gateway, order_id) if isinstance(e, ev.ChannelPaymentChanged)]


def test_a_retried_bill_with_its_idempotency_key_is_made_once_and_answers_the_same_link(
    gateway: Gateway,
):
    key = {"Idempotency-Key": "chat-2026-12-07-somchai-1"}
    first = gateway.http.post("/v1/bills", json=BILL, headers=key)
    before = gateway.stored()
    again = gateway.http.post("/v1/bills", json=BILL, headers=key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["bill_id"] == first.json()["bill_id"]
    assert again.json()["link"] == first.json()["link"]  # the link the first answer lost
    assert gateway.stored() == before
    other = gateway.http.post("/v1/bills", json={**BILL, "discount": "0"}, headers=key)
    assert other.status_code == 422 and other.json()["title"] == "Idempotency key reused"
    assert gateway.stored() == before
    without = gateway.http.post("/v1/bills", json=BILL)
    assert without.json()["bill_id"] != first.json()["bill_id"]


def test_only_offered_ways_to_pay_are_taken_and_a_foreign_form_is_refused(gateway: Gateway):
    bill, path = make_bill(
        gateway,
        currency="JPY",
        lines=[{"sku": "TEE-M", "quantity": 1, "unit_price": "2500"}],
        shipping_fee="0",
        discount="0",
    )
    page, csrf = open_page(gateway, f"{path}?lang=en")
    assert 'value="promptpay"' not in page.text  # PromptPay is for baht
    for method in ("promptpay", "bitcoin", ""):
        refused = gateway.http.post(
            f"{path}/confirm", data={**DETAILS, "payment_method": method, "csrf": csrf}
        )
        assert refused.status_code == 422 and "payment_method" in refused.json()["detail"]
    for forged in ("", "ไม่ใช่โทเคน", csrf + "x"):
        refused = gateway.http.post(
            f"{path}/confirm", data={**DETAILS, "payment_method": "cod", "csrf": forged}
        )
        assert refused.status_code == 403, refused.text
    assert gateway.app.bills.get(UUID(bill["bill_id"])).confirmation is None


def test_a_customer_who_clicks_pay_by_card_twice_can_pay_only_the_last_checkout(
    gateway: Gateway, stripe: FakeStripe
):
    bill, path = make_bill(gateway)
    assert confirm(gateway, path, "card").status_code == 303
    _, csrf = open_page(gateway, path)

    first = gateway.http.post(f"{path}/card", data={"csrf": csrf})
    second = gateway.http.post(f"{path}/card", data={"csrf": csrf})  # back, and pay again

    assert (first.status_code, second.status_code) == (303, 303)
    sessions = [s for s in stripe.sessions.values() if s["client_reference_id"] == bill["bill_id"]]
    assert [s["status"] for s in sessions] == ["expired", "open"]
    assert second.headers["location"] == sessions[1]["url"]
    with pytest.raises(ValueError, match="expired"):
        stripe.pay(sessions[0]["id"])  # the first page takes no card any more
    assert stripe.pay(sessions[1]["id"]).json() == {"status": "paid"}
    assert gateway.app.bills.get(UUID(bill["bill_id"])).status == "paid"


def test_a_click_after_the_checkout_was_paid_opens_no_second_one(
    gateway: Gateway, stripe: FakeStripe
):
    bill, path = make_bill(gateway)
    confirm(gateway, path, "card")
    _, csrf = open_page(gateway, path)
    gateway.http.post(f"{path}/card", data={"csrf": csrf})
    [session] = [s for s in stripe.sessions.values() if s["client_reference_id"] == bill["bill_id"]]
    session.update(status="complete", payment_status="paid")  # paid; its webhook still on its way

    again = gateway.http.post(f"{path}/card", data={"csrf": csrf})

    assert again.status_code == 303 and again.headers["location"] == path
    assert [
        s["id"] for s in stripe.sessions.values() if s["client_reference_id"] == bill["bill_id"]
    ] == [session["id"]]


def test_card_is_not_offered_for_a_total_the_provider_cannot_charge_exactly(gateway: Gateway):
    bill, path = make_bill(
        gateway,
        currency="KWD",
        lines=[{"sku": "TEE-M", "quantity": 1, "unit_price": "4.205"}],
        shipping_fee="0",
        discount="0",
    )
    page, _ = open_page(gateway, f"{path}?lang=en")

    assert 'value="card"' not in page.text  # Stripe takes KWD to the 10 fils
    assert confirm(gateway, path, "card").status_code == 422
    assert gateway.app.bills.get(UUID(bill["bill_id"])).confirmation is None


def test_a_huge_upload_to_any_bill_link_is_refused_before_it_is_read(gateway: Gateway):
    # Anyone may post to /b/...: a body past a slip's limit (and a form's fields) is a 413
    # before the form is parsed, so nobody fills the gateway's disk with a bogus token.
    huge = PNG + b"\x00" * (SLIP_LIMIT + 200_000)
    declared = gateway.http.post(
        "/b/" + "x" * 43 + "/slip", files={"slip": ("slip.png", huge, "image/png")}
    )

    def trickle() -> Iterator[bytes]:  # chunked, no Content-Length to go by
        for start in range(0, len(huge), 65_536):
            yield huge[start : start + 65_536]

    chunked = gateway.http.post(
        "/b/" + "x" * 43 + "/slip",
        content=trickle(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )

    for answer in (declared, chunked):
        assert answer.status_code == 413, answer.text
        assert answer.headers["content-type"] == "application/problem+json"


@pytest.fixture(scope="module")
def reserving(new_database: Any) -> Iterator[Gateway]:
    """A gateway that reserves a bill's stock when it is made (bill_reserve_on_create)."""
    gw = Gateway(
        new_database("gw_bills_reserve"),
        bill_bank_account="Kasikornbank 123-4-56789-0 (Shop Co., Ltd.)",
        bill_reserve_on_create=True,
    )
    yield gw
    gw.close()


def news_of(gw: Gateway, order_id: UUID) -> list[Any]:
    """The order's published events (the gateway's own left out)."""
    return [e for e in published(gw, order_id) if e is not None]


def test_a_bill_made_with_reserve_on_create_places_its_unpaid_order_at_once(
    gateway: Gateway, reserving: Gateway
):
    plain, _ = make_bill(gateway)
    assert news_of(gateway, order_id_for(BILL_CHANNEL, plain["bill_id"])) == []

    key = {"Idempotency-Key": "line-U4af4980629-2026-12-07-1"}
    made = reserving.http.post("/v1/bills", json=BILL, headers=key)
    again = reserving.http.post("/v1/bills", json=BILL, headers=key)  # the seller's retry
    assert made.status_code == again.status_code == 201, made.text
    bill = made.json()
    order_id = order_id_for(BILL_CHANNEL, bill["bill_id"])
    [received] = news_of(reserving, order_id)  # one order, whatever the retries
    assert isinstance(received, ev.ChannelOrderReceived)
    # Unpaid: the order service's payment policy keeps it from the warehouse, stock reserved.
    assert (received.payment_state, received.channel_order_number) == ("pending", bill["number"])
    assert [(line.sku, line.quantity) for line in received.lines] == [("TEE-M", 2), ("CAP-1", 1)]
    to_come = received.shipping_address
    assert (to_come.name, to_come.country) == ("สมชาย ใจดี", "TH")
    assert bill["number"] in to_come.line1 and to_come.postal_code == "-"
    assert reserving.app.bills.get(UUID(bill["bill_id"])).status == "unpaid"


def test_confirming_a_reserved_bill_sends_the_address_as_a_ship_to_change_not_a_second_order(
    reserving: Gateway,
):
    bill, path = make_bill(reserving)
    order_id = order_id_for(BILL_CHANNEL, bill["bill_id"])
    assert confirm(reserving, path, "transfer").status_code == 303
    received, ship_to = news_of(reserving, order_id)
    assert isinstance(received, ev.ChannelOrderReceived)
    assert isinstance(ship_to, ev.ChannelShipToChanged)
    assert ship_to.reference == f"bill-confirmed:{bill['bill_id']}"
    address = ship_to.shipping_address
    assert (address.line1, address.postal_code, address.phone) == (
        "99/1 ถนนสุขุมวิท ซอย 11",
        "10110",
        "081-234-5678",
    )
    # A transfer is still awaited: no payment news, the order stays held for it.
    one = reserving.app.bills.get(UUID(bill["bill_id"]))
    assert (one.status, one.order_id) == ("unpaid", order_id)
    assert reserving.app.bills.tracking_status(one) is None
    # The language they confirmed in reaches the order, for the messages its news brings.
    refs = reserving.app.repository.get(order_id).refs
    assert (refs[CHAT_KIND_REF], refs[CHAT_LANGUAGE_REF]) == ("instagram", "en")


def test_confirming_a_reserved_bill_for_cash_on_delivery_sends_the_address_before_the_payment(
    reserving: Gateway,
):
    bill, path = make_bill(reserving, chat="line", handle="U4af4980629")
    order_id = order_id_for(BILL_CHANNEL, bill["bill_id"])
    assert confirm(reserving, path, "cod").status_code == 303
    news = news_of(reserving, order_id)
    # In this order, one transaction: the order service has the address before it may ship.
    assert [type(e) for e in news] == [
        ev.ChannelOrderReceived,
        ev.ChannelShipToChanged,
        ev.ChannelPaymentChanged,
    ]
    assert news[1].shipping_address.postal_code == "10110"
    assert news[2].payment_state == "cash_on_delivery"
    # Confirmed once: a second confirmation (a form resent from another tab) sends nothing.
    details = CustomerDetails(**DETAILS, email=None, country="TH", payment_method=PaymentMethod.COD)
    with pytest.raises(BillClosedError, match="confirmed already"):
        reserving.app.bills.confirm(UUID(bill["bill_id"]), details)
    assert news_of(reserving, order_id) == news


def test_a_reserved_bill_left_unconfirmed_expires_and_its_order_is_cancelled(reserving: Gateway):
    made, token = reserving.app.bills.create(
        NewBill(
            chat="facebook",
            handle="hanako",
            customer_name="田中花子",
            lines=[{"sku": "TEE-M", "quantity": 3, "unit_price": "1500", "title": None}],
            shipping_fee=Decimal(0),
            discount=Decimal(0),
            note=None,
            currency="JPY",
        ),
        timedelta(seconds=1),
        "seller",
        reserve_in="JP",
    )
    order_id = order_id_for(BILL_CHANNEL, str(made.id))
    [received] = news_of(reserving, order_id)
    assert received.shipping_address.country == "JP"
    time.sleep(1.1)
    reserving.catch_up()
    assert reserving.parts.bill_sweeper.sweep() >= 1
    [_, cancelled] = news_of(reserving, order_id)
    assert isinstance(cancelled, ev.ChannelOrderCancelled)
    assert cancelled.reason == "bill expired unpaid"  # the order service gives its stock back
    assert reserving.app.bills.get(made.id).status == "expired"
    assert reserving.http.get(f"/b/{token}").status_code == 404
