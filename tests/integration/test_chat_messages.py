"""Messages back to the chat: each status change of a chat order reaches the customer once,
through LINE's push, Messenger's or Instagram's Send API, or by e-mail, as a delivery of the
gateway (retried, once only, failed visibly). Real PostgreSQL and broker, fakes over HTTP."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.channel_gateway.chat.graph import GraphMessages
from services.channel_gateway.chat.senders import OnceOnly
from services.channel_gateway.domain import (
    BILL_CHANNEL,
    AddressKind,
    ChatAddress,
    CustomerStatus,
    order_id_for,
)
from services.channel_gateway.views import SentMessages
from shared import events as ev
from tests import factories
from tests.fakes.harness import deliveries, register, run_gateway
from tests.fakes.line import TOKEN, FakeLine, line_user
from tests.fakes.messenger import PAGE_ID, PAGE_TOKEN, FakeMessenger
from tests.fakes.smtp import SmtpSink
from tests.fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.kit import RunningService, eventually

pytestmark = pytest.mark.integration
TRACKING_PAGE = "https://track.thailandpost.co.th/?trackNumber=[tracking_code]"


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Any]]:
    started = {
        "line": FakeLine().start(),
        "messenger": FakeMessenger().start(),
        "smtp": SmtpSink().start(),
        "stripe": FakeStripe().start(),
    }
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture
def gateway(run_service: Any, fakes: dict[str, Any]) -> RunningService:
    """The whole gateway on the broker, a LINE account and a Facebook Page connected."""
    gw = run_gateway(
        run_service,
        smtp_host="127.0.0.1",
        smtp_port=fakes["smtp"].port,
        smtp_sender="shop@baan-khanom.example",
        shop_name="Baan Khanom",
        card_api_base=fakes["stripe"].url,
        card_secret_key=SECRET_KEY,
        card_webhook_secret=WEBHOOK_SECRET,
    )
    fakes["stripe"].webhook_url = f"{gw.http.base_url}/v1/payment-webhooks/card"
    register(
        gw.http,
        {
            "channel_id": "line",
            "kind": "line",
            "base_url": fakes["line"].url,
            "channel_access_token": TOKEN,
            "tracking_url": TRACKING_PAGE,
        },
    )
    register(
        gw.http,
        {
            "channel_id": "facebook",
            "kind": "facebook",
            "page_id": PAGE_ID,
            "base_url": fakes["messenger"].url,
            "page_access_token": PAGE_TOKEN,
            "tracking_url": TRACKING_PAGE,
        },
    )
    register(
        gw.http,
        {
            "channel_id": "instagram",
            "kind": "instagram",
            "page_id": PAGE_ID,
            "base_url": fakes["messenger"].url,
            "page_access_token": PAGE_TOKEN,
        },
    )
    return gw


def chat_order(gw: RunningService, channel: str, number: str, handle: str) -> uuid.UUID:
    """An order the seller wrote up in a chat, knowing the customer's id there."""
    intake = gw.app.intake.receive_order(
        channel,
        number,
        {"name": "สมหญิง รักดี", "email": "somying@example.co.th"},
        {
            "name": "สมหญิง รักดี",
            "line1": "99/1 ถนนสุขุมวิท",
            "city": "กรุงเทพมหานคร",
            "postal_code": "10110",
            "country": "TH",
        },
        [{"sku": "KHANOM-TAN-12", "quantity": 2, "unit_price": "120.00"}],
        "THB",
        refs={"chat_handle": handle},
    )
    return intake.order_id


def messages_of(gw: RunningService, order_id: uuid.UUID) -> list[dict[str, Any]]:
    return deliveries(gw.http, order_id=str(order_id), action="message")


def settled(gw: RunningService, order_id: uuid.UUID, count: int) -> list[dict[str, Any]]:
    rows = messages_of(gw, order_id)
    return rows if len(rows) == count and all(r["status"] != "pending" for r in rows) else []


def notify(
    gw: RunningService,
    order_id: uuid.UUID,
    status: CustomerStatus,
    to: ChatAddress,
    channel: str | None = None,
    **values: str,
) -> None:
    gw.app.chat.notify_customer(order_id, status, to, values, channel=channel)


def test_a_line_customer_gets_a_message_per_status_with_the_right_tracking_link(
    gateway: RunningService, fakes: dict[str, Any]
):
    line: FakeLine = fakes["line"]
    user = line_user(0xA1)
    order_id = chat_order(gateway, "line", "B-0001", user)
    to = ChatAddress(AddressKind.LINE, user)

    notify(gateway, order_id, CustomerStatus.PAID, to, order_no="B-0001", customer_name="สมหญิง")
    eventually(lambda: settled(gateway, order_id, 1))
    gateway.publish(
        factories.shipped(
            order_id, {"KHANOM-TAN-12": 2}, carrier="Thailand Post", tracking_number="EF582568151TH"
        )
    )
    eventually(lambda: settled(gateway, order_id, 2))
    link = "https://track.thailandpost.co.th/?trackNumber=EF582568151TH"
    for count, status in ((3, CustomerStatus.OUT_FOR_DELIVERY), (4, CustomerStatus.DELIVERED)):
        notify(gateway, order_id, status, to, order_no="B-0001", tracking_url=link)
        eventually(lambda count=count: settled(gateway, order_id, count))

    texts = line.texts_to(user)
    assert len(texts) == 4, texts
    assert texts[0].startswith("Hi สมหญิง, we received your payment for order B-0001")
    assert "order B-0001 has shipped" in texts[1]
    assert f"Tracking number EF582568151TH: {link}" in texts[1]
    assert link in texts[2] and "delivered" in texts[3]
    assert {r["status"] for r in messages_of(gateway, order_id)} == {"delivered"}
    # Every push carried LINE's retry key, a different one per message.
    keys = {
        r.headers["x-line-retry-key"]
        for r in line.sent("POST", "/message/push")
        if user.encode() in r.body
    }
    assert len(keys) == 4


def test_a_message_being_retried_still_reaches_the_customer_before_the_next_one(
    gateway: RunningService, fakes: dict[str, Any]
):
    line: FakeLine = fakes["line"]
    user = line_user(0xC7)
    order_id = chat_order(gateway, "line", "B-0007", user)
    to = ChatAddress(AddressKind.LINE, user)
    line.fail(1, 503, matching="/message/push")  # LINE is busy for the first push

    notify(gateway, order_id, CustomerStatus.CONFIRMED, to, order_no="B-0007", customer_name="Som")
    # The first push failed: it waits for its retry.
    eventually(lambda: [r["attempts"] for r in messages_of(gateway, order_id)] == [1])
    notify(gateway, order_id, CustomerStatus.PAID, to, order_no="B-0007", customer_name="Somying")
    eventually(lambda: settled(gateway, order_id, 2))

    texts = line.texts_to(user)
    assert len(texts) == 2, texts
    assert "B-0007" in texts[0] and "payment" not in texts[0]  # confirmed first
    assert texts[1].startswith("Hi Somying, we received your payment for order B-0007")


def test_a_push_whose_answer_was_lost_is_retried_and_not_shown_twice(
    gateway: RunningService, fakes: dict[str, Any]
):
    line: FakeLine = fakes["line"]
    user = line_user(0xB2)
    order_id = chat_order(gateway, "line", "B-0002", user)
    line.lose_answers(1, matching=user.encode())

    notify(
        gateway,
        order_id,
        CustomerStatus.PAID,
        ChatAddress(AddressKind.LINE, user),
        order_no="B-0002",
        customer_name="Somying",
    )
    (row,) = eventually(lambda: settled(gateway, order_id, 1))

    assert line.texts_to(user) == [
        "Hi Somying, we received your payment for order B-0002. We will let you know when it ships."
    ]
    assert row["status"] == "delivered" and row["attempts"] == 2
    assert "LINE had this message already" in row["outcome"]


def test_a_line_refusal_is_a_visible_failed_delivery_tried_once(
    gateway: RunningService, fakes: dict[str, Any]
):
    order_id = chat_order(gateway, "line", "B-0003", "somying.line")  # not a LINE user id

    notify(
        gateway,
        order_id,
        CustomerStatus.PAID,
        ChatAddress(AddressKind.LINE, "somying.line"),
        order_no="B-0003",
        customer_name="Somying",
    )
    (row,) = eventually(lambda: settled(gateway, order_id, 1))

    assert row["status"] == "failed" and row["attempts"] == 1
    assert "HTTP 400" in row["last_error"] and "'to' property is invalid" in row["last_error"]
    assert fakes["line"].texts_to("somying.line") == []


def test_a_shipped_messenger_order_is_told_with_the_post_purchase_tag(
    gateway: RunningService, fakes: dict[str, Any]
):
    messenger: FakeMessenger = fakes["messenger"]
    psid = "6024147870987654"
    messenger.recipients.add(psid)
    messenger.outside_window.add(psid)  # the customer last wrote days ago
    order_id = chat_order(gateway, "facebook", "FB-0042", psid)

    gateway.publish(
        factories.shipped(
            order_id, {"KHANOM-TAN-12": 2}, carrier="Kerry", tracking_number="KEX1234567890"
        )
    )
    eventually(lambda: settled(gateway, order_id, 1))

    (message,) = [m for m in messenger.messages if m["recipient"] == psid]
    assert message["messaging_type"] == "MESSAGE_TAG"
    assert message["tag"] == "POST_PURCHASE_UPDATE"
    assert "FB-0042" in message["text"]
    assert "trackNumber=KEX1234567890" in message["text"]


def test_an_instagram_message_outside_the_window_fails_visibly_saying_why(
    gateway: RunningService, fakes: dict[str, Any]
):
    messenger: FakeMessenger = fakes["messenger"]
    inside, outside = "17841400000000001", "17841400000000002"
    messenger.recipients.update({inside, outside})
    messenger.outside_window.add(outside)
    order_id = chat_order(gateway, "instagram", "IG-7", inside)
    later_id = chat_order(gateway, "instagram", "IG-8", outside)

    for order, igsid in ((order_id, inside), (later_id, outside)):
        notify(
            gateway,
            order,
            CustomerStatus.DELIVERED,
            ChatAddress(AddressKind.INSTAGRAM, igsid),
            order_no="IG",
        )
    (ok,) = eventually(lambda: settled(gateway, order_id, 1))
    (refused,) = eventually(lambda: settled(gateway, later_id, 1))

    assert ok["status"] == "delivered"
    assert [m["messaging_type"] for m in messenger.messages if m["recipient"] == inside] == [
        "UPDATE"
    ]
    assert refused["status"] == "failed" and refused["attempts"] == 1
    assert "outside of allowed window" in refused["last_error"]


def test_a_graph_message_recorded_as_sent_is_not_sent_again_under_its_key(
    gateway: RunningService, fakes: dict[str, Any]
):
    messenger: FakeMessenger = fakes["messenger"]
    psid = "6024147870911111"
    messenger.recipients.add(psid)
    store = SentMessages(gateway.parts.projections[0].view.datastore)
    to = ChatAddress(AddressKind.FACEBOOK, psid)

    async def send_twice() -> list[str]:
        async with httpx.AsyncClient() as http:
            graph = GraphMessages(
                "facebook", {"base_url": messenger.url, "page_id": PAGE_ID}, PAGE_TOKEN, http
            )
            sender = OnceOnly(graph, store, "facebook")
            # An attempt sent it but died before its outcome was stored; the next one comes.
            return [await sender.send(to, "Order FB-1 shipped", key="delivery-1") for _ in range(2)]

    first, second = asyncio.run(send_twice())

    assert messenger.texts_to(psid) == ["Order FB-1 shipped"]
    assert second == f"sent before, not again: {first}"


def test_a_bill_without_a_chat_is_told_by_email(gateway: RunningService, fakes: dict[str, Any]):
    smtp: SmtpSink = fakes["smtp"]
    bill_id = uuid.uuid4()

    notify(
        gateway,
        bill_id,
        CustomerStatus.PAID,
        ChatAddress(AddressKind.EMAIL, "kenji@example.jp"),
        order_no="B-0099",
        customer_name="山田 健二",
    )
    (row,) = eventually(lambda: settled(gateway, bill_id, 1))

    assert row["status"] == "delivered"
    (mail,) = [m for m in smtp.messages if m["To"] == "kenji@example.jp"]
    assert mail["From"] == "shop@baan-khanom.example"
    body = mail.get_payload(decode=True).decode()
    assert "Hi 山田 健二, we received your payment for order B-0099" in body


def test_merchant_templates_are_checked_and_the_thai_wording_is_what_customers_read(
    gateway: RunningService, fakes: dict[str, Any]
):
    refused = gateway.http.put(
        "/v1/chat/templates", json={"templates": {"th": {"shipped": "ส่งแล้ว [order] [carrier]"}}}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "[order], [carrier]" in refused.json()["detail"]

    wording = "ส่งของแล้วค่ะ คุณ[customer_name] ออเดอร์ [order_no] ติดตาม [tracking_url]"
    saved = gateway.http.put("/v1/chat/templates", json={"templates": {"th": {"shipped": wording}}})
    assert saved.status_code == 200, saved.text
    shown = gateway.http.get("/v1/chat/templates").json()
    assert shown["custom"] == {"th": {"shipped": wording}}
    assert shown["templates"]["th"]["paid"].startswith("คุณ[customer_name]")  # the default

    user = line_user(0xC3)
    order_id = chat_order(gateway, "line", "B-0004", user)
    gateway.app.chat.notify_customer(
        order_id,
        CustomerStatus.SHIPPED,
        ChatAddress(AddressKind.LINE, user),
        {"order_no": "B-0004", "customer_name": "สมหญิง", "tracking_url": "https://t.example/1"},
        language="th",
    )
    eventually(lambda: settled(gateway, order_id, 1))

    assert fakes["line"].texts_to(user) == [
        "ส่งของแล้วค่ะ คุณสมหญิง ออเดอร์ B-0004 ติดตาม https://t.example/1"
    ]


def test_a_message_whose_template_needs_a_missing_value_is_skipped_saying_which(
    gateway: RunningService, fakes: dict[str, Any]
):
    user = line_user(0xD4)
    order_id = chat_order(gateway, "line", "B-0005", user)

    notify(
        gateway,
        order_id,
        CustomerStatus.OUT_FOR_DELIVERY,
        ChatAddress(AddressKind.LINE, user),
        order_no="B-0005",
    )
    (row,) = eventually(lambda: settled(gateway, order_id, 1))

    assert row["status"] == "skipped"
    assert "[tracking_url]" in row["last_error"]
    assert fakes["line"].texts_to(user) == []


# -- the carrier's tracking reaches the customer ----------------------------------------------


def tracked(shipped: Any, status: str, hours: int, url: str | None) -> Any:
    """Fulfillment's ShipmentTracked of the shipment, as a carrier's webhook makes it."""
    return ev.ShipmentTracked(
        shipment_id=shipped.shipment_id,
        order_id=shipped.order_id,
        carrier=shipped.carrier,
        tracking_number=shipped.tracking_number,
        tracking_url=url,
        status=status,
        happened_at=shipped.shipped_at + timedelta(hours=hours),
        description="พัสดุอยู่ระหว่างนำส่ง" if status != "delivered" else "ผู้รับได้รับพัสดุแล้ว",
    )


def tracking_status(gw: RunningService, order_id: uuid.UUID) -> str | None:
    """The channel order's `tracking_status`, as the bill page reads it."""
    status: str | None = gw.http.get(f"/v1/channel-orders/{order_id}").json()["tracking_status"]
    return status


def test_carrier_tracking_gives_a_line_customer_out_for_delivery_and_delivered_once_each(
    gateway: RunningService, fakes: dict[str, Any]
):
    line: FakeLine = fakes["line"]
    user = line_user(0xE5)
    order_id = chat_order(gateway, "line", "B-0101", user)
    page = "https://www.ninjavan.co/th-th/tracking?id=OMSTH000101"
    shipped = factories.shipped(
        order_id,
        {"KHANOM-TAN-12": 2},
        carrier="ninjavan",
        tracking_number="OMSTH000101",
        tracking_url=page,
        tracking_shared=True,
    )
    gateway.publish(shipped)
    eventually(lambda: settled(gateway, order_id, 1))

    # The carrier's webhooks, each sent twice, and an in-transit scan nobody is told of.
    gateway.publish(tracked(shipped, "in_transit", 2, page))
    for status, hours in (("out_for_delivery", 20), ("delivered", 26)):
        news = tracked(shipped, status, hours, page)
        gateway.publish(news, news)
        eventually(lambda status=status: tracking_status(gateway, order_id) == status)
    eventually(lambda: settled(gateway, order_id, 3))

    texts = line.texts_to(user)
    assert len(texts) == 3, texts
    assert f"Tracking number OMSTH000101: {page}" in texts[0]  # the carrier's own page
    assert texts[1] == f"Order B-0101 is out for delivery today. Track it: {page}"
    assert texts[2] == "Order B-0101 was delivered. Thank you for shopping with us!"
    order = gateway.http.get(f"/v1/channel-orders/{order_id}").json()
    assert order["tracking_status"] == "delivered"
    [latest] = order["tracking"]
    assert latest["shipment_id"] == str(shipped.shipment_id)
    assert latest["description"] == "ผู้รับได้รับพัสดุแล้ว"


def test_a_rate_table_shipment_tells_the_customer_it_shipped_without_its_numbers(
    gateway: RunningService, fakes: dict[str, Any]
):
    line: FakeLine = fakes["line"]
    user = line_user(0xF6)
    order_id = chat_order(gateway, "line", "B-0102", user)

    gateway.publish(
        factories.shipped(
            order_id, {"KHANOM-TAN-12": 2}, tracking_number="OP12345678", tracking_shared=False
        )
    )
    (row,) = eventually(lambda: settled(gateway, order_id, 1))

    assert line.texts_to(user) == [
        "Good news: order B-0102 has shipped. It should reach you in a few days."
    ]
    assert row["status"] == "delivered"
    assert "OP12345678" not in str(row)  # neither sent nor kept as a value to send
    assert "not declared real" in row["details"]["values"]["tracking_withheld"]


# -- bills: the customer hears in the bill's chat, in the page's language ---------------------

THAI = {"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"}
ADDRESS = {
    "name": "สมชาย ใจดี",
    "phone": "081-234-5678",
    "line1": "99/1 ถนนสุขุมวิท ซอย 11",
    "city": "เขตวัฒนา",
    "state": "กรุงเทพมหานคร",
    "postal_code": "10110",
}


def make_bill(gw: RunningService, chat: str, handle: str) -> tuple[dict[str, Any], str]:
    """POST /v1/bills: the answer, and the link's path (/b/<token>)."""
    made = gw.http.post(
        "/v1/bills",
        json={
            "chat": chat,
            "handle": handle,
            "customer_name": "สมชาย ใจดี",
            "currency": "THB",
            "lines": [{"sku": "KHANOM-TAN-12", "quantity": 2, "unit_price": "120.00"}],
            "shipping_fee": "40.00",
        },
    )
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body, "/b/" + body["link"].rsplit("/b/", 1)[1]


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def test_a_line_customer_paying_a_bill_on_the_thai_page_hears_each_step_in_thai(
    gateway: RunningService, fakes: dict[str, Any]
):
    line: FakeLine = fakes["line"]
    stripe: FakeStripe = fakes["stripe"]
    user = line_user(0xB111)
    bill, path = make_bill(gateway, "line", user)
    number = bill["number"]
    page = gateway.http.get(path, headers=THAI)
    confirmed = gateway.http.post(
        f"{path}/confirm",
        data={**ADDRESS, "payment_method": "card", "csrf": csrf_of(page)},
        headers=THAI,
    )
    assert confirmed.status_code == 303, confirmed.text
    order_id = order_id_for(BILL_CHANNEL, bill["bill_id"])
    # Messages due together may go in either order: the customer reads this one, then pays.
    eventually(lambda: settled(gateway, order_id, 1))

    to_card = gateway.http.post(f"{path}/card", data={"csrf": csrf_of(page)}, headers=THAI)
    assert to_card.status_code == 303, to_card.text
    paid = stripe.pay(to_card.headers["location"].rsplit("/", 1)[1])
    assert paid.json()["status"] == "paid", paid.text
    eventually(lambda: settled(gateway, order_id, 2))
    assert line.texts_to(user) == [
        f"สวัสดีค่ะ คุณสมชาย ใจดี ขอบคุณค่ะ เราได้รับคำสั่งซื้อ {number} แล้ว",
        f"คุณสมชาย ใจดี เราได้รับการชำระเงินสำหรับคำสั่งซื้อ {number} แล้วค่ะ จะแจ้งให้ทราบเมื่อจัดส่งสินค้า",
    ]

    # Shipped with a carrier that has a tracking page, then out for delivery: the customer
    # hears both in Thai with the carrier's link, and the bill's page shows the carrier's word.
    carrier_page = "https://track.easypost.com/djE6dHJrXzEyMw"
    shipped = factories.shipped(
        order_id,
        {"KHANOM-TAN-12": 2},
        carrier="USPS",
        tracking_number="9400100000000000000042",
        tracking_url=carrier_page,
    )
    gateway.publish(shipped)
    eventually(lambda: settled(gateway, order_id, 3))
    gateway.publish(tracked(shipped, "out_for_delivery", 20, carrier_page))
    eventually(lambda: settled(gateway, order_id, 4))
    texts = line.texts_to(user)
    assert texts[2] == (
        f"คำสั่งซื้อ {number} จัดส่งแล้วค่ะ เลขพัสดุ 9400100000000000000042 ติดตามพัสดุได้ที่ {carrier_page}"
    )
    assert texts[3] == f"คำสั่งซื้อ {number} กำลังนำส่งวันนี้ค่ะ ติดตามได้ที่ {carrier_page}"
    shown = gateway.http.get(path, headers=THAI)
    assert "กำลังนำส่งวันนี้" in shown.text and carrier_page in shown.text


def test_a_bill_for_another_chat_without_an_email_is_a_visible_skipped_message(
    gateway: RunningService, fakes: dict[str, Any]
):
    smtp: SmtpSink = fakes["smtp"]
    silent, silent_path = make_bill(gateway, "other", "WhatsApp +66 81 234 5678")
    told, told_path = make_bill(gateway, "other", "WhatsApp +66 89 765 4321")
    page = gateway.http.get(silent_path)
    gateway.http.post(
        f"{silent_path}/confirm",
        data={**ADDRESS, "payment_method": "cod", "csrf": csrf_of(page)},
    )
    page = gateway.http.get(told_path)
    gateway.http.post(
        f"{told_path}/confirm",
        data={**ADDRESS, "payment_method": "cod", "csrf": csrf_of(page), "email": "som@ex.co.th"},
    )
    silent_order = order_id_for(BILL_CHANNEL, silent["bill_id"])
    told_order = order_id_for(BILL_CHANNEL, told["bill_id"])

    (skipped,) = eventually(lambda: settled(gateway, silent_order, 1))
    assert skipped["status"] == "skipped"
    assert "no API for other chats" in skipped["last_error"]
    assert skipped["details"]["status"] == "confirmed"
    (mailed,) = eventually(lambda: settled(gateway, told_order, 1))
    assert mailed["status"] == "delivered", mailed
    (mail,) = [m for m in smtp.messages if m["To"] == "som@ex.co.th"]
    assert told["number"] in mail.get_payload(decode=True).decode()
    # The placeholder address the order carries for the silent one is never written to.
    assert not [m for m in smtp.messages if str(m["To"]).endswith(".chat")]
