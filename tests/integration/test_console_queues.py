"""The console's queues, returns and channels pages, used the way ops use them: signed in with
a token, reading pages and sending their forms, against the whole system; what the pages did is
checked in the APIs."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient

from services.console.bootstrap import build
from services.console.sessions import COOKIE
from services.console.settings import Settings
from shared.cli.system import CONSOLE_KEY_FILE, EmbeddedSystem
from shared.events import topics
from shared.runtime.embedded import free_port
from tests.e2e.test_order_story import canonical_order, new_sku, stock_up
from tests.systems import Api, running_system

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def system(tmp_path_factory, postgres_server_url) -> Iterator[EmbeddedSystem]:
    """The five services and the console, as `oms up` runs them."""
    var_dir = tmp_path_factory.mktemp("console-q")
    with running_system(var_dir, postgres_server_url, "cq", console=True, stream_jobs=False) as oms:
        yield oms


@pytest.fixture(scope="module")
def api(system: EmbeddedSystem) -> Iterator[Api]:
    """The APIs as the admin, to make what the pages show and check what they did."""
    client = Api(system.urls(), system.admin_token)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def console(system: EmbeddedSystem) -> Iterator[Console]:
    """The console in a browser signed in as the admin."""
    with Console.signed_in(system, system.admin_token) as signed_in:
        yield signed_in


@dataclass
class Form:
    """A form of a page: where it goes, its fields as the page filled them, its buttons."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[str] = field(default_factory=list)


class Page(HTMLParser):
    """A page as a user meets it: its forms, its queue cards, and its text."""

    def __init__(self, html: str, url: str) -> None:
        super().__init__()
        self.html, self.url = html, url
        self.forms: list[Form] = []
        self._button: list[str] | None = None
        self.feed(html)
        body = html.split('<main id="main"', 1)[-1]
        self.text = " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(given.get("action", ""), given.get("method", "get")))
        elif tag in ("input", "select") and self.forms and "name" in given:
            unticked = given.get("type") in ("checkbox", "radio") and "checked" not in given
            if not unticked:  # a browser sends a box only when it is ticked
                self.forms[-1].fields[given["name"]] = given.get("value", "")
        elif tag == "button" and self.forms:
            self._button = []

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.forms[-1].buttons.append(" ".join("".join(self._button).split()))
            self._button = None

    def form(self, action: str) -> Form:
        """The form that posts to `action`."""
        found = [f for f in self.forms if f.action == action]
        assert found, f"no form to {action} on {self.url}: {[f.action for f in self.forms]}"
        return found[0]

    def posting(self) -> list[Form]:
        """The forms that change something (POST), but signing out."""
        return [f for f in self.forms if f.method == "post" and f.action != "/sign-out"]

    def cards(self) -> dict[str, tuple[str, bool]]:
        """Queue title -> (its figure, whether it is marked as needing attention)."""
        found = re.findall(
            r'<a class="card( alert)?" href="[^"]*"[^>]*>\s*<span class="figure">([^<]*)</span>'
            r"\s*<strong>([^<]*)</strong>",
            self.html,
        )
        return {title: (figure, bool(alert)) for alert, figure, title in found}


class Console:
    """A browser on the console: it keeps the session cookie and follows redirects."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    @classmethod
    def signed_in(cls, system: EmbeddedSystem, token: str) -> Console:
        """Signed in with an access token through the sign-in form."""
        console = system.job_urls()["console"]
        http = httpx.Client(base_url=console, timeout=30, follow_redirects=True)
        answer = http.post("/sign-in", data={"token": token, "next": "/queues"})
        assert answer.status_code == 200 and answer.url.path == "/queues", answer.text
        return cls(http)

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def page(self, path: str) -> Page:
        """A page, which must answer 200."""
        answer = self.http.get(path)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:500]}"
        return Page(answer.text, str(answer.url))

    def send(self, page: Page, action: str, **filled: str) -> Page:
        """Send a form of the page with some fields filled in; the page it leads to."""
        form = page.form(action)
        answer = self.http.post(action, data=form.fields | filled)
        assert answer.status_code == 200, f"{action}: {answer.status_code} {answer.text[:500]}"
        return Page(answer.text, str(answer.url))


def until(check: Any, what: str, timeout: float = 30.0) -> Any:
    """check() until it gives something true, which it returns."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"never: {what}")


def shipped_order(api: Api, lines: list[dict[str, Any]]) -> str:
    """An order placed at the gateway, shipped whole from one warehouse; its id."""
    for line in lines:
        stock_up(api, "WH-CQ", line["sku"], line["quantity"] + 2)
    placed = api.call("channel_gateway", "POST", "/orders", json=canonical_order(lines))
    assert placed.status_code == 202, placed.text
    order_id: str = placed.json()["order_id"]
    [shipment] = api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: len(p["data"]) == 1
    )["data"]
    api.ship(shipment["shipment_id"], f"JD01460000{uuid.uuid4().int % 10**8:08d}")
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "shipped")
    return order_id


def held_order(api: Api, channel: str = "phone", sku: str = "", address: bool = False) -> str:
    """A phone order imported from a file that the gateway holds (by default for want of a
    shipping address); its id."""
    fields = {
        "order_ref": f"PH-{uuid.uuid4().hex[:8]}",
        "customer_name": "Cem Yilmaz",
        "customer_email": "cem@example.de",
        "sku": sku or new_sku("MUG"),
        "quantity": "1",
        "unit_price": "14,50",
        "currency": "EUR",
    }
    if address:
        fields |= {
            "ship_name": "Cem Yilmaz",
            "ship_line1": "Ring 1",
            "ship_city": "Essen",
            "ship_postal_code": "45127",
            "ship_country": "DE",
        }
    body = {"channel": channel, "rows": [{"line": 2, "fields": fields}]}
    imported = api.call("channel_gateway", "POST", "/imports/orders", json=body)
    assert imported.status_code == 200, imported.text
    [order] = imported.json()["orders"]
    assert order["status"] == "held", order
    return str(order["order_id"])


def short_pick(api: Api) -> None:
    """An order whose picker finds none of its unit: a short shipment and a discrepancy."""
    mug = new_sku("MUG")
    stock_up(api, "WH-CQS", mug, 1)
    placed = api.call(
        "channel_gateway",
        "POST",
        "/orders",
        json=canonical_order([{"sku": mug, "quantity": 1, "unit_price": "9.50"}]),
    )
    order_id = placed.json()["order_id"]
    api.eventually("fulfillment_service", f"/shipments?order_id={order_id}", lambda p: p["data"])
    pick_list = api.pick_list("WH-CQS")
    api.confirm_picks(pick_list, [{"sku": mug, "picked": 0}])
    api.eventually(
        "inventory_service", f"/stock/discrepancies?sku={mug}&status=proposed", lambda p: p["data"]
    )


def parked_message(system: EmbeddedSystem, api: Api) -> str:
    """Something that is no event, put on the orders topic: the gateway parks it. Its page."""

    async def publish() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=system.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topics.ORDERS, b"not an event", key=b"junk")
        finally:
            await producer.stop()

    asyncio.run(publish())
    [message] = api.eventually("channel_gateway", "/dlq?status=parked", lambda page: page["data"])[
        "data"
    ]
    return f"/queues/dlq/channel_gateway/{message['id']}"


def _rows_by_sku(form: Form) -> dict[str, str]:
    """SKU -> the row number its fields carry in a form of lines (sku_<n>, quantity_<n>...)."""
    return {
        sku: name.removeprefix("sku_")
        for name, sku in form.fields.items()
        if name.startswith("sku_")
    }


def test_the_queues_show_an_order_awaiting_payment_and_no_parked_messages(api, console):
    tee = new_sku("TEE")
    stock_up(api, "WH-CQ", tee, 1)
    order = canonical_order([{"sku": tee, "quantity": 1, "unit_price": "24.90"}])
    order["payment_state"] = "pending"  # a bank transfer the customer has yet to make
    placed = api.call("channel_gateway", "POST", "/orders", json=order)
    order_id = placed.json()["order_id"]
    api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "awaiting_payment"
    )
    waiting = api.call("order_service", "GET", "/orders?status=awaiting_payment").json()["count"]

    cards = console.page("/queues").cards()

    assert cards["Awaiting payment"] == (str(waiting), True) and waiting >= 1
    assert cards["Parked messages"] == ("0", False)
    assert set(cards) == {
        "Held channel orders",
        "Awaiting payment",
        "Backordered",
        "Short picks",
        "Stock discrepancies",
        "Failed deliveries",
        "Failed stock syncs",
        "Parked messages",
    }
    assert "unknown" not in {figure for figure, _ in cards.values()}
    waiting_list = console.page("/orders?status=awaiting_payment")
    assert order["external_id"] in waiting_list.text
    parked = console.page("/queues/dlq")
    for service in ("channel gateway", "order service", "inventory service", "returns service"):
        assert service in parked.text
    assert "Did not answer" not in parked.text


def test_a_held_order_is_counted_then_mapped_and_released_from_its_queue(api, console):
    channel, mug = f"phone-{uuid.uuid4().hex[:6]}", new_sku("MUG")
    strict = {"channel_id": channel, "kind": "phone", "require_sku_mapping": True}
    assert api.call("channel_gateway", "POST", "/channels", json=strict).status_code == 201
    order_id = held_order(api, channel=channel, sku=f"PHONE-{mug}", address=True)
    held = api.eventually(
        "channel_gateway", "/channel-orders?status=held", lambda page: page["count"] >= 1
    )["count"]

    assert console.page("/queues").cards()["Held channel orders"] == (str(held), True)
    queue = console.page("/queues/held")
    why = f"unknown SKU PHONE-{mug}: no mapping on channel {channel}"
    assert why in queue.text
    refused = console.send(queue, f"/queues/held/{order_id}/release")
    assert why in refused.text and "Released" not in refused.text  # the gateway's own words

    console.send(
        console.page(f"/channels/{channel}"),
        f"/channels/{channel}/sku-mapping",
        channel_sku_1=f"PHONE-{mug}",
        oms_sku_1=mug,
    )
    released = console.send(console.page("/queues/held"), f"/queues/held/{order_id}/release")

    assert "Released: the order goes on to the OMS." in released.text
    assert order_id not in released.html
    placed = api.eventually("order_service", f"/orders/{order_id}", lambda order: True)
    assert [line["sku"] for line in placed["lines"]] == [mug]


def test_a_service_that_does_not_answer_is_unknown_and_the_queues_still_show(system, console):
    urls = system.urls()
    settings = Settings(
        gateway_url=urls["channel_gateway"],
        orders_url=urls["order_service"],
        inventory_url=urls["inventory_service"],
        fulfillment_url=f"http://127.0.0.1:{free_port()}",  # nobody answers there
        returns_url=urls["returns_service"],
        session_key=(system.var_dir / CONSOLE_KEY_FILE).read_text().strip(),
        api_timeout_seconds=2,
    )
    cookie = console.http.cookies[COOKIE]  # the same key opens the same session
    with TestClient(build(settings), cookies={COOKIE: cookie}) as browser:
        queues = browser.get("/queues")
        parked = browser.get("/queues/dlq")
        short = browser.get("/queues/short-picks")

    assert queues.status_code == 200
    cards = Page(queues.text, "/queues").cards()
    assert cards["Short picks"] == ("unknown", True)
    assert cards["Parked messages"] == ("unknown", True)
    assert cards["Stock discrepancies"][0] != "unknown"
    assert parked.status_code == 200
    assert "fulfillment service Did not answer" in Page(parked.text, "/queues/dlq").text
    assert short.status_code == 200 and "did not answer" in short.text


def test_a_return_is_requested_and_received_with_a_damaged_line_and_refunded(api, console):
    tee, mug = new_sku("TEE"), new_sku("MUG")
    order_id = shipped_order(
        api,
        [
            {"sku": tee, "quantity": 2, "unit_price": "24.90"},
            {"sku": mug, "quantity": 1, "unit_price": "14.50"},
        ],
    )

    # The returns service learns what shipped from the broker: the page offers it once it has.
    def offered() -> Page | None:
        page = console.page(f"/returns/new?order_id={order_id}")
        return page if any(form.action == "/returns" for form in page.forms) else None

    choose = until(offered, "the order's units to return")
    rows = _rows_by_sku(choose.form("/returns"))

    rma = console.send(
        choose,
        "/returns",
        **{f"quantity_{rows[tee]}": "1", f"quantity_{rows[mug]}": "1"},
        reason="arrived broken",
    )

    assert "Return authorised" in rma.text and "requested" in rma.text
    return_id = rma.url.split("/returns/")[1].split("?")[0]
    rows = _rows_by_sku(rma.form(f"/returns/{return_id}/receive"))

    received = console.send(
        rma,
        f"/returns/{return_id}/receive",
        **{f"sellable_{rows[tee]}": "1", f"damaged_{rows[mug]}": "1"},
    )

    assert "Received: 39.40 EUR refunded." in received.text
    assert f"{mug} damaged" in received.text
    stored = api.call("returns_service", "GET", f"/returns/{return_id}").json()
    assert stored["status"] == "received"
    assert {line["sku"]: (line["sellable"], line["damaged"]) for line in stored["lines"]} == {
        tee: (1, 0),
        mug: (0, 1),
    }
    [refund] = api.call("returns_service", "GET", f"/refunds?order_id={order_id}").json()["data"]
    assert Decimal(refund["amount"]) == Decimal("39.40")
    assert "return (this return, receipt #1)" in received.text
    assert console.page(f"/returns?order_id={order_id}").text.count(return_id[:8]) == 1


def test_a_shopify_channel_is_connected_and_its_sku_mapping_edited(api, console):
    channel = f"shopify-{uuid.uuid4().hex[:6]}"
    channels = console.page("/channels")

    connected = console.send(
        channels,
        "/channels",
        form="shopify",
        channel_id=channel,
        shop_domain="cq-shop.myshopify.com",
        base_url=f"http://127.0.0.1:{free_port()}",  # nobody there: the poll fails quietly
        access_token="shpat_secret-token-0001",
        webhook_secret="whsec-secret-0002",
    )

    assert f"{channel} is connected." in connected.text
    assert "shpat_secret-token-0001" not in connected.html
    assert "whsec-secret-0002" not in connected.html
    assert "access_token, webhook_secret" in connected.text
    again = console.send(
        console.page("/channels"),
        "/channels",
        form="shopify",
        channel_id=channel,
        shop_domain="other.myshopify.com",
        access_token="x",
        webhook_secret="y",
    )
    assert f"{channel} is connected already." in again.text

    mapped = console.send(
        connected,
        f"/channels/{channel}/sku-mapping",
        channel_sku_1="SHOP-TEE-M",
        oms_sku_1="TEE-M",
        channel_sku_2="SHOP-MUG",
        oms_sku_2="MUG-350",
    )
    assert "2 SKUs" in mapped.text
    gateway = api.call("channel_gateway", "GET", f"/channels/{channel}").json()
    assert gateway["sku_mapping"] == {"SHOP-TEE-M": "TEE-M", "SHOP-MUG": "MUG-350"}
    assert gateway["config"]["shop_domain"] == "cq-shop.myshopify.com"

    # The page lists the rows by channel SKU: SHOP-MUG is row 1, SHOP-TEE-M row 2.
    form = mapped.form(f"/channels/{channel}/sku-mapping").fields
    assert (form["channel_sku_1"], form["oms_sku_1"]) == ("SHOP-MUG", "MUG-350")
    edited = console.send(
        mapped,
        f"/channels/{channel}/sku-mapping",
        remove_1="1",
        oms_sku_2="TEE-M-2026",
        channel_sku_3="SHOP-CAP",
        oms_sku_3="CAP-1",
    )
    assert "2 SKUs" in edited.text
    gateway = api.call("channel_gateway", "GET", f"/channels/{channel}").json()
    assert gateway["sku_mapping"] == {"SHOP-TEE-M": "TEE-M-2026", "SHOP-CAP": "CAP-1"}

    half = console.send(edited, f"/channels/{channel}/sku-mapping", channel_sku_4="ONLY-THEIRS")
    assert "ONLY-THEIRS: give both" in half.text
    assert api.call("channel_gateway", "GET", f"/channels/{channel}").json()["sku_mapping"] == {
        "SHOP-TEE-M": "TEE-M-2026",
        "SHOP-CAP": "CAP-1",
    }


def test_a_line_account_is_connected_for_customer_messages_without_showing_its_token(api, console):
    channel = f"line-{uuid.uuid4().hex[:6]}"
    tracking = "https://track.thailandpost.co.th/?trackNumber=[tracking_code]"

    connected = console.send(
        console.page("/channels"),
        "/channels",
        form="line",
        channel_id=channel,
        channel_access_token="line-secret-token-0003",
        language="th",
        tracking_url=tracking,
    )

    assert f"{channel} is connected." in connected.text
    assert "line-secret-token-0003" not in connected.html
    gateway = api.call("channel_gateway", "GET", f"/channels/{channel}").json()
    assert gateway["kind"] == "line"
    assert (gateway["config"]["language"], gateway["config"]["tracking_url"]) == ("th", tracking)


def test_a_viewer_sees_the_pages_without_anything_to_act_with(system, api, console):
    order_id = shipped_order(api, [{"sku": new_sku("CAP"), "quantity": 1, "unit_price": "9.90"}])
    refundable = api.eventually("returns_service", f"/refundable/{order_id}", lambda r: True)
    sku = refundable["lines"][0]["sku"]
    made = api.post_until(
        "returns_service",
        "/returns",
        {"order_id": order_id, "lines": [{"sku": sku, "quantity": 1, "reason": "too big"}]},
        expected=201,
    )
    return_id = made.json()["return_id"]
    held_order(api)
    short_pick(api)
    message = parked_message(system, api)
    connected = api.call(
        "channel_gateway",
        "POST",
        "/channels",
        json={"channel_id": "web-cq", "kind": "web", "sku_mapping": {"A": "B"}},
    )
    assert connected.status_code in (200, 201), connected.text
    viewer = f"viewer-{uuid.uuid4().hex[:6]}@example.com"
    made_user = api.call(
        "channel_gateway", "POST", "/users", json={"name": viewer, "role": "viewer"}
    )
    assert made_user.status_code == 201, made_user.text
    token = api.call("channel_gateway", "POST", f"/users/{viewer}/tokens", json={}).json()["token"]
    pages = [
        "/queues",
        "/queues/held",
        "/queues/short-picks",
        "/queues/discrepancies",
        "/queues/deliveries",
        "/queues/stock-sync",
        "/queues/dlq",
        "/returns",
        f"/returns/new?order_id={order_id}",
        f"/returns/{return_id}",
        "/channels",
        "/channels/web-cq",
        message,
    ]
    # The admin has something to do on each of these pages: the viewer must not.
    for path in ("/queues/held", "/queues/discrepancies", f"/returns/{return_id}", message):
        assert console.page(path).posting(), path

    with Console.signed_in(system, token) as looking:
        seen = {path: looking.page(path) for path in pages}

    for path, page in seen.items():
        assert page.posting() == [], f"{path} offers {[f.action for f in page.posting()]}"
    assert "missing shipping address" in seen["/queues/held"].text
    assert "picked 0 of 1" in seen["/queues/discrepancies"].text
    assert "not a binary-mode OMS CloudEvent" in seen[message].text
    assert sku in seen[f"/returns/{return_id}"].text
    assert "Connect" not in seen["/channels"].text
    assert "A B" in seen["/channels/web-cq"].text  # the mapping, to read
