"""How a shipment went with its carrier, and what the carrier's webhooks answer."""

from __future__ import annotations

from pydantic import BaseModel

from services.fulfillment_service.domain import CarrierBooking, Shipment, ShipmentStatus

WITHHELD = (
    "the rate table's tracking numbers are our own, not declared real by the merchant"
    " (tracking_numbers_are_real): channels and customers get the shipment without them"
)


class TrackingEventPublic(BaseModel):
    """One tracking event the carrier pushed."""

    status: str
    happened_at: str
    description: str


class CarrierRecord(BaseModel):
    """The shipment's carrier, service, labels and tracking, and why."""

    shipment_id: str
    status: str
    carrier: str | None
    service: str | None
    labels: str  # "carrier" (bought, printed as sent), "ours" (rendered here) or "none" yet
    label_formats: list[str]
    carrier_ref: str | None
    rate_choice: str | None  # why this rate (the rate-shopping rule)
    cash_on_delivery: str | None = None  # what the carrier collects on delivery ("390.00 THB")
    tracking_numbers: list[str]
    tracking_url: str | None
    tracking_shared: bool
    tracking_note: str | None  # why channels do not get the tracking numbers, when they do not
    tracking: list[TrackingEventPublic]

    @classmethod
    def of(cls, shipment: Shipment, booking: CarrierBooking | None) -> CarrierRecord:
        """The record from the shipment and its booking with the carrier (if bought)."""
        shipped = shipment.status == ShipmentStatus.SHIPPED
        numbers = [p["tracking_number"] for p in shipment.packages if p.get("tracking_number")]
        if not numbers and shipment.tracking_number:
            numbers = [shipment.tracking_number]
        shared = shipment.tracking_shared
        return cls(
            shipment_id=str(shipment.id),
            status=shipment.status,
            carrier=shipment.carrier,
            service=shipment.service,
            labels="carrier" if booking else ("ours" if shipment.has_labels else "none"),
            label_formats=sorted({label["media_type"] for label in booking.labels})
            if booking
            else [],
            carrier_ref=booking.carrier_ref if booking else None,
            rate_choice=booking.choice if booking else None,
            cash_on_delivery=booking.cash_on_delivery if booking else None,
            tracking_numbers=numbers,
            tracking_url=shipment.tracking_url,
            tracking_shared=shared,
            tracking_note=None if shared or not shipped else WITHHELD,
            tracking=[TrackingEventPublic(**event) for event in booking.tracking]
            if booking
            else [],
        )


class WebhookAnswer(BaseModel):
    """What a carrier's webhook did: events recorded (new), repeated, or of parcels not ours."""

    recorded: int
    repeated: int
    unknown_tracking_numbers: list[str]
