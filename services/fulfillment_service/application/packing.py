"""Use cases at the packing bench and the dock: packages with SSCCs, carriers, shipping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from services.fulfillment_service.application.work import issue_serials, shipment_in
from services.fulfillment_service.domain import (
    CarrierError,
    CashOnDeliveryError,
    ChannelLabel,
    Dimensions,
    ItemLine,
    OrderShipments,
    Package,
    PackageNotFoundError,
    RateQuote,
    Shipment,
    ShipmentAlreadyShippedError,
    ShipmentNotShippableError,
    ShipmentStatus,
    check_scan,
    order_shipments_id_for,
    package_id_for,
    rated_packages,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:  # the application composes this group: imported for the type only
    from services.fulfillment_service.application import Shipments  # noqa: F401


class Packing(UseCases["Shipments"]):
    """Packing picked units into packages and handing them to a carrier."""

    @use_case
    def add_package(
        self,
        shipment_id: UUID,
        items: list[ItemLine],
        weight_grams: int,
        dimensions_mm: Dimensions,
        request_key: str | None = None,
        scans: Mapping[str, list[str]] | None = None,
    ) -> tuple[Shipment, Package]:
        """Picked units go into a new package with its own SSCC; (shipment, package).

        Barcodes scanned off the units (per SKU) must be the SKU or one of its GTINs.
        """
        with self.app.unit_of_work() as work:
            shipment = shipment_in(work, shipment_id)
            if scans:
                known = self.app.catalogue.items(scans, work)
                for sku, codes in scans.items():
                    for code in codes:
                        check_scan(sku, code, known.get(sku))
            package_id = package_id_for(shipment_id, request_key) if request_key else uuid4()
            package = shipment.add_package(
                package_id,
                items,
                weight_grams,
                dimensions_mm,
                issue_sscc=lambda: self._next_sscc(work),
            )
            return shipment, package

    def _next_sscc(self, work: UnitOfWork) -> str:
        sscc_format = self.app.sscc_format
        [serial] = issue_serials(work, sscc_format.counter, 1)
        return sscc_format.sscc(serial)

    @use_case
    def remove_package(self, shipment_id: UUID, package_id: UUID) -> Shipment:
        """Unpack a package of a shipment that has not left (a packing mistake)."""
        with self.app.unit_of_work() as work:
            shipment = shipment_in(work, shipment_id)
            if shipment.package(package_id) is None:
                raise PackageNotFoundError(f"shipment {shipment_id} has no {package_id}")
            shipment.remove_package(package_id)
            return shipment

    @use_case
    def attach_channel_label(
        self, shipment_id: UUID, label: ChannelLabel, uow: UnitOfWork | None = None
    ) -> bool:
        """The order's channel arranged the shipment with its logistics: keep its label and
        tracking number (a shipment this service does not have is refused: parked, visible)."""
        with self.app.unit_of_work(uow) as work:
            return shipment_in(work, shipment_id).attach_channel_label(label)

    @use_case
    def ship(
        self,
        shipment_id: UUID,
        carrier: str | None,
        tracking_number: str | None = None,
        *,
        service: str | None = None,
        tracking_numbers: list[str] | None = None,
        uow: UnitOfWork | None = None,
    ) -> Shipment:
        """The shipment leaves: with packages through its carrier, else with one tracking number."""
        with self.app.unit_of_work(uow) as work:
            shipment = shipment_in(work, shipment_id)
            label = shipment.channel_label
            if label is not None and carrier in (None, label["carrier"]):
                # The channel's logistics arranged it: its carrier and tracking number.
                shipment.ship_with_channel_label()
                return shipment
            carrier = carrier or shipment.planned_carrier
            if carrier is None:
                raise CarrierError("name the carrier (the pick list named none)")
            if self.app.carriers.label_carrier(carrier) is None:
                _refuse_uncollected(work, shipment, carrier)
            if shipment.packages:
                numbers = tracking_numbers or ([tracking_number] if tracking_number else None)
                self._ship_packages(work, shipment, carrier, service, numbers)
            elif tracking_number is None and not tracking_numbers:
                raise CarrierError("a shipment without packages needs its tracking number")
            else:
                shipment.ship(carrier, tracking_number or (tracking_numbers or [""])[0], service)
            return shipment

    def _ship_packages(
        self,
        work: UnitOfWork,
        shipment: Shipment,
        carrier_name: str,
        service: str | None,
        tracking_numbers: list[str] | None,
    ) -> None:
        buyer = self.app.carriers.label_carrier(carrier_name)
        if buyer is not None:  # labels bought through the carrier's API
            self.app.bookings.buy(
                work, shipment, buyer, service, lambda: self._rated(shipment, work)
            )
            return
        carrier = self.app.carriers.get(carrier_name)
        own = None if carrier.issues_tracking_numbers else tracking_numbers
        if shipment.shipped_as(carrier_name, service, own):
            return  # the same request again
        # Checked before the carrier issues tracking numbers, so none is spent on a refusal.
        if shipment.status == ShipmentStatus.SHIPPED:
            raise ShipmentAlreadyShippedError(
                f"shipment {shipment.id} already shipped with {shipment.carrier}"
            )
        if shipment.status != ShipmentStatus.PACKED:
            raise ShipmentNotShippableError(
                f"shipment {shipment.id} is {shipment.status}: with packages it ships once packed"
            )
        service, assignments = carrier.assign(
            self._rated(shipment, work),
            ship_from=self.app.ship_from_address(shipment.location_id),
            ship_to=shipment.ship_to,
            service=service,
            tracking_numbers=tracking_numbers,
            issue_serials=lambda n: issue_serials(work, f"tracking:{carrier.name}", n),
        )
        shipment.ship_packages(
            carrier.name,
            service,
            assignments,
            tracking_shared=self.app.carriers.tracking_shared(carrier.name),
        )

    def quote(self, shipment_id: UUID) -> list[RateQuote]:
        """What each rate-table carrier charges for the shipment's packages, per service."""
        shipment = self.app.get_shipment(shipment_id)
        if not shipment.packages:
            raise ShipmentNotShippableError(f"shipment {shipment_id} has no packages to price")
        ship_from = self.app.ship_from_address(shipment.location_id)
        return self.app.carriers.quotes(self._rated(shipment), ship_from, shipment.ship_to)

    def _rated(self, shipment: Shipment, work: UnitOfWork | None = None) -> list[Package]:
        """The packages as carriers rate them: by the catalogue weight of their units where
        every unit's weight is known, else by the weight typed at packing."""
        skus = {item["sku"] for package in shipment.packages for item in package["items"]}
        return rated_packages(shipment.packages, self.app.catalogue.items(skus, work))


def _refuse_uncollected(work: UnitOfWork, shipment: Shipment, carrier: str) -> None:
    """A carrier we do not buy labels from (a rate table, a manual one) is not told to collect
    cash on delivery: the shipment that would collect it is refused, never sent uncollected."""
    if shipment.status == ShipmentStatus.SHIPPED:
        return  # a repeat of the request that shipped it (or a 409 from the carrier's path)
    index = work.find(order_shipments_id_for(shipment.order_id), OrderShipments)
    owed = index.to_collect(shipment.id) if index is not None else None
    if owed is not None:
        order = shipment.order_number or str(shipment.order_id)
        raise CashOnDeliveryError(
            f"order {order} is cash on delivery: {owed['amount']} {owed['currency']} to collect,"
            f" and carrier {carrier} cannot collect it; ship it with a carrier whose labels are"
            " bought through its API (EasyPost, Ninja Van), which collects on delivery"
        )
