"""Carriers whose labels we buy (EasyPost, Ninja Van), against fakes over real HTTP: labels
bought once and printed as sent, refusals, retries, tracking webhooks signed and published."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from services.fulfillment_service import integration
from services.fulfillment_service.domain import CarrierBooking, shipment_id_for
from shared import events as ev
from tests import factories
from tests.fakes import easypost, ninjavan
from tests.fakes.easypost import FakeEasyPost
from tests.fakes.ninjavan import FakeNinjaVan
from tests.fakes.payloads import one_page_pdf
from tests.fakes.warehouse import Warehouse, assert_problem, open_warehouse

pytestmark = pytest.mark.integration

# A Thai customer in Bangkok, her name and address in Thai script.
THAI = factories.address(
    name="สมหญิง ใจดี",
    line1="99/1 ถนนสุขุมวิท ซอย 11",
    line2="แขวงคลองเตยเหนือ",
    city="กรุงเทพมหานคร",
    postal_code="10110",
    country="TH",
    phone="+66812345678",
)
SHIP_FROM_TH = {
    "name": "ร้านของขวัญ",
    "line1": "12 ถนนพระราม 4",
    "city": "Bangkok",
    "postal_code": "10500",
    "country": "TH",
}


@pytest.fixture
def fake_easypost() -> Iterator[FakeEasyPost]:
    fake = FakeEasyPost().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_ninjavan() -> Iterator[FakeNinjaVan]:
    fake = FakeNinjaVan().start()
    yield fake
    fake.stop()


@pytest.fixture
def service(
    new_database: Any, fake_easypost: FakeEasyPost, fake_ninjavan: FakeNinjaVan
) -> Iterator[Warehouse]:
    """A fulfillment service in Bangkok with EasyPost and Ninja Van accounts (the fakes)."""
    settings = {
        "ship_from": SHIP_FROM_TH,
        "carrier_timeout_seconds": 2.0,
        "easypost": {
            "api_key": easypost.API_KEY,
            "webhook_secret": easypost.WEBHOOK_SECRET,
            "base_url": f"{fake_easypost.url}/v2",
        },
        "ninjavan": {
            "client_id": ninjavan.CLIENT_ID,
            "client_secret": ninjavan.CLIENT_SECRET,
            "tracking_prefix": ninjavan.PREFIX,
            "base_url": fake_ninjavan.url,
        },
    }
    with open_warehouse(new_database("fulfillment"), **settings) as warehouse:
        yield warehouse


def packed(service: Warehouse, ship_to: dict[str, Any] = THAI, boxes: int = 1) -> uuid.UUID:
    """An order to this address picked and packed into `boxes` packages; its shipment id."""
    confirmed = factories.order_confirmed(
        shipping_address=ship_to,
        lines=factories.lines({"TEE": boxes}, "390.00"),
        allocations=factories.allocations({"TEE": boxes}),
        external_id="LINE-2567-001",
    )
    service.handle(confirmed)
    pick_list = service.pick_list(max_shipments=1).json()
    assert service.confirm(pick_list["pick_list_id"], {"TEE": boxes}).status_code == 200
    shipment_id = shipment_id_for(confirmed.order_id, "WH-1")
    for _ in range(boxes):
        assert service.pack(shipment_id, {"TEE": 1}, weight=450).status_code == 201
    return shipment_id


def published(service: Warehouse, kind: type[ev.IntegrationEvent]) -> list[Any]:
    """The integration events of this kind the relay would publish, from the event store."""
    out = []
    for notification in service.app.recorder.select_notifications(start=1, limit=10_000):
        domain_event = service.app.mapper.to_domain_event(notification)
        mapper = integration.PUBLISHES.get(type(domain_event))
        if callable(mapper):
            public = mapper(domain_event)
            if isinstance(public, kind):
                out.append(public)
    return out


# -- EasyPost ---------------------------------------------------------------------------------


def test_easypost_buys_the_cheapest_standard_rate_and_the_label_prints_as_sent(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    shipment_id = packed(service)

    response = service.ship(shipment_id, {"carrier": "easypost"})

    assert response.status_code == 200, response.text
    shipped = response.json()
    assert shipped["carrier"] == "easypost"
    assert shipped["service"] == "USPS GroundAdvantage"  # 6.40: cheapest of the standard level
    [bought] = fake_easypost.bought
    sent = fake_easypost.shipments[bought]
    assert sent["to_address"]["name"] == "สมหญิง ใจดี" and sent["to_address"]["country"] == "TH"
    assert sent["parcel"]["weight"] == "15.9"  # 450 g in ounces, rounded up
    assert shipped["tracking_number"] == sent["tracking_code"]
    labels = service.http.get(f"/v1/shipments/{shipment_id}/labels.pdf")
    assert labels.status_code == 200
    assert labels.content == easypost.LABEL_PDF  # the carrier's bytes, not our rendering
    record = service.http.get(f"/v1/shipments/{shipment_id}/carrier").json()
    assert record["labels"] == "carrier"
    assert record["rate_choice"].startswith("cheapest in service level 'standard': USPS")
    assert "UPS Ground 7.95 USD" in record["rate_choice"]
    assert record["tracking_url"].startswith("https://track.easypost.com/")
    zpl = service.http.get(f"/v1/shipments/{shipment_id}/labels.zpl")
    assert_problem(zpl, 409, "Label not ready")  # EasyPost sent a PDF: printed as such


def test_a_lost_buy_answer_is_retried_without_buying_twice(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    shipment_id = packed(service)
    fake_easypost.lose_answers(1, matching=b"rate_")  # bought, but the answer never arrives

    response = service.ship(shipment_id, {"carrier": "easypost", "service": "express"})

    assert response.status_code == 200, response.text
    assert len(fake_easypost.bought) == 1
    assert response.json()["service"] == "USPS Express"  # cheapest of the express level
    again = service.ship(shipment_id, {"carrier": "easypost", "service": "express"})
    assert again.status_code == 200 and len(fake_easypost.bought) == 1


def test_a_lost_create_answer_is_looked_up_by_reference_not_created_twice(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    shipment_id = packed(service)
    fake_easypost.lose_answers(1, matching=b'"shipment"')  # created, the answer never arrives

    response = service.ship(shipment_id, {"carrier": "easypost"})

    assert response.status_code == 200, response.text
    assert len(fake_easypost.shipments) == 1  # one shipment under the reference
    assert len(fake_easypost.bought) == 1


def test_labels_bought_before_a_later_package_is_refused_are_refunded(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    shipment_id = packed(service, boxes=2)
    fake_easypost.refuse_references = {f"{shipment_id}-2"}

    refused = service.ship(shipment_id, {"carrier": "easypost"})

    assert_problem(refused, 422, "Carrier refused")
    [first] = fake_easypost.bought
    assert fake_easypost.refunded == [first]
    assert f"{first} refund submitted" in refused.json()["detail"]
    assert service.http.get(f"/v1/shipments/{shipment_id}").json()["status"] == "packed"

    fake_easypost.refuse_references = set()  # the merchant fixed the package; tried again
    shipped = service.ship(shipment_id, {"carrier": "easypost"})

    assert shipped.status_code == 200, shipped.text
    numbers = [p["tracking_number"] for p in shipped.json()["packages"]]
    assert fake_easypost.shipments[first]["tracking_code"] not in numbers  # not the refunded one
    assert len(fake_easypost.bought) == 3


def test_easypost_down_is_a_503_and_nothing_ships(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    shipment_id = packed(service)
    fake_easypost.down_for(30)

    response = service.ship(shipment_id, {"carrier": "easypost"})

    assert_problem(response, 503, "Carrier unavailable")
    assert service.http.get(f"/v1/shipments/{shipment_id}").json()["status"] == "packed"
    assert fake_easypost.bought == []


def test_a_refusal_is_a_422_that_says_why(service: Warehouse, fake_easypost: FakeEasyPost) -> None:
    shipment_id = packed(service, ship_to={**THAI, "country": "KP"})

    response = service.ship(shipment_id, {"carrier": "easypost"})

    assert_problem(response, 422, "Carrier refused")
    assert "No carrier delivers there" in response.json()["detail"]
    assert service.http.get(f"/v1/shipments/{shipment_id}").json()["status"] == "packed"


def test_signed_tracking_reaches_the_shipment_and_is_published_once(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    shipment_id = packed(service)
    code = service.ship(shipment_id, {"carrier": "easypost"}).json()["tracking_number"]
    body = fake_easypost.tracker_event(
        code,
        [
            ("pre_transit", "Shipping label created", "2026-12-01T08:00:00Z"),
            ("in_transit", "Departed USPS facility", "2026-12-01T20:10:00Z"),
            ("out_for_delivery", "Out for delivery", "2026-12-02T07:30:00Z"),
        ],
    )
    url = "/v1/carriers/easypost/webhooks"

    first = service.http.post(url, content=body, headers=easypost.sign(body))
    again = service.http.post(url, content=body, headers=easypost.sign(body))

    assert first.status_code == 200, first.text
    assert first.json() == {"recorded": 2, "repeated": 0, "unknown_tracking_numbers": []}
    assert again.json() == {"recorded": 0, "repeated": 2, "unknown_tracking_numbers": []}
    tracked = published(service, ev.ShipmentTracked)
    assert [(t.status, t.description) for t in tracked] == [
        ("in_transit", "Departed USPS facility"),
        ("out_for_delivery", "Out for delivery"),
    ]
    assert tracked[0].shipment_id == shipment_id and tracked[0].tracking_number == code
    assert tracked[0].tracking_url and tracked[0].carrier == "easypost"
    record = service.http.get(f"/v1/shipments/{shipment_id}/carrier").json()
    assert [t["status"] for t in record["tracking"]] == ["in_transit", "out_for_delivery"]


def test_a_forged_webhook_gets_401_and_changes_nothing(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    shipment_id = packed(service)
    code = service.ship(shipment_id, {"carrier": "easypost"}).json()["tracking_number"]
    body = fake_easypost.tracker_event(code, [("delivered", "Delivered", "2026-12-02T10:00:00Z")])
    before = service.position()

    forged = service.http.post(
        "/v1/carriers/easypost/webhooks", content=body, headers=easypost.sign(body, "guess")
    )
    unsigned = service.http.post("/v1/carriers/easypost/webhooks", content=body)

    assert_problem(forged, 401)
    assert_problem(unsigned, 401)
    assert service.position() == before


@pytest.mark.parametrize(
    ("carrier", "header"),
    [("easypost", "X-Hmac-Signature"), ("ninjavan", "X-Ninjavan-Hmac-Sha256")],
)
def test_a_webhook_signed_with_non_ascii_characters_is_a_401_not_a_500(
    service: Warehouse, carrier: str, header: str
) -> None:
    before = service.position()
    body = b'{"object": "Event"}'

    # What a client sends as UTF-8 bytes in a header, as the server decodes it (Latin-1).
    forged = service.http.post(
        f"/v1/carriers/{carrier}/webhooks",
        content=body,
        headers={header: "hmac-sha256-hex=ลายเซ็น".encode()},
    )

    assert_problem(forged, 401)
    assert service.position() == before


# -- Ninja Van --------------------------------------------------------------------------------


def test_ninjavan_creates_the_parcel_and_its_waybill_prints_as_sent(
    service: Warehouse, fake_ninjavan: FakeNinjaVan
) -> None:
    shipment_id = packed(service, boxes=2)

    response = service.ship(shipment_id, {"carrier": "ninjavan"})

    assert response.status_code == 200, response.text
    numbers = [p["tracking_number"] for p in response.json()["packages"]]
    assert numbers == sorted(fake_ninjavan.orders) and all(
        n.startswith(ninjavan.PREFIX) for n in numbers
    )
    order = fake_ninjavan.orders[numbers[0]]
    assert order["to"]["name"] == "สมหญิง ใจดี"
    assert order["to"]["address"]["postcode"] == "10110"
    assert order["reference"]["merchant_order_number"] == "LINE-2567-001"
    labels = service.http.get(f"/v1/shipments/{shipment_id}/labels.pdf")
    assert labels.status_code == 200
    assert len(PdfReader(io.BytesIO(labels.content)).pages) == 2  # both waybills, one file
    package_id = response.json()["packages"][1]["package_id"]
    one = service.http.get(f"/v1/packages/{package_id}/label.pdf")
    assert one.content == ninjavan.waybill_pdf()  # exactly as Ninja Van sent it


def test_ninjavan_after_a_lost_answer_finds_the_order_instead_of_creating_it_again(
    service: Warehouse, fake_ninjavan: FakeNinjaVan
) -> None:
    shipment_id = packed(service)
    fake_ninjavan.lose_answers(1, matching=b"requested_tracking_number")

    first = service.ship(shipment_id, {"carrier": "ninjavan"})
    assert first.status_code in (422, 503)  # the order was made, its answer lost
    second = service.ship(shipment_id, {"carrier": "ninjavan"})

    assert second.status_code == 200, second.text
    assert len(fake_ninjavan.orders) == 1
    assert second.json()["tracking_number"] in fake_ninjavan.orders


def test_ninjavan_refusal_and_expired_token(
    service: Warehouse, fake_ninjavan: FakeNinjaVan
) -> None:
    no_phone = packed(service, ship_to={**THAI, "phone": None})
    refused = service.ship(no_phone, {"carrier": "ninjavan"})
    assert_problem(refused, 422, "Carrier refused")
    assert "recipient phone number is required" in refused.json()["detail"]

    fake_ninjavan.expire_tokens()
    shipment_id = packed(service)
    assert service.ship(shipment_id, {"carrier": "ninjavan"}).status_code == 200


def test_ninjavan_webhook_becomes_tracking(service: Warehouse, fake_ninjavan: FakeNinjaVan) -> None:
    shipment_id = packed(service)
    number = service.ship(shipment_id, {"carrier": "ninjavan"}).json()["tracking_number"]
    url = "/v1/carriers/ninjavan/webhooks"
    for status, at in [
        ("Pending Pickup", "2026-12-01T09:00:00+07:00"),
        ("On Vehicle for Delivery", "2026-12-02T08:15:00+07:00"),
        ("Delivery Exception, Return to Sender Initiated", "2026-12-02T18:00:00+07:00"),
    ]:
        body = fake_ninjavan.webhook(number, status, at)
        assert service.http.post(url, content=body, headers=ninjavan.sign(body)).status_code == 200
    forged = fake_ninjavan.webhook(
        number, "Delivered, Received by Customer", "2026-12-03T10:00:00Z"
    )

    assert_problem(service.http.post(url, content=forged, headers=ninjavan.sign(forged, "x")), 401)
    tracked = published(service, ev.ShipmentTracked)
    assert [(t.status, t.happened_at.isoformat()) for t in tracked] == [
        ("out_for_delivery", "2026-12-02T01:15:00+00:00"),
        ("exception", "2026-12-02T11:00:00+00:00"),
    ]
    booking = service.app.bookings.get(shipment_id)
    assert isinstance(booking, CarrierBooking) and len(booking.tracking) == 2


# -- cash on delivery -------------------------------------------------------------------------


def packed_cash_on_delivery(
    service: Warehouse,
    currency: str = "THB",
    paid: str = "1210.50",
    boxes: int = 2,
    ship_to: dict[str, Any] = THAI,
) -> uuid.UUID:
    """A cash-on-delivery order (its total `paid` owed at the door) packed into `boxes`."""
    order_lines = factories.lines({"TEE": boxes}, "390.00")
    placed = factories.order_placed(
        shipping_address=ship_to,
        lines=order_lines,
        currency=currency,
        payment_state="cash_on_delivery",
        totals={"items": "0", "discounts": "0", "tax": "0", "shipping": "0", "paid": paid},
    )
    confirmed = factories.order_confirmed(
        order_id=placed.order_id,
        shipping_address=ship_to,
        lines=order_lines,
        allocations=factories.allocations({"TEE": boxes}),
        external_id="LINE-COD-001",
    )
    service.handle(placed, confirmed)
    pick_list = service.pick_list(max_shipments=1).json()
    assert service.confirm(pick_list["pick_list_id"], {"TEE": boxes}).status_code == 200
    shipment_id = shipment_id_for(confirmed.order_id, "WH-1")
    for _ in range(boxes):
        assert service.pack(shipment_id, {"TEE": 1}, weight=450).status_code == 201
    return shipment_id


def test_ninjavan_collects_what_a_cash_on_delivery_order_owes_once(
    service: Warehouse, fake_ninjavan: FakeNinjaVan
) -> None:
    shipment_id = packed_cash_on_delivery(service, paid="1210.50", boxes=2)

    response = service.ship(shipment_id, {"carrier": "ninjavan"})

    assert response.status_code == 200, response.text
    first, second = (p["tracking_number"] for p in response.json()["packages"])
    # The whole amount on the first parcel, in baht as Ninja Van Thailand collects it.
    assert fake_ninjavan.cash_on_delivery == {first: Decimal("1210.50")}
    assert "cash_on_delivery" not in fake_ninjavan.orders[second]["parcel_job"]
    record = service.http.get(f"/v1/shipments/{shipment_id}/carrier").json()
    assert record["cash_on_delivery"] == "1210.50 THB"


def test_ninjavan_refuses_to_collect_another_countrys_currency(
    service: Warehouse, fake_ninjavan: FakeNinjaVan
) -> None:
    shipment_id = packed_cash_on_delivery(service, currency="KWD", paid="12.345", boxes=1)

    response = service.ship(shipment_id, {"carrier": "ninjavan"})

    assert_problem(response, 422, "Carrier refused")
    assert "12.345 KWD" in response.json()["detail"] and "THB" in response.json()["detail"]
    assert fake_ninjavan.orders == {}


def test_easypost_collects_a_three_decimal_amount_on_the_first_parcel(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    shipment_id = packed_cash_on_delivery(service, currency="KWD", paid="12.345", boxes=2)

    response = service.ship(shipment_id, {"carrier": "easypost"})

    assert response.status_code == 200, response.text
    assert fake_easypost.cod_amounts() == {f"{shipment_id}-1": (Decimal("12.345"), "KWD")}
    [first] = [s for s in fake_easypost.shipments.values() if s["reference"].endswith("-1")]
    assert first["options"]["cod_method"] == "CASH"


def test_a_carrier_that_cannot_collect_is_refused_for_a_cash_on_delivery_order(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    shipment_id = packed_cash_on_delivery(service, paid="1210.50", boxes=1)

    by_table = service.ship(shipment_id, {"carrier": "oms-parcel"})
    by_hand = service.ship(shipment_id, {"carrier": "kerry", "tracking_numbers": ["KEX1"]})

    for refused in (by_table, by_hand):
        assert_problem(refused, 409, "Cash on delivery not collected")
        assert "1210.50 THB" in refused.json()["detail"]
    assert service.http.get(f"/v1/shipments/{shipment_id}").json()["status"] == "packed"
    assert service.ship(shipment_id, {"carrier": "easypost"}).status_code == 200
    assert fake_easypost.cod_amounts() == {f"{shipment_id}-1": (Decimal("1210.50"), "THB")}


def test_a_paid_order_asks_no_carrier_to_collect(
    service: Warehouse, fake_easypost: FakeEasyPost, fake_ninjavan: FakeNinjaVan
) -> None:
    shipment_id = packed(service)

    assert service.ship(shipment_id, {"carrier": "ninjavan"}).status_code == 200
    assert fake_ninjavan.cash_on_delivery == {}
    assert (
        service.http.get(f"/v1/shipments/{shipment_id}/carrier").json()["cash_on_delivery"] is None
    )


# -- the rate table ---------------------------------------------------------------------------


def test_rate_table_numbers_are_withheld_from_channels_unless_declared_real(
    service: Warehouse,
) -> None:
    shipment_id = packed(service)

    shipped = service.ship(shipment_id, {"carrier": "oms-parcel"})

    assert shipped.status_code == 200, shipped.text
    [event] = [e for e in published(service, ev.Shipped) if e.shipment_id == shipment_id]
    assert event.tracking_shared is False
    record = service.http.get(f"/v1/shipments/{shipment_id}/carrier").json()
    assert record["labels"] == "ours" and record["tracking_shared"] is False
    assert "tracking_numbers_are_real" in record["tracking_note"]
    labels = service.http.get(f"/v1/shipments/{shipment_id}/labels.pdf")
    assert labels.status_code == 200 and labels.content != easypost.LABEL_PDF


def test_unknown_carrier_webhook_is_404(service: Warehouse) -> None:
    assert_problem(service.http.post("/v1/carriers/dhl/webhooks", content=b"{}"), 404)


# -- a pick list's labels: ours, the carrier's and the channel's in one print job ---------------

# A channel's airway bill (Shopee's is 100 x 150 mm, not our 4 x 6 in.): recognisably its own.
AIRWAY_BILL_PDF = one_page_pdf(283, 425)


def test_pick_list_labels_print_the_carriers_and_the_channels_labels_as_they_were_sent(
    service: Warehouse, fake_easypost: FakeEasyPost
) -> None:
    orders = {
        sku: factories.order_confirmed(
            shipping_address=THAI,
            lines=factories.lines({sku: 1}, "390.00"),
            allocations=factories.allocations({sku: 1}),
            external_id=f"TH-{sku}",
        )
        for sku in ("TEE", "MUG", "CAP")
    }
    for confirmed in orders.values():
        service.handle(confirmed)
    shipments = {sku: shipment_id_for(o.order_id, "WH-1") for sku, o in orders.items()}
    # The CAP order is a Shopee one: Shopee's logistics gave its airway bill before the walk.
    cap = orders["CAP"]
    service.handle(
        ev.ChannelShippingArranged(
            order_id=cap.order_id,
            shipment_id=shipments["CAP"],
            channel="shopee-th",
            external_id="2412SHOPEE01",
            carrier="SPX Express",
            tracking_number="TH2412345678",
            document_type="THERMAL_AIR_WAYBILL",
            document_media_type="application/pdf",
            document_base64=base64.b64encode(AIRWAY_BILL_PDF).decode(),
            arranged_at=factories.now_utc(),
        )
    )
    pick_list = service.pick_list(max_shipments=3).json()
    picked = service.confirm(pick_list["pick_list_id"], {"TEE": 1, "MUG": 1, "CAP": 1})
    assert picked.status_code == 200, picked.text
    for sku, shipment_id in shipments.items():
        assert service.pack(shipment_id, {sku: 1}, weight=450).status_code == 201
    assert service.ship(shipments["TEE"], {"carrier": "easypost"}).status_code == 200
    assert service.ship(shipments["MUG"], {"carrier": "oms-parcel"}).status_code == 200

    labels = service.http.get(f"/v1/pick-lists/{pick_list['pick_list_id']}/labels.pdf")

    assert labels.status_code == 200, labels.text
    pages = PdfReader(io.BytesIO(labels.content)).pages
    assert len(pages) == 3  # one each: EasyPost's label, our label, Shopee's airway bill
    boxes = sorted((round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages)
    assert (283, 425) in boxes  # the airway bill, at its own size
    texts = [page.extract_text() for page in pages]
    ours = [text for text in texts if "TEE" in text or "MUG" in text or "(00)" in text]
    assert len(ours) == 1  # only the rate-table shipment is printed by us
    assert texts.count("") == 2  # the carrier's and the channel's pages, as they sent them
    zpl = service.http.get(f"/v1/pick-lists/{pick_list['pick_list_id']}/labels.zpl")
    assert_problem(zpl, 409, "Label not ready")  # the airway bill came as a PDF
