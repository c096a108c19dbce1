"""Ninja Van (ninjaAPI, South-East Asia): an order per parcel, its waybill, tracking webhooks.

`POST /{cc}/2.0/oauth/access_token` (client credentials) answers a bearer token with its
`expires_in`; `POST /{cc}/4.2/orders` creates a parcel whose tracking number is the shipper's
prefix followed by the `requested_tracking_number` we send (derived from our shipment id, so
the number is known before the call); `GET /{cc}/2.0/reports/waybill?tids=...` answers the
waybill PDF. A cash-on-delivery order's amount goes in `parcel_job.cash_on_delivery` (a number
in the country's currency) of its first parcel. Before creating, the waybill is asked for: an
order a lost answer hid is found there, never created twice. Webhooks carry `tracking_id`,
`status` and `timestamp`, signed in `X-Ninjavan-Hmac-Sha256: base64(HMAC-SHA256(client secret,
raw body))`. Ninja Van quotes no rates: the configured service level is used.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_UP, Decimal
from typing import Any

import httpx

from services.fulfillment_service.application.ports import (
    BoughtLabel,
    LabelRequest,
    Purchase,
    TrackingStatus,
    TrackingUpdate,
)
from services.fulfillment_service.carriers.http import call
from services.fulfillment_service.domain import (
    Address,
    CarrierError,
    CashOnDelivery,
    TrackingAssignment,
)
from shared.signing import any_matches, base64_signature

SIGNATURE_HEADER = "x-ninjavan-hmac-sha256"
SERVICE_LEVELS = ("Standard", "Express", "Sameday", "Nextday")
# Ninja Van collects cash on delivery in the currency of the country of the account.
COUNTRY_CURRENCIES = {
    "sg": "SGD",
    "my": "MYR",
    "th": "THB",
    "id": "IDR",
    "ph": "PHP",
    "vn": "VND",
    "mm": "MMK",
}
TOKEN_MARGIN_SECONDS = 300  # a token is renewed this long before it expires


@dataclass
class NinjaVanCarrier:
    """Parcels created with Ninja Van, its waybills printed as it sends them."""

    client_id: str
    client_secret: str
    tracking_prefix: str
    client: httpx.Client
    country_code: str = "th"
    base_url: str = "https://api.ninjavan.co"
    service_level: str = "Standard"
    tracking_url_template: str = "https://www.ninjavan.co/en-th/tracking?id={tracking_number}"
    name: str = "ninjavan"
    _token: tuple[str, float] | None = field(default=None, repr=False)
    _token_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- buying labels ----------------------------------------------------------------------

    def buy(self, request: LabelRequest) -> Purchase:
        """A Ninja Van order and waybill per package; a retry finds the orders made before."""
        level = self._level(request.service)
        assignments, labels = [], []
        for number, package in enumerate(request.packages, start=1):
            requested = f"{request.shipment_id.hex[:10].upper()}{number:02d}"
            tracking_number = f"{self.tracking_prefix}{requested}"
            waybill = self._waybill(tracking_number)
            if waybill is None:
                # The first parcel collects the order's whole cash on delivery.
                collect = request.cash_on_delivery if number == 1 else None
                tracking_number = self._create(request, package, requested, level, collect)
                waybill = self._waybill(tracking_number)
                if waybill is None:
                    raise CarrierError(f"Ninja Van has no waybill for {tracking_number}")
            assignments.append(
                TrackingAssignment(
                    package_id=package["package_id"], tracking_number=tracking_number
                )
            )
            labels.append(BoughtLabel(package["package_id"], "application/pdf", waybill))
        first = assignments[0]["tracking_number"]
        return Purchase(
            carrier=self.name,
            service=level,
            carrier_ref=" ".join(a["tracking_number"] for a in assignments),
            assignments=assignments,
            labels=labels,
            tracking_url=self.tracking_url_template.format(tracking_number=first),
            choice=f"Ninja Van quotes no rates: service level {level}"
            + (" as asked" if request.service else " as configured"),
        )

    def _level(self, asked: str | None) -> str:
        if asked is None:
            return self.service_level
        level = next((s for s in SERVICE_LEVELS if s.lower() == asked.lower()), None)
        if level is None:
            raise CarrierError(f"Ninja Van has no service level {asked!r}: {SERVICE_LEVELS}")
        return level

    def _create(
        self,
        request: LabelRequest,
        package: Mapping[str, Any],
        requested: str,
        level: str,
        collect: CashOnDelivery | None,
    ) -> str:
        kilograms = (Decimal(package["weight_grams"]) / 1000).quantize(Decimal("0.01"), ROUND_UP)
        body: dict[str, Any] = {
            "service_type": "Parcel",
            "service_level": level,
            "requested_tracking_number": requested,
            "reference": {
                "merchant_order_number": request.order_number or str(request.shipment_id)
            },
            "from": _party(request.ship_from),
            "to": _party(request.ship_to),
            "parcel_job": {
                "is_pickup_required": False,
                "delivery_start_date": date.today().isoformat(),
                "delivery_timeslot": {
                    "start_time": "09:00",
                    "end_time": "22:00",
                    "timezone": "Asia/Bangkok",
                },
                "dimensions": {"weight": float(kilograms)},
            },
        }
        if collect is not None:
            body["parcel_job"]["cash_on_delivery"] = self._cod_amount(collect)
        response = self._call("POST", "/4.2/orders", json=body)
        if response.status_code not in (200, 201):
            raise _refusal(response)
        return str(response.json()["tracking_number"])

    def _cod_amount(self, collect: CashOnDelivery) -> int | float:
        """`parcel_job.cash_on_delivery`: a JSON number in the currency of Ninja Van's country
        (THB for th), with that currency's decimals; another currency is refused, not converted."""
        local = COUNTRY_CURRENCIES.get(self.country_code.lower())
        if collect["currency"] != local:
            raise CarrierError(
                f"Ninja Van {self.country_code} collects cash on delivery in {local}; this order"
                f" owes {collect['amount']} {collect['currency']}"
            )
        amount = Decimal(collect["amount"])
        # A JSON number: the Decimal is exact in minor units, so float's shortest repr prints
        # the same digits ("390.5", "1234.56"); a whole amount goes as an integer.
        return int(amount) if amount == amount.to_integral_value() else float(amount)

    def _waybill(self, tracking_number: str) -> bytes | None:
        """The waybill PDF of an existing order, None when Ninja Van knows no such order."""
        response = self._call("GET", "/2.0/reports/waybill", params={"tids": tracking_number})
        if response.status_code == 200 and response.content.startswith(b"%PDF"):
            return response.content
        if response.status_code in (400, 404):
            return None
        raise _refusal(response)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.base_url}/{self.country_code}{path}"
        response = call(self.client, method, url, carrier=self.name, headers=self._auth(), **kwargs)
        if response.status_code == 401:  # the token expired early or was revoked: once more
            self._token = None
            response = call(
                self.client, method, url, carrier=self.name, headers=self._auth(), **kwargs
            )
        return response

    def _auth(self) -> dict[str, str]:
        with self._token_lock:
            if self._token is None or time.monotonic() > self._token[1]:
                self._token = self._new_token()
            return {"Authorization": f"Bearer {self._token[0]}"}

    def _new_token(self) -> tuple[str, float]:
        response = call(
            self.client,
            "POST",
            f"{self.base_url}/{self.country_code}/2.0/oauth/access_token",
            carrier=self.name,
            json={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "grant_type": "client_credentials",
            },
        )
        if response.status_code != 200:
            raise CarrierError(f"Ninja Van refused our client credentials ({response.status_code})")
        answer = response.json()
        lifetime = float(answer.get("expires_in") or 3600)
        return str(answer["access_token"]), time.monotonic() + lifetime - TOKEN_MARGIN_SECONDS

    # -- tracking webhooks ------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether Ninja Van signed this body with our client secret."""
        expected = base64_signature(self.client_secret, body)
        return bool(self.client_secret) and any_matches(headers.get(SIGNATURE_HEADER), [expected])

    def updates(self, body: bytes) -> list[TrackingUpdate]:
        """The webhook's event, if it is one we publish (pending pickup and the like are not)."""
        event = json.loads(body)
        said = str(event["status"])
        status = tracking_status(said)
        if status is None:
            return []
        number = str(event["tracking_id"])
        return [
            TrackingUpdate(
                tracking_number=number,
                status=status,
                happened_at=_utc(str(event["timestamp"])),
                description=said[:500],
                tracking_url=self.tracking_url_template.format(tracking_number=number),
            )
        ]


def tracking_status(said: str) -> TrackingStatus | None:
    """Ninja Van's status words as our tracking status (None: no news for the customer)."""
    words = said.lower()
    if "exception" in words or "return to sender" in words or "returned to sender" in words:
        return "exception"
    if words.startswith("delivered"):
        return "delivered"
    if "on vehicle for delivery" in words:
        return "out_for_delivery"
    if words.startswith(("picked up", "arrived at", "in transit", "parcel received")):
        return "in_transit"
    return None


def _party(address: Address) -> dict[str, Any]:
    return {
        "name": address["name"],
        "phone_number": address.get("phone") or "",
        "address": {
            "address1": address["line1"],
            "address2": address.get("line2") or "",
            "city": address["city"],
            "state": address.get("state") or "",
            "address_type": "home",
            "country": address["country"],
            "postcode": address["postal_code"],
        },
    }


def _refusal(response: httpx.Response) -> CarrierError:
    """Ninja Van's error ({"error": {"title", "message", "details"}}) as our CarrierError."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    details = "; ".join(
        f"{d.get('field')}: {d.get('message')}" for d in error.get("details") or [] if d
    )
    message = error.get("message") or error.get("title") or response.text[:200]
    return CarrierError(
        f"Ninja Van refused ({response.status_code}): {message}"
        + (f" ({details})" if details else "")
    )


def _utc(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
