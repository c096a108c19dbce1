"""A bill's whole story against the running system: the seller makes it (API or console), the
customer confirms it on its page (over HTTP, and in a real browser on a phone-sized screen) and
pays by card through a fake Stripe Checkout or by transfer with a slip; the order is reserved,
released to the warehouse when paid, picked, packed and shipped (with a fake EasyPost), the bill's
page shows the tracking, and the customer's LINE chat (a fake LINE) hears of each step."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Request, expect

from services.channel_gateway.api.bill_texts import TEXTS
from shared.cli.system import EmbeddedSystem
from tests.browser import chromium, screenshot_dir
from tests.e2e.test_order_story import new_sku, stock_of, stock_up
from tests.fakes import easypost
from tests.fakes.easypost import FakeEasyPost
from tests.fakes.line import TOKEN, FakeLine, line_user
from tests.fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.fakes.warehouse import DIMENSIONS
from tests.integration.test_console_queues import Console
from tests.systems import Api, running_system

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def carrier() -> Iterator[FakeEasyPost]:
    fake = FakeEasyPost().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def line() -> Iterator[FakeLine]:
    fake = FakeLine().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def bill_system(
    tmp_path_factory, postgres_server_url, stripe: FakeStripe, carrier: FakeEasyPost
) -> Iterator[EmbeddedSystem]:
    """The five services and the console, the gateway selling by bill with the fake card
    provider, fulfillment shipping with the fake EasyPost (README, "Carriers")."""
    account = {
        "api_key": easypost.API_KEY,
        "webhook_secret": easypost.WEBHOOK_SECRET,
        "base_url": f"{carrier.url}/v2",
    }
    env = {
        "OMS_FULFILLMENT_EASYPOST": json.dumps(account),
        "OMS_GATEWAY_CARD_API_BASE": stripe.url,
        "OMS_GATEWAY_CARD_SECRET_KEY": SECRET_KEY,
        "OMS_GATEWAY_CARD_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "OMS_GATEWAY_BILL_TRACKING_URL": "https://track.example/{tracking_number}",
        "OMS_GATEWAY_BILL_BANK_ACCOUNT": "SCB 123-456789-0 (Shop Co., Ltd.)",
    }
    var_dir = tmp_path_factory.mktemp("oms-bills")
    with running_system(
        var_dir, postgres_server_url, "bill", stream_jobs=False, console=True, extra_env=env
    ) as oms:
        stripe.webhook_url = f"{oms.urls()['channel_gateway']}/v1/payment-webhooks/card"
        yield oms


@pytest.fixture(scope="module")
def seller(bill_system: EmbeddedSystem) -> Iterator[Api]:
    client = Api(bill_system.urls(), bill_system.admin_token)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def test_a_bill_paid_by_card_is_shipped_and_its_page_shows_the_tracking(
    seller: Api, bill_system: EmbeddedSystem, stripe: FakeStripe
):
    tee = new_sku("TEE")
    stock_up(seller, "WH-BILL", tee, 3)
    made = seller.ok(
        "channel_gateway",
        "POST",
        "/bills",
        json={
            "chat": "line",
            "handle": "U4af4980629",
            "customer_name": "สมหญิง รักดี",
            "currency": "THB",
            "lines": [{"sku": tee, "quantity": 2, "unit_price": "250.00", "title": "เสื้อ"}],
            "shipping_fee": "50.00",
            "discount": "20.00",
        },
    )
    assert made["total"] == "530.00"
    path = "/b/" + made["link"].rsplit("/b/", 1)[1]

    # The customer: no token, no login; only the link.
    with httpx.Client(base_url=bill_system.urls()["channel_gateway"], timeout=15) as phone:
        page = phone.get(path, headers={"Accept-Language": "th"})
        assert page.status_code == 200 and "530.00 THB" in page.text
        confirmed = phone.post(
            f"{path}/confirm",
            data={
                "csrf": csrf_of(page),
                "name": "สมหญิง รักดี",
                "phone": "0891234567",
                "line1": "12 ถนนนิมมานเหมินท์",
                "city": "เมืองเชียงใหม่",
                "state": "เชียงใหม่",
                "postal_code": "50200",
                "payment_method": "card",
            },
        )
        assert confirmed.status_code == 303, confirmed.text
        order_id = _order_of(seller, made["bill_id"])
        held = seller.eventually(
            "order_service", f"/orders/{order_id}", lambda o: o["status"] == "awaiting_payment"
        )
        assert held["payment_state"] == "pending" and held["channel_order_number"] == made["number"]
        assert stock_of(seller, tee)["reserved"] == 2

        to_card = phone.post(f"{path}/card", data={"csrf": csrf_of(phone.get(path))})
        assert to_card.status_code == 303
        session_id = to_card.headers["location"].rsplit("/", 1)[1]
        assert stripe.pay(session_id).json()["status"] == "paid"

        seller.eventually(
            "order_service",
            f"/orders/{order_id}",
            lambda o: o["payment_state"] == "paid" and o["status"] != "awaiting_payment",
        )
        [shipment] = seller.eventually(
            "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: len(p["data"]) == 1
        )["data"]
        pick_list = seller.pick_list("WH-BILL")
        seller.confirm_picks(
            pick_list, [{"sku": li["sku"], "picked": li["quantity"]} for li in pick_list["lines"]]
        )
        seller.ship(shipment["shipment_id"], "TH0146000099990042")

        bill = seller.eventually(
            "channel_gateway", f"/bills/{made['bill_id']}", lambda b: b["status"] == "shipped"
        )
        assert bill["shipments"][0]["tracking_number"] == "TH0146000099990042"
        shown = phone.get(f"{path}?lang=en")
        assert "Shipped" in shown.text
        assert "https://track.example/TH0146000099990042" in shown.text


def _order_of(seller: Api, bill_id: str) -> str:
    """The order id of a confirmed bill (the gateway shows it once its view has it)."""
    bill = seller.eventually("channel_gateway", f"/bills/{bill_id}", lambda b: b["order_id"])
    return str(bill["order_id"])


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def test_a_seller_makes_a_bill_in_the_console_and_confirms_the_transfer_of_its_slip(
    seller: Api, bill_system: EmbeddedSystem
):
    with Console.signed_in(bill_system, bill_system.admin_token) as console:
        form = console.page("/bills")
        filled = {
            "chat": "facebook",
            "handle": "somchai.shop",
            "customer_name": "Somchai Jaidee",
            "currency": "THB",
            "sku_0": "CAP-1",
            "title_0": "หมวก",
            "quantity_0": "3",
            "unit_price_0": "150.50",
            "shipping_fee": "40",
            "discount": "1.50",
        }
        made = console.send(form, "/bills", **filled)
        assert "Send this link" in made.text and "490.00 THB" in made.text, made.text
        link = re.search(r'id="bill-link" readonly value="([^"]+)"', made.html)
        assert link is not None
        # The seller pressed twice: one bill, and the second answer shows the same link.
        again = console.send(form, "/bills", **filled)
        assert f'value="{link.group(1)}"' in again.html
        path = "/b/" + link.group(1).rsplit("/b/", 1)[1]

        with httpx.Client(base_url=bill_system.urls()["channel_gateway"], timeout=15) as phone:
            page = phone.get(path)
            assert "SCB 123-456789-0" not in page.text  # shown once the customer chose it
            phone.post(
                f"{path}/confirm",
                data={
                    "csrf": csrf_of(page),
                    "name": "Somchai Jaidee",
                    "phone": "0812345678",
                    "line1": "1 Rama IV Road",
                    "city": "Pathum Wan",
                    "state": "Bangkok",
                    "postal_code": "10330",
                    "payment_method": "transfer",
                },
            )
            page = phone.get(path)
            assert "SCB 123-456789-0" in page.text
            sent = phone.post(
                f"{path}/slip",
                data={"csrf": csrf_of(page)},
                files={"slip": ("slip.png", PNG, "image/png")},
            )
            assert sent.status_code == 303, sent.text

        unpaid = until_listed(console, "/bills?status=unpaid", "slip to check")
        bill_path = re.search(r'href="(/bills/[0-9a-f-]{36})"', unpaid.html)
        assert bill_path is not None
        bill = console.page(bill_path.group(1))
        slip = console.http.get(f"{bill_path.group(1)}/slip")
        assert (slip.status_code, slip.content) == (200, PNG)
        paid = console.send(bill, f"{bill_path.group(1)}/payment", reference="SCB 0712-88")
        assert "The payment is confirmed" in paid.text
        bill_id = bill_path.group(1).rsplit("/", 1)[1]
        seller.eventually("channel_gateway", f"/bills/{bill_id}", lambda b: b["status"] == "paid")
        order = _order_of(seller, bill_id)
        seller.eventually(
            "order_service", f"/orders/{order}", lambda o: o["payment_state"] == "paid"
        )


def until_listed(console: Console, path: str, text: str) -> Any:
    """The page once it shows the text (the gateway's list follows its commands)."""
    deadline = time.monotonic() + 30
    while True:
        page = console.page(path)
        if text in page.text or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


PHONE = {"width": 390, "height": 844}  # an iPhone 13's CSS pixels


def test_a_customer_pays_a_bill_on_a_phone_and_hears_each_step_in_their_line_chat(
    seller: Api,
    bill_system: EmbeddedSystem,
    stripe: FakeStripe,
    carrier: FakeEasyPost,
    line: FakeLine,
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
):
    th = TEXTS["th"]
    tee = new_sku("TEE")
    stock_up(seller, "WH-BILL", tee, 2)
    seller.ok(
        "channel_gateway",
        "POST",
        "/channels",
        json={
            "channel_id": "line",
            "kind": "line",
            "base_url": line.url,
            "channel_access_token": TOKEN,
        },
    )
    customer = line_user(0x4AF4980629)
    made = seller.ok(
        "channel_gateway",
        "POST",
        "/bills",
        json={
            "chat": "line",
            "handle": customer,
            "customer_name": "นก สายสุข",
            "currency": "THB",
            "lines": [{"sku": tee, "quantity": 1, "unit_price": "390.00", "title": "เสื้อลายดอก"}],
            "shipping_fee": "45.00",
        },
    )
    number = made["number"]
    gateway = bill_system.urls()["channel_gateway"]
    link = gateway + "/b/" + made["link"].rsplit("/b/", 1)[1]
    context = browser.new_context(
        viewport=PHONE, locale="th-TH", is_mobile=True, has_touch=True, device_scale_factor=2
    )
    elsewhere: list[str] = []

    def only_ours(request: Request) -> None:
        # The bill's own page loads nothing from another host (the provider's page is ours
        # to leave to, by the customer's click; the carrier's by theirs).
        if not request.is_navigation_request() and not request.url.startswith(gateway):
            elsewhere.append(request.url)

    page = context.new_page()
    page.on("request", only_ours)
    shots = screenshot_dir(tmp_path_factory.mktemp("shots"))
    try:
        page.goto(link)
        expect(page.locator("#total")).to_have_text("435.00 THB")
        expect(page.get_by_role("heading", level=1)).to_contain_text(th["title"])
        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Your order")
        page.get_by_role("link", name="ภาษาไทย").click()  # back to Thai: their language
        expect(page.get_by_role("heading", level=1)).to_contain_text(th["title"])
        # Nothing overflows sideways on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        page.get_by_label(th["phone"]).fill("0898765432")
        page.get_by_label(th["line1"]).fill("88 ซอยอารีย์ 2")
        page.get_by_label(th["city"]).fill("พญาไท")
        page.get_by_label(th["state"]).fill("กรุงเทพมหานคร")
        page.get_by_label(th["postal_code"]).fill("10400")
        page.get_by_label(th["pay_card"]).check()
        page.get_by_role("button", name=th["confirm"]).click()
        expect(page.locator("#status")).to_contain_text(th["status_unpaid"])
        expect(page.get_by_text("88 ซอยอารีย์ 2")).to_be_visible()
        # Messages due together may be sent in either order (README): the customer reads the
        # first before paying, as a person would.
        assert len(_texts(line, customer, 1)) == 1

        page.get_by_role("button", name=th["pay_by_card"]).click()
        page.wait_for_url(f"{stripe.url}/pay/**")  # the provider's hosted page
        session_id = page.url.rsplit("/", 1)[1]
        assert stripe.pay(session_id).json()["status"] == "paid"
        page.goto(link)  # the provider sends the customer back to the bill
        expect(page.locator("#status")).to_contain_text(th["status_paid"])
        page.screenshot(path=str(shots / "bill-paid.png"), full_page=True)

        # The warehouse: picked, packed, shipped with EasyPost (the label bought from it).
        order_id = _order_of(seller, made["bill_id"])
        seller.eventually(
            "order_service", f"/orders/{order_id}", lambda o: o["payment_state"] == "paid"
        )
        [shipment] = seller.eventually(
            "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: len(p["data"]) == 1
        )["data"]
        shipment_id = shipment["shipment_id"]
        pick_list = seller.pick_list("WH-BILL")
        seller.confirm_picks(
            pick_list, [{"sku": li["sku"], "picked": li["quantity"]} for li in pick_list["lines"]]
        )
        seller.ok(
            "fulfillment_service",
            "POST",
            f"/shipments/{shipment_id}/packages",
            json={
                "items": [{"sku": tee, "quantity": 1}],
                "weight_grams": 450,
                "dimensions_mm": DIMENSIONS,
            },
        )
        shipped = seller.ok(
            "fulfillment_service",
            "POST",
            f"/shipments/{shipment_id}/ship",
            json={"carrier": "easypost"},
        )
        code = shipped["tracking_number"]
        tracking_page = seller.ok(
            "fulfillment_service", "GET", f"/shipments/{shipment_id}/carrier"
        )["tracking_url"]
        assert tracking_page.startswith("https://track.easypost.com/")
        seller.eventually(
            "channel_gateway", f"/bills/{made['bill_id']}", lambda b: b["status"] == "shipped"
        )
        assert len(_texts(line, customer, 3)) == 3

        # The carrier's signed webhook: the parcel is out for delivery.
        news = carrier.tracker_event(
            code,
            [
                ("in_transit", "Departed facility", "2026-12-08T20:10:00Z"),
                ("out_for_delivery", "Out for delivery", "2026-12-09T07:30:00Z"),
            ],
        )
        webhook = seller.http.post(
            f"{bill_system.urls()['fulfillment_service']}/v1/carriers/easypost/webhooks",
            content=news,
            headers=easypost.sign(news),
        )
        assert webhook.status_code < 300, webhook.text
        texts = _texts(line, customer, 4)
        page.goto(link)
        expect(page.locator("#tracking-status")).to_contain_text(th["track_out_for_delivery"])
        expect(page.get_by_role("link", name=code)).to_have_attribute("href", tracking_page)
        page.screenshot(path=str(shots / "bill-out-for-delivery.png"), full_page=True)
    finally:
        context.close()
    assert elsewhere == []
    assert texts == [
        f"สวัสดีค่ะ คุณนก สายสุข ขอบคุณค่ะ เราได้รับคำสั่งซื้อ {number} แล้ว",
        f"คุณนก สายสุข เราได้รับการชำระเงินสำหรับคำสั่งซื้อ {number} แล้วค่ะ จะแจ้งให้ทราบเมื่อจัดส่งสินค้า",
        f"คำสั่งซื้อ {number} จัดส่งแล้วค่ะ เลขพัสดุ {code} ติดตามพัสดุได้ที่ {tracking_page}",
        f"คำสั่งซื้อ {number} กำลังนำส่งวันนี้ค่ะ ติดตามได้ที่ {tracking_page}",
    ]


def _texts(line: FakeLine, user: str, count: int, timeout: float = 30.0) -> list[str]:
    """What the customer got in LINE, once there are `count` messages."""
    deadline = time.monotonic() + timeout
    while len(line.texts_to(user)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return line.texts_to(user)
