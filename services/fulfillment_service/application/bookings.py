"""Use cases of carriers whose labels we buy: buying them, keeping them, and their tracking.

The carrier's label is stored as it sent it (on the shipment's CarrierBooking) and printed as
such; tracking pushed by the carrier becomes the booking's Tracked events, published as
ShipmentTracked (docs/architecture.md, Carriers).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.fulfillment_service.application.ports import (
    LabelCarrier,
    LabelRequest,
    Purchase,
    TrackingUpdate,
)
from services.fulfillment_service.domain import (
    CarrierBooking,
    CarrierParcel,
    CashOnDelivery,
    LabelNotReadyError,
    OrderShipments,
    Package,
    Shipment,
    ShipmentAlreadyShippedError,
    ShipmentNotShippableError,
    ShipmentStatus,
    StoredLabel,
    carrier_booking_id_for,
    carrier_parcel_id_for,
    order_shipments_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:  # the application composes this group: imported for the type only
    from services.fulfillment_service.application import Shipments  # noqa: F401


class Bookings(UseCases["Shipments"]):
    """Labels bought from a carrier's API for a shipment, and the carrier's tracking of it."""

    def buy(
        self,
        work: UnitOfWork,
        shipment: Shipment,
        carrier: LabelCarrier,
        service: str | None,
        rated: Callable[[], list[Package]],
    ) -> None:
        """Buy the packed shipment's labels and ship it; the same request again buys nothing."""
        if shipment.status == ShipmentStatus.SHIPPED:
            if shipment.carrier == carrier.name:
                return  # the same request again: the labels were bought
            raise ShipmentAlreadyShippedError(
                f"shipment {shipment.id} already shipped with {shipment.carrier}"
            )
        if shipment.status != ShipmentStatus.PACKED:
            raise ShipmentNotShippableError(
                f"shipment {shipment.id} is {shipment.status}: labels are bought once packed"
            )
        index = work.find(order_shipments_id_for(shipment.order_id), OrderShipments)
        request = LabelRequest(
            shipment_id=shipment.id,
            order_number=shipment.order_number,
            packages=rated(),
            ship_from=self.app.ship_from_address(shipment.location_id),
            ship_to=shipment.ship_to,
            service=service,
            # A cash-on-delivery order's money is collected by the carrier of one shipment.
            cash_on_delivery=index.collect_with(shipment.id) if index is not None else None,
        )
        # The carrier is idempotent by shipment id: a retry after a lost answer (or after this
        # unit of work failed) finds what was bought instead of buying again.
        purchase = carrier.buy(request)
        shipment.ship_packages(
            purchase.carrier,
            purchase.service,
            purchase.assignments,
            tracking_url=purchase.tracking_url,
            tracking_shared=True,
        )
        if work.find(carrier_booking_id_for(shipment.id), CarrierBooking) is None:
            work.add(_booking(shipment, purchase, request.cash_on_delivery))
        for number in {a["tracking_number"] for a in purchase.assignments}:
            if work.find(carrier_parcel_id_for(purchase.carrier, number), CarrierParcel) is None:
                work.add(CarrierParcel(purchase.carrier, number, shipment.id))

    @use_case
    def record_tracking(self, carrier: str, update: TrackingUpdate) -> CarrierBooking | None:
        """A carrier's tracking event for one of our shipments; None if we know no such parcel.

        The carrier's retries of the same event change nothing.
        """
        booking = self.find(carrier, update.tracking_number)
        if booking is None:
            return None
        with self.app.unit_of_work() as work:
            booking = work.find(booking.id, CarrierBooking)
            assert booking is not None
            booking.track(
                update.tracking_number, update.status, update.happened_at, update.description
            )
            return booking

    def find(self, carrier: str, tracking_number: str) -> CarrierBooking | None:
        """The booking of the shipment this carrier's tracking number belongs to, or None."""
        try:
            parcel: object = self.app.repository.get(
                carrier_parcel_id_for(carrier, tracking_number)
            )
        except AggregateNotFoundError:
            return None
        assert isinstance(parcel, CarrierParcel)
        return self.get(parcel.shipment_id)

    def get(self, shipment_id: UUID) -> CarrierBooking | None:
        """The shipment's booking with its carrier, or None (its labels are our own)."""
        try:
            booking: object = self.app.repository.get(carrier_booking_id_for(shipment_id))
        except AggregateNotFoundError:
            return None
        return booking if isinstance(booking, CarrierBooking) else None


def _booking(
    shipment: Shipment, purchase: Purchase, collect: CashOnDelivery | None
) -> CarrierBooking:
    return CarrierBooking(
        shipment_id=shipment.id,
        order_id=shipment.order_id,
        carrier=purchase.carrier,
        service=purchase.service,
        carrier_ref=purchase.carrier_ref,
        tracking_numbers=[a["tracking_number"] for a in purchase.assignments],
        tracking_url=purchase.tracking_url,
        choice=purchase.choice,
        cash_on_delivery=f"{collect['amount']} {collect['currency']}" if collect else None,
        labels=[
            StoredLabel(
                package_id=label.package_id,
                media_type=label.media_type,
                content_base64=base64.b64encode(label.content).decode("ascii"),
            )
            for label in purchase.labels
        ],
    )


def printed(booking: CarrierBooking, media_type: str, package_id: str | None = None) -> list[bytes]:
    """The carrier's labels in this format (one package's, or all), as it sent them;
    LabelNotReadyError if the carrier sent them in another format."""
    labels = [
        label for label in booking.labels if package_id is None or label["package_id"] == package_id
    ]
    if any(label["media_type"] != media_type for label in labels):
        sent = ", ".join(sorted({label["media_type"] for label in labels}))
        raise LabelNotReadyError(
            f"{booking.carrier} sent this shipment's labels as {sent}: print them in that format"
        )
    return [base64.b64decode(label["content_base64"]) for label in labels]
