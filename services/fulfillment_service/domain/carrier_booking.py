"""A shipment's labels bought from a carrier, and what the carrier told of its parcels since."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

CARRIER_BOOKING_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/carrier-bookings")

TRACKING_STATUSES = ("in_transit", "out_for_delivery", "delivered", "exception")


def carrier_booking_id_for(shipment_id: UUID) -> UUID:
    """The id of a shipment's booking with its carrier: one per shipment."""
    return uuid5(CARRIER_BOOKING_NAMESPACE, str(shipment_id))


class StoredLabel(TypedDict):
    """A package's label as the carrier sent it (base64, so the stored event stays JSON)."""

    package_id: str
    media_type: str
    content_base64: str


class TrackingEvent(TypedDict):
    """One event of the carrier's tracking: status, when (ISO, UTC) and the carrier's words."""

    status: str
    happened_at: str
    description: str


class CarrierBooking(Aggregate):
    """Labels bought from a carrier for one shipment, and the carrier's tracking of it."""

    class Bought(Aggregate.Created):
        """The carrier sold us a label per package (and why this rate: `choice`)."""

        shipment_id: UUID
        order_id: UUID
        carrier: str
        service: str
        carrier_ref: str
        tracking_numbers: list[str]
        tracking_url: str | None
        choice: str
        labels: list[StoredLabel]
        # What the carrier collects on delivery ("1234.50 THB"); None: nothing (and before).
        cash_on_delivery: str | None = None

    class Tracked(Aggregate.Event):
        """The carrier told where the parcel is (carries what ShipmentTracked needs)."""

        shipment_id: UUID
        order_id: UUID
        carrier: str
        tracking_number: str
        tracking_url: str | None
        status: str
        happened_at: str
        description: str

    @event(Bought)
    def __init__(
        self,
        shipment_id: UUID,
        order_id: UUID,
        carrier: str,
        service: str,
        carrier_ref: str,
        tracking_numbers: list[str],
        tracking_url: str | None,
        choice: str,
        labels: list[StoredLabel],
        cash_on_delivery: str | None = None,
    ) -> None:
        self.shipment_id = shipment_id
        self.order_id = order_id
        self.carrier = carrier
        self.service = service
        self.carrier_ref = carrier_ref
        self.tracking_numbers = tracking_numbers
        self.tracking_url = tracking_url
        self.choice = choice
        self.labels = labels
        self.cash_on_delivery = cash_on_delivery
        self.tracking: list[TrackingEvent] = []

    @staticmethod
    def create_id(shipment_id: UUID, **_: Any) -> UUID:
        """One booking per shipment."""
        return carrier_booking_id_for(shipment_id)

    def track(self, tracking_number: str, status: str, happened_at: datetime, said: str) -> bool:
        """Record a tracking event; the same event told again (carriers retry) changes nothing."""
        if status not in TRACKING_STATUSES:
            raise ValueError(f"unknown tracking status {status!r}")
        entry = TrackingEvent(status=status, happened_at=happened_at.isoformat(), description=said)
        if entry in self.tracking:
            return False
        self._tracked(
            shipment_id=self.shipment_id,
            order_id=self.order_id,
            carrier=self.carrier,
            tracking_number=tracking_number,
            tracking_url=self.tracking_url,
            status=status,
            happened_at=entry["happened_at"],
            description=said,
        )
        return True

    @event(Tracked)
    def _tracked(
        self,
        shipment_id: UUID,
        order_id: UUID,
        carrier: str,
        tracking_number: str,
        tracking_url: str | None,
        status: str,
        happened_at: str,
        description: str,
    ) -> None:
        self.tracking = [
            *self.tracking,
            TrackingEvent(status=status, happened_at=happened_at, description=description),
        ]


CARRIER_PARCEL_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/carrier-parcels")


def carrier_parcel_id_for(carrier: str, tracking_number: str) -> UUID:
    """The id of the parcel a carrier knows by this tracking number."""
    return uuid5(CARRIER_PARCEL_NAMESPACE, f"{carrier}:{tracking_number}")


class CarrierParcel(Aggregate):
    """A carrier's tracking number, and the shipment it belongs to (how webhooks find it)."""

    class Registered(Aggregate.Created):
        """The carrier gave this tracking number to a package of the shipment."""

        carrier: str
        tracking_number: str
        shipment_id: UUID

    @event(Registered)
    def __init__(self, carrier: str, tracking_number: str, shipment_id: UUID) -> None:
        self.carrier = carrier
        self.tracking_number = tracking_number
        self.shipment_id = shipment_id

    @staticmethod
    def create_id(carrier: str, tracking_number: str, **_: Any) -> UUID:
        """One per carrier and tracking number."""
        return carrier_parcel_id_for(carrier, tracking_number)
