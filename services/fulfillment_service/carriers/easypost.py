"""EasyPost, a multi-carrier aggregator: rates per shipment, labels bought, trackers pushed.

API v2 (docs.easypost.com): `POST /shipments` answers the shipment with its `rates`;
`POST /shipments/{id}/buy {"rate": {"id"}}` answers it with `tracking_code`, `postage_label`
(`label_url`, and `label_zpl_url`/`label_pdf_url` by format) and its `tracker.public_url`. A
shipment's `reference` may stand in for its id, so we set it to our shipment id (and package
number) and look it up before creating or buying: a retry after a lost answer finds what was
bought. Cash on delivery: the first parcel's `options.cod_amount` (a decimal string) with
`cod_method` CASH and the order's `currency`. Webhooks: an Event whose `result` is a Tracker,
signed with the webhook secret in `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256 of the
raw body>` (the secret NFKD-normalised, as EasyPost's own libraries do).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_UP, Decimal
from typing import Any, Literal

import httpx

from services.fulfillment_service.application.ports import (
    BoughtLabel,
    LabelRequest,
    Purchase,
    TrackingStatus,
    TrackingUpdate,
)
from services.fulfillment_service.carriers.http import call
from services.fulfillment_service.carriers.rate_shopping import Rate, RateRule
from services.fulfillment_service.domain import (
    Address,
    CarrierError,
    CarrierUnavailableError,
    Package,
    TrackingAssignment,
)
from shared.signing import any_matches, hex_signature

GRAMS_PER_OUNCE = Decimal("28.349523125")
MM_PER_INCH = Decimal("25.4")
MAX_REFUNDED = 5  # a package's shipments refunded before we stop buying it again
SIGNATURE_HEADER = "x-hmac-signature"
MEDIA_TYPES = {"PDF": "application/pdf", "ZPL": "application/zpl"}
# EasyPost's tracker statuses that are news for the customer; pre_transit and unknown are not.
STATUSES: dict[str, TrackingStatus] = {
    "in_transit": "in_transit",
    "available_for_pickup": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "failure": "exception",
    "return_to_sender": "exception",
    "error": "exception",
}


@dataclass
class EasyPostCarrier:
    """Labels bought through EasyPost, the rate chosen by the merchant's rule."""

    api_key: str
    webhook_secret: str
    rule: RateRule
    client: httpx.Client
    base_url: str = "https://api.easypost.com/v2"
    label_format: Literal["PDF", "ZPL"] = "PDF"
    name: str = "easypost"

    # -- buying labels ----------------------------------------------------------------------

    def buy(self, request: LabelRequest) -> Purchase:
        """One EasyPost shipment per package, all with the rate the rule chose for the first."""
        assignments: list[TrackingAssignment] = []
        labels: list[BoughtLabel] = []
        chosen: tuple[str, str] | None = None  # (carrier, service) of the first package's rate
        choice, tracking_url, refs = "", None, []
        bought: list[str] = []  # this shipment's labels bought (now or by an earlier try)
        for number, package in enumerate(request.packages, start=1):
            try:
                shipment = self._shipment(request, package, number)
                if not shipment.get("postage_label"):
                    rate, why = self._rate(shipment, request.service, chosen)
                    shipment = self._buy(shipment, rate)
                    choice = choice or why
                elif not choice:
                    choice = f"bought before (a retry): {_describe(shipment['selected_rate'])}"
                bought.append(shipment["id"])
            except CarrierUnavailableError:
                raise  # no answer: a retry finds the labels bought so far (by reference)
            except CarrierError as refused:
                raise self._refunded(bought, package_number=number, refused=refused) from None
            selected = shipment["selected_rate"]
            chosen = chosen or (selected["carrier"], selected["service"])
            tracking_url = tracking_url or (shipment.get("tracker") or {}).get("public_url")
            refs.append(shipment["id"])
            assignments.append(
                TrackingAssignment(
                    package_id=package["package_id"],
                    tracking_number=shipment["tracking_code"],
                    charge=f"{selected['rate']} {selected['currency']}",
                )
            )
            labels.append(self._label(package["package_id"], shipment["postage_label"]))
        assert chosen is not None  # a packed shipment has packages
        return Purchase(
            carrier=self.name,
            service=f"{chosen[0]} {chosen[1]}",
            carrier_ref=" ".join(refs),
            assignments=assignments,
            labels=labels,
            tracking_url=tracking_url,
            choice=choice,
        )

    def _refunded(
        self, bought: list[str], package_number: int, refused: CarrierError
    ) -> CarrierError:
        """A later package was refused: the labels this call bought are refunded (not wasted,
        and a retry buys new ones), and the refusal says so."""
        said = []
        for shipment_id in bought:
            try:
                answer = self._call("POST", f"/shipments/{shipment_id}/refund")
                status = answer.json().get("refund_status") if answer.status_code < 300 else None
                said.append(f"{shipment_id} refund {status or f'refused ({answer.status_code})'}")
            except (CarrierError, ValueError) as error:
                said.append(f"{shipment_id} NOT refunded ({error}): refund it in EasyPost")
        refunds = f"; labels bought before it: {', '.join(said)}" if said else ""
        return CarrierError(f"package {package_number}: {refused}{refunds}")

    def _shipment(self, request: LabelRequest, package: Package, number: int) -> dict[str, Any]:
        """The EasyPost shipment of this package: the one made before (by reference), else new.
        A refunded one is passed over: its reference gets a suffix (-r2, -r3, ...)."""
        base = f"{request.shipment_id}-{number}"
        for attempt in range(1, MAX_REFUNDED + 2):
            reference = base if attempt == 1 else f"{base}-r{attempt}"
            found = self._by_reference(reference)
            if found is None:
                return self._create(request, package, number, reference)
            if not found.get("refund_status"):
                return found
        raise CarrierError(f"EasyPost shipments {base} were refunded {MAX_REFUNDED} times")

    def _by_reference(self, reference: str) -> dict[str, Any] | None:
        found = self._call("GET", f"/shipments/{reference}")
        if found.status_code == 200:
            return dict(found.json())
        if found.status_code != 404:
            raise _refusal(found)
        return None

    def _create(
        self, request: LabelRequest, package: Package, number: int, reference: str
    ) -> dict[str, Any]:
        options: dict[str, str] = {
            "label_format": self.label_format,
            "print_custom_1": request.order_number or str(request.shipment_id),
        }
        collect = request.cash_on_delivery
        if collect is not None and number == 1:  # the first parcel collects the whole amount
            # Options object: `cod_amount` a decimal string, in the currency of `currency`.
            options |= {
                "cod_amount": collect["amount"],
                "cod_method": "CASH",
                "currency": collect["currency"],
            }
        body = {
            "shipment": {
                "reference": reference,
                "to_address": _address(request.ship_to),
                "from_address": _address(request.ship_from),
                "parcel": _parcel(package),
                "options": options,
            }
        }

        def made_meanwhile() -> httpx.Response | None:
            # The create may have gone through with its answer lost: look before creating again.
            again = self._call("GET", f"/shipments/{reference}")
            return again if again.status_code == 200 else None

        created = self._call("POST", "/shipments", json=body, before_retry=made_meanwhile)
        if created.status_code not in (200, 201):
            raise _refusal(created)
        return dict(created.json())

    def _rate(
        self, shipment: Mapping[str, Any], asked: str | None, chosen: tuple[str, str] | None
    ) -> tuple[Rate, str]:
        rates = [_rate(r) for r in shipment.get("rates") or []]
        if chosen is not None:  # the shipment's other packages go the same way
            same = [r for r in rates if (r.carrier, r.service) == chosen]
            if not same:
                raise CarrierError(f"{chosen[0]} {chosen[1]} has no rate for package {shipment}")
            return same[0], ""
        messages = [m.get("message") for m in shipment.get("messages") or [] if m.get("message")]
        if not rates and messages:
            raise CarrierError(f"EasyPost offered no rates: {'; '.join(messages)}")
        return self.rule.choose(rates, asked)

    def _buy(self, shipment: Mapping[str, Any], rate: Rate) -> dict[str, Any]:
        path = f"/shipments/{shipment['id']}"

        def bought_meanwhile() -> httpx.Response | None:
            # The buy may have gone through with its answer lost: look before buying again.
            again = self._call("GET", path)
            return again if again.status_code == 200 and again.json().get("postage_label") else None

        response = self._call(
            "POST",
            f"{path}/buy",
            json={"rate": {"id": rate.rate_id}},
            before_retry=bought_meanwhile,
        )
        if response.status_code == 422 and (found := bought_meanwhile()) is not None:
            return dict(found.json())  # refused as bought already: it was, by the lost call
        if response.status_code not in (200, 201):
            raise _refusal(response)
        return dict(response.json())

    def _label(self, package_id: str, postage_label: Mapping[str, Any]) -> BoughtLabel:
        """The label file as EasyPost serves it, in the format it says it is."""
        file_type = str(postage_label.get("label_file_type") or "").lower()
        if self.label_format == "ZPL" and postage_label.get("label_zpl_url"):
            url, media_type = postage_label["label_zpl_url"], MEDIA_TYPES["ZPL"]
        elif postage_label.get("label_pdf_url"):
            url, media_type = postage_label["label_pdf_url"], MEDIA_TYPES["PDF"]
        else:
            url = postage_label["label_url"]
            media_type = MEDIA_TYPES["ZPL"] if "zpl" in file_type else MEDIA_TYPES["PDF"]
        response = call(self.client, "GET", url, carrier=self.name)
        if response.status_code != 200:
            raise CarrierError(f"EasyPost's label {url} answered {response.status_code}")
        return BoughtLabel(package_id=package_id, media_type=media_type, content=response.content)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return call(
            self.client,
            method,
            f"{self.base_url}{path}",
            carrier=self.name,
            auth=(self.api_key, ""),
            **kwargs,
        )

    # -- tracking webhooks ------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether EasyPost signed this body with our webhook secret."""
        secret = unicodedata.normalize("NFKD", self.webhook_secret)
        expected = "hmac-sha256-hex=" + hex_signature(secret, body)
        return bool(self.webhook_secret) and any_matches(headers.get(SIGNATURE_HEADER), [expected])

    def updates(self, body: bytes) -> list[TrackingUpdate]:
        """The tracking events of a tracker Event (every detail we publish; others ignored)."""
        event = json.loads(body)
        tracker = event.get("result") or {}
        if event.get("object") != "Event" or tracker.get("object") != "Tracker":
            raise ValueError("not an EasyPost Event with a Tracker")
        code = str(tracker["tracking_code"])
        url = tracker.get("public_url")
        updates = []
        for detail in tracker.get("tracking_details") or []:
            status = STATUSES.get(detail.get("status", ""))
            if status is None:
                continue
            updates.append(
                TrackingUpdate(
                    tracking_number=code,
                    status=status,
                    happened_at=_utc(detail["datetime"]),
                    description=str(detail.get("message") or detail["status"])[:500],
                    tracking_url=url,
                )
            )
        return updates


def _address(address: Address) -> dict[str, Any]:
    return {
        "name": address["name"],
        "company": address.get("company"),
        "street1": address["line1"],
        "street2": address.get("line2"),
        "city": address["city"],
        "state": address.get("state"),
        "zip": address["postal_code"],
        "country": address["country"],
        "phone": address.get("phone"),
    }


def _parcel(package: Package) -> dict[str, str]:
    """EasyPost weighs in ounces and measures in inches (rounded up: never under-declared)."""
    size = package["dimensions_mm"]
    tenth = Decimal("0.1")

    def inches(mm: int) -> str:
        return str((Decimal(mm) / MM_PER_INCH).quantize(tenth, ROUND_UP))

    ounces = (Decimal(package["weight_grams"]) / GRAMS_PER_OUNCE).quantize(tenth, ROUND_UP)
    return {
        "weight": str(ounces),
        "length": inches(size["length"]),
        "width": inches(size["width"]),
        "height": inches(size["height"]),
    }


def _rate(rate: Mapping[str, Any]) -> Rate:
    days = rate.get("delivery_days")
    return Rate(
        rate_id=str(rate["id"]),
        carrier=str(rate["carrier"]),
        service=str(rate["service"]),
        amount=Decimal(str(rate["rate"])),
        currency=str(rate["currency"]),
        delivery_days=int(days) if days is not None else None,
    )


def _describe(rate: Mapping[str, Any]) -> str:
    return _rate(rate).describe()


def _refusal(response: httpx.Response) -> CarrierError:
    """EasyPost's error ({"error": {"code", "message", "errors"}}) as our CarrierError."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    details = "; ".join(
        f"{e.get('field')}: {e.get('message')}" for e in error.get("errors") or [] if e
    )
    message = error.get("message") or response.text[:200]
    code = error.get("code") or response.status_code
    return CarrierError(
        f"EasyPost refused ({code}): {message}" + (f" ({details})" if details else "")
    )


def _utc(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
