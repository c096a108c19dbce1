"""The console in a real browser against the running system: sign in, find, act, see who did it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from shared.cli.system import EmbeddedSystem
from tests.browser import DESKTOP, TABLET, chromium, photograph, screenshot_dir
from tests.e2e.test_order_story import canonical_order, new_sku, stock_up
from tests.systems import Api

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


def console_url(system: EmbeddedSystem) -> str:
    return system.job_urls()["console"]


def ops_user(api: Api, role: str = "ops") -> tuple[str, str]:
    """A user of this role made through the gateway by the admin; (name, token)."""
    name = f"{role}-{uuid.uuid4().hex[:6]}@example.co.th"
    assert (
        api.call("channel_gateway", "POST", "/users", json={"name": name, "role": role}).status_code
        == 201
    )
    issued = api.call("channel_gateway", "POST", f"/users/{name}/tokens", json={"label": "browser"})
    assert issued.status_code == 201, issued.text
    return name, issued.json()["token"]


def sign_in_with_password(page: Page, system: EmbeddedSystem, name: str, password: str) -> None:
    page.goto(f"{console_url(system)}/orders")  # signed out: the sign-in page, then back
    page.get_by_label("Name (your e-mail)").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/orders")


def sign_in_with_token(page: Page, system: EmbeddedSystem, token: str) -> None:
    page.goto(f"{console_url(system)}/sign-in")
    page.get_by_text("Sign in with an access token").click()
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in with the token").click()
    page.wait_for_url("**/orders")


def test_ops_find_an_order_by_e_mail_and_cancel_it_and_the_timeline_names_them(
    api: Api, system: EmbeddedSystem, browser: Browser, shots: Path
):
    sku = new_sku("TEE")
    stock_up(api, "WH-BER", sku, 5)
    email = f"ナオミ.{uuid.uuid4().hex[:6]}@example.jp"
    order = canonical_order([{"sku": sku, "quantity": 1, "unit_price": "24.90"}])
    order["customer"] = {"name": "渡辺 直美", "email": email}
    placed = api.call("channel_gateway", "POST", "/orders", json=order)
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["order_id"]
    other = canonical_order([{"sku": sku, "quantity": 1, "unit_price": "24.90"}])
    assert api.call("channel_gateway", "POST", "/orders", json=other).status_code == 202
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed")
    name, _ = ops_user(api)
    password = "รหัสผ่านยาวพอ-2026"  # a Thai password, as a merchant in Bangkok would pick
    set_password = api.call(
        "channel_gateway", "PUT", f"/users/{name}/password", json={"password": password}
    )
    assert set_password.status_code == 204, set_password.text

    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{console_url(system)}/sign-in")
    photograph(page, shots, "sign-in")
    page.get_by_label("Name (your e-mail)").fill(name)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("the name or the password is wrong")
    sign_in_with_password(page, system, name, password)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("E-mail").press("Enter")
    expect(page.get_by_text("1 order", exact=True)).to_be_visible()
    photograph(page, shots, "orders")
    page.get_by_role("link", name=f"web {order['external_id']}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(order["external_id"])
    expect(page.get_by_text("渡辺 直美").first).to_be_visible()
    photograph(page, shots, "order")

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_text("Cancel the order").click()
    page.get_by_label("Reason").first.fill("the buyer wrote to us")
    page.get_by_role("button", name="Cancel order").click()
    expect(page.get_by_role("status")).to_have_text("Cancellation requested.")

    cancelled = api.eventually(
        "order_service", f"/orders/{order_id}", lambda o: o["status"] == "cancelled"
    )
    [entry] = [e for e in cancelled["timeline"] if e["event"] == "Cancelled"]
    assert entry["actor"] == name
    page.reload()
    expect(page.locator("ol.timeline")).to_contain_text(name)
    page.get_by_role("link", name="Queues").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    photograph(page, shots, "queues")
    page.close()


def test_a_viewer_sees_no_actions_and_a_signed_out_page_asks_to_sign_in(
    api: Api, system: EmbeddedSystem, browser: Browser
):
    placed = api.call(
        "channel_gateway",
        "POST",
        "/orders",
        json=canonical_order([{"sku": new_sku("CAP"), "quantity": 1, "unit_price": "9.00"}]),
    )
    order_id = placed.json()["order_id"]
    api.eventually("order_service", f"/orders/{order_id}", lambda o: bool(o["timeline"]))
    _, token = ops_user(api, "viewer")
    page = browser.new_page(viewport=DESKTOP)
    sign_in_with_token(page, system, token)
    page.goto(f"{console_url(system)}/orders/{order_id}")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.get_by_role("heading", name="Actions")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Password")).to_be_visible()
    page.goto(f"{console_url(system)}/orders")
    expect(page).to_have_url(f"{console_url(system)}/sign-in?next=%2Forders")
    page.close()


def test_the_warehouse_works_a_shipment_from_pick_list_to_label_on_a_tablet(
    api: Api, system: EmbeddedSystem, browser: Browser, shots: Path
):
    location = f"WH-T{uuid.uuid4().hex[:5].upper()}"
    sku = new_sku("MUG")
    stock_up(api, location, sku, 3)
    placed = api.call(
        "channel_gateway",
        "POST",
        "/orders",
        json=canonical_order([{"sku": sku, "quantity": 2, "unit_price": "14.50"}]),
    )
    order_id = placed.json()["order_id"]
    api.eventually("order_service", f"/orders/{order_id}", lambda o: o["status"] == "confirmed")
    api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda page: page["count"] == 1
    )
    _, token = ops_user(api, "warehouse")

    page = browser.new_page(viewport=TABLET)
    sign_in_with_token(page, system, token)
    page.goto(f"{console_url(system)}/warehouse?location_id={location}")
    photograph(page, shots, "warehouse")
    page.get_by_role("button", name="Make a pick list").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pick list")
    page.get_by_role("button", name="Confirm picks").click()
    page.get_by_role("link", name="Pack shipment").first.click()

    scan = page.get_by_label("Scan an item (barcode or SKU), then Enter")
    expect(scan).to_be_focused()
    for _ in range(2):
        scan.fill(sku)
        scan.press("Enter")
        scan = page.get_by_label("Scan an item (barcode or SKU), then Enter")
    page.get_by_label("Weight (g)").fill("650")
    page.get_by_role("button", name="Close the parcel").click()
    photograph(page, shots, "shipment")
    page.get_by_role("button", name="Ship with").first.click()
    expect(page.locator("h1 .tag")).to_have_text("shipped")

    shipment = api.eventually(
        "fulfillment_service",
        f"/shipments?order_id={order_id}",
        lambda p: p["data"][0]["status"] == "shipped",
    )["data"][0]
    expect(page.get_by_text(shipment["tracking_number"]).first).to_be_visible()
    label = page.request.get(
        f"{console_url(system)}/warehouse/shipments/{shipment['shipment_id']}/labels.pdf"
    )
    assert label.ok and label.headers["content-type"] == "application/pdf"
    assert label.body().startswith(b"%PDF")
    page.close()


def test_a_return_is_requested_and_received_with_a_damaged_unit_and_the_refund_follows(
    api: Api, system: EmbeddedSystem, browser: Browser, shots: Path
):
    location = f"WH-R{uuid.uuid4().hex[:5].upper()}"
    sku = new_sku("JKT")
    stock_up(api, location, sku, 2)
    placed = api.call(
        "channel_gateway",
        "POST",
        "/orders",
        json=canonical_order([{"sku": sku, "quantity": 2, "unit_price": "39.90"}]),
    )
    order_id = placed.json()["order_id"]
    shipment = api.eventually(
        "fulfillment_service", f"/shipments?order_id={order_id}", lambda p: p["count"] == 1
    )["data"][0]
    pick_list = api.pick_list(location)
    api.confirm_picks(pick_list, [{"sku": sku, "picked": 2}])
    api.ship(shipment["shipment_id"], "JD0146000099997777")
    api.eventually(
        "returns_service",
        f"/refundable/{order_id}",
        lambda r: r["lines"] and r["lines"][0]["returnable"] == 2,
    )
    _, token = ops_user(api, "ops")

    page = browser.new_page(viewport=DESKTOP)
    sign_in_with_token(page, system, token)
    page.goto(f"{console_url(system)}/returns")
    page.get_by_label("Request a return for order").fill(order_id)
    page.get_by_role("button", name="Choose units").click()
    page.get_by_label(f"Units of {sku}").fill("1")
    page.get_by_label("Why the customer sends them back").fill("zipper broken")
    page.get_by_role("button", name="Request the return").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Return")
    page.get_by_label(f"Sellable {sku}").fill("0")
    page.get_by_label(f"Damaged {sku}").fill("1")
    photograph(page, shots, "return")
    page.once("dialog", lambda dialog: dialog.accept())  # "Record these units as received?"
    page.get_by_role("button", name="Receive").click()
    expect(page.get_by_text("Nothing has arrived yet.")).to_have_count(0)

    refunds = api.eventually(
        "returns_service", f"/refunds?order_id={order_id}", lambda p: p["count"] == 1
    )
    assert refunds["data"][0]["amount"] == "39.90"
    stock = api.eventually(
        "inventory_service", f"/stock/{sku}", lambda s: s["locations"][0]["quarantined"] == 1
    )
    assert stock["total"]["on_hand"] == 0  # the damaged unit is not sellable again
    page.reload()
    expect(page.get_by_text("39.90").first).to_be_visible()
    page.close()
