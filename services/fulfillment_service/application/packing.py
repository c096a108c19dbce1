"""Use cases at the packing bench and the dock: packages with SSCCs, carriers, shipping."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID, uuid4

from services.fulfillment_service.application.picking import PickingUseCases
from services.fulfillment_service.domain import (
    PACKED,
    SHIPPED,
    CarrierError,
    LabelNotReadyError,
    Shipment,
    ShipmentAlreadyShippedError,
    ShipmentNotShippableError,
    package_id_for,
)
from shared.runtime.application import UnitOfWork


class PackingUseCases(PickingUseCases):
    """Packing picked units into packages and handing them to a carrier."""

    def add_package(
        self,
        shipment_id: UUID,
        items: list[dict[str, Any]],
        weight_grams: int,
        dimensions_mm: dict[str, int],
        request_key: str | None = None,
    ) -> tuple[Shipment, dict[str, Any]]:
        """Picked units go into a new package with its own SSCC; (shipment, package)."""
        with self.unit_of_work() as work:
            shipment = self._shipment(work, shipment_id)
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
        fmt = self.sscc_format
        [serial] = self._issue(work, f"sscc:{fmt.extension_digit}{fmt.company_prefix}", 1)
        return fmt.sscc(serial)

    def remove_package(self, shipment_id: UUID, package_id: UUID) -> Shipment:
        """Unpack a package of a shipment that has not left (a packing mistake)."""
        with self.unit_of_work() as work:
            shipment = self._shipment(work, shipment_id)
            shipment.remove_package(package_id)
            return shipment

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
        with self.unit_of_work(uow) as work:
            shipment = self._shipment(work, shipment_id)
            carrier = carrier or shipment.planned_carrier
            if carrier is None:
                raise CarrierError("name the carrier (the pick list named none)")
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
        carrier = self.carriers.get(carrier_name)
        own = None if carrier.issues_tracking_numbers else tracking_numbers
        if shipment.shipped_as(carrier_name, service, own):
            return  # the same request again
        if shipment.status == SHIPPED:
            raise ShipmentAlreadyShippedError(
                f"shipment {shipment.id} already shipped with {shipment.carrier}"
            )
        if shipment.status != PACKED:
            raise ShipmentNotShippableError(
                f"shipment {shipment.id} is {shipment.status}: with packages it ships once packed"
            )
        service, assignments = carrier.assign(
            shipment.packages,
            ship_from=self.ship_from.address(shipment.location_id),
            ship_to=shipment.ship_to,
            service=service,
            tracking_numbers=tracking_numbers,
            issue_serials=lambda n: self._issue(work, f"tracking:{carrier.name}", n),
        )
        shipment.ship_packages(carrier.name, service, assignments)

    def quote(self, shipment_id: UUID) -> list[dict[str, Any]]:
        """What each rate-table carrier charges for the shipment's packages, per service."""
        shipment = self.get_shipment(shipment_id)
        if not shipment.packages:
            raise ShipmentNotShippableError(f"shipment {shipment_id} has no packages to price")
        ship_from = self.ship_from.address(shipment.location_id)
        quotes = []
        for carrier in self.carriers.rate_tables.values():
            try:
                for quote in carrier.quote(shipment.packages, ship_from, shipment.ship_to):
                    quotes.append({"carrier": carrier.name, **quote})
            except CarrierError:
                continue  # this carrier cannot take these packages (too heavy, no zone)
        return quotes

    # -- what the documents need ------------------------------------------------------------

    def labelled_shipment(self, shipment_id: UUID) -> Shipment:
        """A shipment whose packages have labels: packed and shipped with a carrier."""
        shipment = self.get_shipment(shipment_id)
        if shipment.status == SHIPPED and shipment.packages:
            return shipment
        if shipment.status == SHIPPED:
            reason = "shipped without packages, so it has no package labels"
        elif shipment.status == PACKED:
            reason = "packed but not shipped: the label needs the carrier's tracking number"
        else:
            reason = f"{shipment.status}: labels come once it is packed and shipped"
        raise LabelNotReadyError(f"shipment {shipment_id} is {reason}")

    def labelled_shipments_of(self, pick_list_id: UUID) -> list[Shipment]:
        """The shipments of a pick list that have labels, by slot."""
        pick_list = self.get_pick_list(pick_list_id)
        shipments = [self.get_shipment(UUID(s)) for s in pick_list.shipment_ids]
        ready = [s for s in shipments if s.status == SHIPPED and s.packages]
        if not ready:
            raise LabelNotReadyError(f"no shipment of pick list {pick_list_id} is shipped yet")
        return ready

    def shipped_elsewhere(self, shipment: Shipment) -> Counter[str]:
        """Units of the order that already left in the order's other shipments."""
        index = self.get_order_shipments(shipment.order_id)
        units: Counter[str] = Counter()
        for other_id in index.shipment_ids if index else []:
            if other_id != str(shipment.id):
                other = self.get_shipment(UUID(other_id))
                if other.status == SHIPPED:
                    units += other.leaving_units()
        return units
