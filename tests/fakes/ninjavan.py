"""A fake Ninja Van ninjaAPI over real HTTP, built from its documentation (api-docs.ninjavan.co).

Reproduces: `POST /{cc}/2.0/oauth/access_token` (client credentials) answering `access_token`
and `expires_in`, every other call needing `Authorization: Bearer` (401 otherwise, and once the
token expired); `POST /{cc}/4.2/orders` answering the order with `tracking_number` = the
shipper's prefix + `requested_tracking_number`, refusing a duplicate requested tracking number
and an order without a recipient phone or whose `parcel_job.cash_on_delivery` is not a
non-negative number (400 `{"error": {"title", "message", "details"}}`; the amount to collect
is kept exactly, per tracking number);
`GET /{cc}/2.0/reports/waybill?tids=` answering the waybill PDF (404 for an unknown order);
webhooks (`tracking_id`, `status`, `timestamp`, `shipper_order_ref_no`) signed
`X-Ninjavan-Hmac-Sha256: base64(HMAC-SHA256(client secret, raw body))`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import itertools
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.server import FakeChannel

CLIENT_ID = "nv-client-88"
CLIENT_SECRET = "nv-secret-ลับมาก"
PREFIX = "OMSTH"


@functools.cache
def waybill_pdf() -> bytes:
    """A real one-page 4x6 in. PDF, as Ninja Van's waybill is (recognisably not ours)."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(288, 432))
    page.drawString(24, 400, "NINJA VAN WAYBILL (fake)")
    page.showPage()
    page.save()
    return out.getvalue()


@dataclass
class FakeNinjaVan(FakeChannel):
    """Orders by tracking number, tokens that expire, waybills."""

    country: str = "th"
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    cash_on_delivery: dict[str, Decimal] = field(default_factory=dict)  # tracking number -> COD
    token_lifetime: float = 3600.0
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def routes(self) -> None:
        """The API."""
        app = self.app

        @app.post("/{cc}/2.0/oauth/access_token")
        async def token(cc: str, request: Request) -> Response:
            body = await request.json()
            if (body.get("client_id"), body.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return _error(401, "Unauthorized", "invalid client credentials")
            value = f"tok{next(self._serial)}"
            self.tokens[value] = time.time() + self.token_lifetime
            return JSONResponse(
                {
                    "access_token": value,
                    "expires_in": int(self.token_lifetime),
                    "token_type": "bearer",
                }
            )

        @app.post("/{cc}/4.2/orders")
        async def create(cc: str, request: Request) -> Response:
            if not self._authorised(request):
                return _error(401, "Unauthorized", "access token invalid or expired")
            body = await request.json()
            # The amount to collect, read as the exact decimal number it was sent as.
            raw = json.loads(await request.body(), parse_float=Decimal)
            cod = raw["parcel_job"].get("cash_on_delivery")
            if cod is not None and (isinstance(cod, str) or cod < 0):
                return _error(
                    400,
                    "Validation error",
                    "cash_on_delivery must be a non-negative number",
                    [{"field": "parcel_job.cash_on_delivery", "message": f"invalid: {cod!r}"}],
                )
            if not body["to"].get("phone_number"):
                return _error(
                    400,
                    "Validation error",
                    "recipient phone number is required",
                    [{"field": "to.phone_number", "message": "must not be blank"}],
                )
            number = PREFIX + body["requested_tracking_number"]
            if number in self.orders:
                return _error(400, "Duplicate", "requested_tracking_number already exists")
            self.orders[number] = body
            if cod is not None:
                self.cash_on_delivery[number] = Decimal(cod)
            return JSONResponse({**body, "tracking_number": number})

        @app.get("/{cc}/2.0/reports/waybill")
        async def waybill(cc: str, tids: str, request: Request) -> Response:
            if not self._authorised(request):
                return _error(401, "Unauthorized", "access token invalid or expired")
            if tids not in self.orders:
                return _error(404, "Not found", f"no order {tids}")
            return Response(waybill_pdf(), media_type="application/pdf")

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        return self.tokens.get(given, 0) > time.time()

    def expire_tokens(self) -> None:
        """Every token issued so far expires now."""
        self.tokens = {t: 0 for t in self.tokens}

    def webhook(self, tracking_id: str, status: str, timestamp: str) -> bytes:
        """The body of a status webhook."""
        order = self.orders[tracking_id]
        event = {
            "shipper_id": 880011,
            "tracking_id": tracking_id,
            "shipper_order_ref_no": order["reference"]["merchant_order_number"],
            "status": status,
            "timestamp": timestamp,
            "is_parcel_on_rts_leg": False,
        }
        return json.dumps(event, ensure_ascii=False).encode()


def sign(body: bytes, secret: str = CLIENT_SECRET) -> dict[str, str]:
    """The header Ninja Van signs a webhook with."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "X-Ninjavan-Hmac-Sha256": base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


def _error(
    status: int, title: str, message: str, details: list[dict[str, str]] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"title": title, "message": message, "details": details or []}},
        status_code=status,
    )
