"""The console's warehouse and stock pages, clicked through like a browser against the system.

Set-up (locations, the catalogue, stock, orders) goes through the APIs with the admin's token;
everything the warehouse does after that goes through the console's pages and forms only.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from shared.cli.system import EmbeddedSystem
from tests.systems import Api, running_system

pytestmark = pytest.mark.integration
GTIN = "4006381333931"
TIMES = "\u00d7"  # the pages' multiplication sign (2 x TEE-M)


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, postgres_server_url: str) -> Iterator[Any]:
    """The five services, the broker and the console, for this module."""
    var_dir = tmp_path_factory.mktemp("console-w")
    with running_system(var_dir, postgres_server_url, "cw", console=True, stream_jobs=False) as oms:
        yield oms


@pytest.fixture(scope="module")
def api(system: EmbeddedSystem) -> Iterator[Api]:
    client = Api(system.urls(), system.admin_token)
    yield client
    client.http.close()


class Forms(HTMLParser):
    """The forms of a page as a browser would send them, and inputs that have no label."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.unlabelled: list[str] = []
        self._labels = 0
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get")})
            self.forms[-1]["fields"] = {}
        elif tag == "label":
            self._labels += 1
        elif tag in ("input", "select", "textarea") and self.forms:
            fields = self.forms[-1]["fields"]
            if a.get("type") != "hidden" and not self._labels and "aria-label" not in a:
                self.unlabelled.append(a.get("name", tag))
            if tag == "select":
                self._select = a.get("name")
            elif a.get("type") not in ("checkbox", "radio") and "name" in a:
                fields[a["name"]] = html.unescape(a.get("value", ""))
        elif tag == "option" and self._select and self.forms:
            fields = self.forms[-1]["fields"]
            if self._select not in fields or "selected" in a:
                fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._labels -= 1
        elif tag == "select":
            self._select = None


class Page:
    """A page the console answered: its address, status, words and forms."""

    def __init__(self, answer: httpx.Response) -> None:
        self.answer = answer
        self.status = answer.status_code
        self.url = answer.url
        self.html = answer.text
        parsed = Forms()
        parsed.feed(self.html)
        self.forms = parsed.forms
        self.unlabelled = parsed.unlabelled
        words = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", self.html, flags=re.S)
        self.text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", words)).split())

    def form(self, action: str) -> dict[str, Any]:
        """The form sent to `action` (the POST one where a search goes there too)."""
        found = [f for f in self.forms if f["action"] == action]
        assert found, f"no form to {action} on {self.url}: {[f['action'] for f in self.forms]}"
        return min(found, key=lambda form: form["method"] != "post")

    def actions(self) -> list[str]:
        """Where the page's POST forms go, but signing out."""
        return [
            f["action"] for f in self.forms if f["method"] == "post" and f["action"] != "/sign-out"
        ]

    def links(self, words: str) -> list[str]:
        """The addresses of the links that read `words`."""
        return [
            html.unescape(href)
            for href, inside in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', self.html, re.S)
            if words in inside
        ]


class Browser:
    """A user's browser on the console: one cookie jar, forms sent as the page has them."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, follow_redirects=True, timeout=30)

    def sign_in(self, token: str) -> Page:
        page = Page(self.http.post("/sign-in", data={"token": token, "next": "/warehouse"}))
        assert page.status == 200 and page.url.path == "/warehouse", page.text
        return page

    def get(self, path: str, **params: str) -> Page:
        # httpx would replace the path's own query with an empty `params`
        return Page(self.http.get(path, params=params or None))

    def submit(self, page: Page, action: str, **changes: str) -> Page:
        """Fill the page's form for `action` as it stands, change some fields, send it."""
        form = page.form(action)
        fields = {**form["fields"], **changes}
        if form["method"] == "get":
            return Page(self.http.get(action, params=fields))
        return Page(self.http.post(action, data=fields))


@pytest.fixture
def admin(system: EmbeddedSystem) -> Iterator[Browser]:
    browser = Browser(f"http://127.0.0.1:{system.console_port}")
    browser.sign_in(system.admin_token)
    yield browser
    browser.http.close()


def stocked_location(api: Api, sku: str, units: int, bin_code: str = "A-03-2") -> str:
    """A new location holding `units` of a new catalogue item with a GTIN."""
    location = f"WH-{uuid.uuid4().hex[:6].upper()}"
    api.ok(
        "inventory_service",
        "POST",
        "/locations",
        json={"location_id": location, "name": "Console test", "country": "DE"},
    )
    gtins = [GTIN] if sku.startswith("TEE") else []  # a GTIN belongs to one SKU only
    item = {
        "name": "Organic tee",
        "variant": "M",
        "weight_grams": 200,
        "gtins": gtins,
    }
    api.ok("inventory_service", "PUT", f"/items/{sku}", json=item)
    receipt = {"location_id": location, "sku": sku, "quantity": units, "bin": bin_code}
    api.ok("inventory_service", "POST", "/stock/receipts", json=receipt)
    return location


def placed_order(api: Api, sku: str, units: int) -> dict[str, Any]:
    """An order placed at the gateway, once fulfillment has its shipment."""
    order = {
        "channel": "web",
        "external_id": f"CW-{uuid.uuid4().hex[:8]}",
        "customer": {"name": "Anna Schmidt", "email": "anna@example.com"},
        "shipping_address": {
            "name": "Anna Schmidt",
            "line1": "Torstrasse 101",
            "city": "Berlin",
            "postal_code": "10119",
            "country": "DE",
        },
        "lines": [{"sku": sku, "quantity": units, "unit_price": "24.90"}],
        "currency": "EUR",
    }
    order_id = api.ok("channel_gateway", "POST", "/orders", json=order)["order_id"]
    found = api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: p["count"] == 1
    )
    return found["data"][0]


def unique_sku(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6].upper()}"


def test_an_order_is_picked_packed_and_shipped_through_the_console(api: Api, admin: Browser):
    sku = unique_sku("TEE")
    location = stocked_location(api, sku, 10)
    shipment = placed_order(api, sku, 2)
    shipment_id = shipment["shipment_id"]

    floor = admin.get("/warehouse", location_id=location)
    assert floor.status == 200
    assert "1 open" in floor.text and shipment_id[:8] in floor.text
    assert floor.unlabelled == []
    listed = admin.submit(floor, "/warehouse/pick-lists", max_shipments="5", carrier="oms-parcel")
    assert "Pick list made: 1 shipment." in listed.text
    assert re.search(rf"A-03-2 {sku} Organic tee \(M\) 2 #1 {TIMES} 2", listed.text)
    assert "autofocus" in listed.html and listed.unlabelled == []
    pick_list_path = listed.url.path
    again = admin.submit(floor, "/warehouse/pick-lists", max_shipments="5", carrier="oms-parcel")
    assert again.url.path == pick_list_path  # the same form sent twice: one pick list

    picked = admin.submit(listed, f"{pick_list_path}/confirm")
    assert "The list is complete: its shipments are picked." in picked.text
    api.eventually(
        "fulfillment_service", f"/shipments/{shipment_id}", lambda s: s["status"] == "picked"
    )

    packing = admin.get(f"/warehouse/shipments/{shipment_id}")
    assert re.search(r'<input name="scan" class="scan" autofocus', packing.html)
    assert packing.unlabelled == []
    here = f"/warehouse/shipments/{shipment_id}"
    packing = admin.submit(packing, here, scan=GTIN)
    packing = admin.submit(packing, here, scan="MUG-WRONG")
    assert "not a barcode of this shipment's items" in packing.text
    refused = admin.submit(packing, f"{here}/packages", weight_grams="400")
    assert "Scanned item does not match" in refused.text and "MUG-WRONG" in refused.text
    assert refused.form(here)["fields"]["scans"] == f"{GTIN} MUG-WRONG"  # still in hand
    packing = admin.get(refused.links("Remove")[1])
    packing = admin.submit(packing, here, scan=sku)
    assert f"In this parcel: 2 {TIMES} {sku}" in packing.text
    assert packing.form(f"{here}/packages")["fields"]["weight_grams"] == "400"  # 2 units of 200 g
    packed = admin.submit(packing, f"{here}/packages", box="small")
    assert "Parcel closed: SSCC" in packed.text and "Everything is packed: ship it." in packed.text
    assert "Ship with oms-parcel standard" in packed.text

    ship_form = next(f for f in packed.forms if f["fields"].get("service") == "standard")
    shipped = admin.submit(packed, ship_form["action"])
    tracking = api.ok("fulfillment_service", "GET", f"/shipments/{shipment_id}")["tracking_number"]
    assert tracking and f"Shipped with oms-parcel: tracking {tracking}." in shipped.text
    assert re.search(
        rf"Shipped [0-9: -]+ with oms-parcel \(standard\): tracking {tracking}", shipped.text
    )

    pdf = admin.http.get(f"{pick_list_path}/document.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('inline; filename="pick-list-')
    [label_pdf] = shipped.links("PDF")[-1:]
    assert label_pdf.startswith("/warehouse/packages/") and label_pdf.endswith("/label.pdf")
    label = admin.http.get(label_pdf)
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    assert label.headers["content-type"] == "application/pdf"
    assert re.fullmatch(
        r'inline; filename="label-\d{18}\.pdf"', label.headers["content-disposition"]
    )
    zpl = admin.http.get(label_pdf.replace(".pdf", ".zpl"))
    assert zpl.headers["content-type"] == "application/zpl" and zpl.text.startswith("^XA")


def test_a_label_before_the_shipment_left_is_the_api_s_problem(api: Api, admin: Browser):
    sku = unique_sku("CAP")
    stocked_location(api, sku, 3)
    shipment = placed_order(api, sku, 1)
    page = admin.get(f"/warehouse/shipments/{shipment['shipment_id']}/labels.pdf")
    assert page.status == 409 and "Label not ready" in page.text
    assert admin.get(f"/warehouse/shipments/{shipment['shipment_id']}/secrets.pdf").status == 404


def levels_of(page: Page, location: str) -> dict[str, int]:
    """On hand and available at a location, as the SKU's stock page shows them."""
    row = re.search(rf'<tr data-location="{location}">(.*?)</tr>', page.html, re.S)
    assert row, page.text
    cells = dict(re.findall(r'class="num ([a-z-]+)">(?:<strong>)?(-?\d+)', row.group(1)))
    return {"on_hand": int(cells["on-hand"]), "available": int(cells["available"])}


def test_stock_is_received_and_adjusted_from_the_stock_page(api: Api, admin: Browser):
    sku = unique_sku("MUG")
    location = stocked_location(api, sku, 4)

    found = admin.get("/stock", sku=sku)
    assert re.search(rf"{sku} {location} A-03-2 4 0 4", found.text), found.text
    assert found.unlabelled == []
    received = admin.submit(found, "/stock/receipts", location_id=location, sku=sku, quantity="6")
    assert received.url.path == f"/stock/sku/{sku}"
    assert f"Received 6 x {sku} at {location}: 10 on hand, 10 available." in received.text
    assert levels_of(received, location) == {"on_hand": 10, "available": 10}
    twice = admin.submit(found, "/stock/receipts", location_id=location, sku=sku, quantity="6")
    assert levels_of(twice, location) == {"on_hand": 10, "available": 10}  # one receipt

    adjusted = admin.submit(
        twice, "/stock/adjustments", location_id=location, quantity_delta="-3", reason="damaged"
    )
    assert f"Adjusted {sku} at {location} by -3" in adjusted.text
    assert levels_of(adjusted, location) == {"on_hand": 7, "available": 7}
    assert re.search(rf"{location} adjustment -3 .*reason damaged 7 7", adjusted.text)
    assert adjusted.unlabelled == []
    too_many = admin.submit(
        adjusted, "/stock/adjustments", location_id=location, quantity_delta="-50", reason="lost"
    )
    assert "Insufficient stock: " in too_many.text
    assert levels_of(too_many, location) == {"on_hand": 7, "available": 7}
    total = api.ok("inventory_service", "GET", f"/stock/{sku}")["total"]
    assert total == {"on_hand": 7, "reserved": 0, "available": 7}

    moved = admin.submit(too_many, "/stock/bins", location_id=location, bin="c-10-1")
    assert f"{sku} now lives in C-10-1 at {location} (was A-03-2)." in moved.text


def test_a_viewer_sees_no_warehouse_actions_and_a_forged_post_is_refused(
    api: Api, system: EmbeddedSystem
):
    sku = unique_sku("CUP")
    location = stocked_location(api, sku, 5)
    shipment = placed_order(api, sku, 1)
    name = f"viewer-{uuid.uuid4().hex[:6]}@example.com"
    api.ok("channel_gateway", "POST", "/users", json={"name": name, "role": "viewer"})
    token = api.ok("channel_gateway", "POST", f"/users/{name}/tokens", json={"label": "test"})
    viewer = Browser(f"http://127.0.0.1:{system.console_port}")
    floor = viewer.sign_in(token["token"])

    floor = viewer.get("/warehouse", location_id=location)
    assert "1 open" in floor.text and floor.actions() == []
    for path in (f"/warehouse/shipments/{shipment['shipment_id']}", f"/stock/sku/{sku}", "/stock"):
        page = viewer.get(path)
        assert page.status == 200 and page.actions() == [], (path, page.actions())

    csrf = floor.form("/sign-out")["fields"]["csrf_token"]
    forged = {"csrf_token": csrf, "location_id": location, "max_shipments": "1"}
    refused = Page(viewer.http.post("/warehouse/pick-lists", data=forged))
    assert refused.status == 403
    assert "Forbidden" in refused.text and f"{name} (viewer) may not POST" in refused.text
    pick_lists = api.ok("fulfillment_service", "GET", f"/pick-lists?location_id={location}")
    assert pick_lists["count"] == 0
    receipt = {"csrf_token": csrf, "location_id": location, "sku": sku, "quantity": "1"}
    refused = Page(viewer.http.post("/stock/receipts", data=receipt))
    assert refused.status == 403 and "may not POST" in refused.text
    assert api.ok("inventory_service", "GET", f"/stock/{sku}")["total"]["on_hand"] == 5
    viewer.http.close()


def test_a_transfer_is_shipped_and_received_in_parts_from_the_transfer_pages(
    api: Api, admin: Browser
):
    sku = unique_sku("CAP")
    source = stocked_location(api, sku, 5)
    target = stocked_location(api, unique_sku("PAD"), 1)

    listing = admin.get("/stock/transfers")
    assert listing.unlabelled == []
    shipped = admin.submit(
        listing,
        "/stock/transfers",
        from_location=source,
        to_location=target,
        lines=f"{sku} 3\n",
        expected_at="2030-01-15T09:00",
    )
    assert "Transfer shipped: the units are on the way." in shipped.text
    assert "in transit" in shipped.text and "expected 2030-01-15 09:00" in shipped.text
    here = shipped.url.path
    part = admin.submit(shipped, f"{here}/receive", quantity_1="2")
    assert "Received 2 units." in part.text and "partially received" in part.text
    assert re.search(rf"{sku} 3 2 1", part.text), part.text
    refused = admin.submit(part, f"{here}/receive", quantity_1="5")
    assert "Over-receipt: " in refused.text  # more than is still on the way
    stock = api.ok("inventory_service", "GET", f"/stock/{sku}")
    at = {level["location_id"]: level for level in stock["locations"]}
    assert (at[source]["on_hand"], at[target]["on_hand"], at[target]["in_transit"]) == (2, 2, 1)
