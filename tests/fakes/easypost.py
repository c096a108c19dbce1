"""A fake EasyPost API v2 over real HTTP, built from docs.easypost.com.

Reproduces: HTTP Basic auth with the API key as user; `POST /v2/shipments` answering the
shipment with `rates` (several carriers and services, `delivery_days`), refusing a shipment
without a parcel weight with 422 `{"error": {"code", "message", "errors"}}`; a shipment's
`reference` standing in for its id (`GET /v2/shipments/{reference}`, "EasyPost Objects");
`POST /v2/shipments/{id}/buy {"rate": {"id"}}` answering `tracking_code`, `selected_rate`,
`postage_label` (`label_url`, `label_pdf_url` or `label_zpl_url` by `options.label_format`) and
`tracker.public_url`, and refusing a second buy (422); `POST /v2/shipments/{id}/refund`
answering the shipment with `refund_status: submitted` (422 without postage); the label file
served from its URL; the Options object's `cod_amount` (a decimal string, with `cod_method` and
`currency`) kept on the shipment, anything else in `cod_amount` refused with 422; tracker Events
(`object: Event`, `description: tracker.updated`, `result`: the Tracker with its
`tracking_details`) signed `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(secret, body)>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from tests.fakes import payloads as p
from tests.fakes.server import FakeChannel

API_KEY = "EZTK-fake-key"
WEBHOOK_SECRET = "whsec-ทดสอบ-1"  # non-ASCII: EasyPost NFKD-normalises the secret
# A tiny valid PDF, as a carrier's label would be (recognisably not ours).
LABEL_PDF = p.one_page_pdf(288, 432)
RATES = [  # carrier, service, rate, delivery_days
    ("USPS", "GroundAdvantage", "6.40", 5),
    ("USPS", "Priority", "8.10", 2),
    ("UPS", "Ground", "7.95", 4),
    ("USPS", "Express", "29.50", 1),
    ("UPS", "NextDayAir", "41.20", 1),
]


@dataclass
class FakeEasyPost(FakeChannel):
    """Shipments by id and reference, labels bought once each, trackers signed."""

    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    bought: list[str] = field(default_factory=list)  # shipment ids, one per (successful) buy
    refunded: list[str] = field(default_factory=list)  # shipment ids whose refund was asked for
    refuse_references: set[str] = field(default_factory=set)  # shipments refused on create
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def routes(self) -> None:
        """The API."""
        app = self.app

        @app.post("/v2/shipments")
        async def create(request: Request) -> Response:
            if not _authorised(request):
                return _error(401, "APIKEY.INVALID", "Invalid API key")
            body = (await request.json())["shipment"]
            parcel = body.get("parcel") or {}
            if not parcel.get("weight"):
                return _error(
                    422,
                    "PARCEL.WEIGHT.MISSING",
                    "Missing parcel weight",
                    [{"field": "parcel.weight", "message": "cannot be blank"}],
                )
            cod = (body.get("options") or {}).get("cod_amount")
            if cod is not None and not _is_decimal_string(cod):
                return _error(
                    422,
                    "SHIPMENT.OPTIONS.INVALID",
                    "cod_amount must be a decimal string",
                    [{"field": "options.cod_amount", "message": f"invalid: {cod!r}"}],
                )
            if body.get("reference") in self.refuse_references:
                return _error(422, "SHIPMENT.INVALID_PARAMS", "Parcel exceeds the service limits")
            if body["to_address"].get("country") == "KP":
                return _error(422, "ADDRESS.COUNTRY.INVALID", "No carrier delivers there")
            n = next(self._ids)
            shipment_id = f"shp_{n:032x}"
            shipment = {
                "object": "Shipment",
                "id": shipment_id,
                "reference": body.get("reference"),
                "to_address": body["to_address"],
                "from_address": body["from_address"],
                "parcel": parcel,
                "options": body.get("options") or {},
                "rates": [
                    {
                        "object": "Rate",
                        "id": f"rate_{n:04d}{i:028x}",
                        "shipment_id": shipment_id,
                        "carrier": carrier,
                        "service": service,
                        "rate": rate,
                        "currency": "USD",
                        "delivery_days": days,
                    }
                    for i, (carrier, service, rate, days) in enumerate(RATES)
                ],
                "messages": [],
                "selected_rate": None,
                "postage_label": None,
                "tracking_code": None,
                "tracker": None,
                "refund_status": None,
            }
            self.shipments[shipment_id] = shipment
            return JSONResponse(shipment, status_code=201)

        @app.get("/v2/shipments/{ref}")
        async def retrieve(ref: str, request: Request) -> Response:
            if not _authorised(request):
                return _error(401, "APIKEY.INVALID", "Invalid API key")
            shipment = self.find(ref)
            if shipment is None:
                return _error(404, "NOT_FOUND", "The requested resource could not be found.")
            return JSONResponse(shipment)

        @app.post("/v2/shipments/{shipment_id}/buy")
        async def buy(shipment_id: str, request: Request) -> Response:
            if not _authorised(request):
                return _error(401, "APIKEY.INVALID", "Invalid API key")
            shipment = self.shipments.get(shipment_id)
            if shipment is None:
                return _error(404, "NOT_FOUND", "The requested resource could not be found.")
            if shipment["postage_label"]:
                return _error(422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists")
            rate_id = (await request.json())["rate"]["id"]
            rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
            if rate is None:
                return _error(422, "SHIPMENT.RATE.INVALID", f"No rate {rate_id}")
            code = f"9400{len(self.bought) + 1:018d}"
            zpl = shipment["options"].get("label_format") == "ZPL"
            file_url = f"{self.url}/files/{shipment_id}.{'zpl' if zpl else 'pdf'}"
            shipment["selected_rate"] = rate
            shipment["tracking_code"] = code
            shipment["postage_label"] = {
                "object": "PostageLabel",
                "label_file_type": "application/zpl" if zpl else "application/pdf",
                "label_url": file_url,
                "label_pdf_url": None if zpl else file_url,
                "label_zpl_url": file_url if zpl else None,
            }
            shipment["tracker"] = {
                "object": "Tracker",
                "tracking_code": code,
                "public_url": f"https://track.easypost.com/{base64.urlsafe_b64encode(code.encode()).decode()}",
            }
            self.bought.append(shipment_id)
            return JSONResponse(shipment)

        @app.post("/v2/shipments/{shipment_id}/refund")
        async def refund(shipment_id: str, request: Request) -> Response:
            if not _authorised(request):
                return _error(401, "APIKEY.INVALID", "Invalid API key")
            shipment = self.shipments.get(shipment_id)
            if shipment is None:
                return _error(404, "NOT_FOUND", "The requested resource could not be found.")
            if not shipment["postage_label"]:
                return _error(422, "SHIPMENT.REFUND.INVALID", "Shipment has no postage")
            shipment["refund_status"] = "submitted"
            self.refunded.append(shipment_id)
            return JSONResponse(shipment)

        @app.get("/files/{name}")
        async def label_file(name: str) -> Response:
            shipment_id, _, kind = name.partition(".")
            if kind == "zpl":
                content = (
                    f"^XA^FO50,50^A0N,40,40^FD{self.shipments[shipment_id]['tracking_code']}^FS^XZ"
                )
                return Response(content.encode(), media_type="application/zpl")
            return Response(LABEL_PDF, media_type="application/pdf")

    def cod_amounts(self) -> dict[str, tuple[Decimal, str]]:
        """What each shipment (by reference) tells the carrier to collect: amount, currency."""
        out = {}
        for shipment in self.shipments.values():
            options = shipment["options"]
            if options.get("cod_amount") is not None:
                out[shipment["reference"]] = (
                    Decimal(options["cod_amount"]),
                    options.get("currency", "USD"),
                )
        return out

    def find(self, ref: str) -> dict[str, Any] | None:
        """A shipment by its id or its reference."""
        if ref in self.shipments:
            return self.shipments[ref]
        return next((s for s in self.shipments.values() if s["reference"] == ref), None)

    def tracker_event(self, tracking_code: str, details: list[tuple[str, str, str]]) -> bytes:
        """The body of a tracker.updated Event: (status, message, datetime) per detail."""
        shipment = next(s for s in self.shipments.values() if s["tracking_code"] == tracking_code)
        event = {
            "object": "Event",
            "id": f"evt_{tracking_code}",
            "description": "tracker.updated",
            "mode": "test",
            "result": {
                "object": "Tracker",
                "id": f"trk_{tracking_code}",
                "tracking_code": tracking_code,
                "status": details[-1][0],
                "carrier": shipment["selected_rate"]["carrier"],
                "public_url": shipment["tracker"]["public_url"],
                "shipment_id": shipment["id"],
                "tracking_details": [
                    {"object": "TrackingDetail", "status": s, "message": m, "datetime": t}
                    for s, m, t in details
                ],
            },
        }
        return json.dumps(event).encode()


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    """The header EasyPost signs a webhook with."""
    import unicodedata

    key = unicodedata.normalize("NFKD", secret).encode()
    digest = hmac.new(key, body, hashlib.sha256).hexdigest()
    return {"X-Hmac-Signature": f"hmac-sha256-hex={digest}", "Content-Type": "application/json"}


def _is_decimal_string(value: object) -> bool:
    try:
        return isinstance(value, str) and Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _authorised(request: Request) -> bool:
    expected = "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
    return request.headers.get("authorization") == expected


def _error(
    status: int, code: str, message: str, errors: list[dict[str, str]] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "errors": errors or []}}, status_code=status
    )
