"""The Shipment: what leaves one location for one customer, from open to shipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.fulfillment_service.domain.base import (
    CANCELLED,
    OPEN,
    PACKED,
    PICKED,
    PICKING,
    SHIPPED,
    SHORT,
    TRANSITIONS,
    PackageConflictError,
    PackingMismatchError,
    ShipmentAlreadyShippedError,
    ShipmentNotPackableError,
    ShipmentNotShippableError,
    shipment_id_for,
)
from services.fulfillment_service.domain.units import (
    NOT_PACKABLE,
    as_lines,
    labelled_packages,
    packing_problems,
    sum_items,
)


class Shipment(Aggregate):
    """What leaves one location for one customer: lines, picks, packages, carrier, tracking."""

    @event("Created")
    def __init__(
        self,
        order_id: UUID,
        location_id: str,
        lines: list[dict[str, Any]],
        ship_to: dict[str, Any],
        customer_name: str,
        order: dict[str, Any] | None = None,
    ) -> None:
        self.order_id = order_id
        self.location_id = location_id
        self.lines = lines
        self.ship_to = ship_to
        self.customer_name = customer_name
        # What the packing slip needs about the whole order: number, date, ordered lines.
        self.order = order or {}
        self.status = OPEN
        self.carrier: str | None = None
        self.service: str | None = None
        self.tracking_number: str | None = None
        self.shipped_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.cancel_reason: str | None = None
        self.pick_list_id: str | None = None
        self.slot: int | None = None
        self.planned_carrier: str | None = None
        self.picked: list[dict[str, Any]] | None = None
        self.picked_at: datetime | None = None
        self.packages: list[dict[str, Any]] = []

    @staticmethod
    def create_id(order_id: UUID, location_id: str, **_: Any) -> UUID:
        """The id is derived from the order and the location."""
        return shipment_id_for(order_id, location_id)

    @property
    def shipment_id(self) -> UUID:
        """The shipment's id."""
        return self.id

    @property
    def created_at(self) -> datetime:
        """When the shipment was created."""
        return self.created_on

    @property
    def order_number(self) -> str | None:
        """The order's number as the channel and the customer know it."""
        return self.order.get("external_id")

    def can_become(self, status: str) -> bool:
        """Whether the lifecycle allows moving from the current status to this one."""
        return status in TRANSITIONS[self.status]

    # -- units ----------------------------------------------------------------------------

    def picked_units(self) -> Counter[str]:
        """Units per SKU the picker put in this shipment's slot."""
        return Counter({p["sku"]: p["picked"] for p in self.picked or [] if p["picked"] > 0})

    def packed_units(self) -> Counter[str]:
        """Units per SKU already in packages."""
        return sum_items([item for package in self.packages for item in package["items"]])

    def unpacked_units(self) -> Counter[str]:
        """Picked units not in a package yet."""
        return self.picked_units() - self.packed_units()

    def leaving_units(self) -> Counter[str]:
        """What leaves when the shipment ships: packed, else picked, else the planned lines."""
        if self.packages:
            return self.packed_units()
        if self.picked is not None:
            return self.picked_units()
        return sum_items(self.lines)

    def leaving_lines(self) -> list[dict[str, Any]]:
        """leaving_units as {sku, quantity} lines in the shipment's own line order."""
        return as_lines(self.leaving_units(), [line["sku"] for line in self.lines])

    def package(self, package_id: UUID) -> dict[str, Any] | None:
        """One of the shipment's packages, or None."""
        return next((p for p in self.packages if p["package_id"] == str(package_id)), None)

    # -- picking --------------------------------------------------------------------------

    def start_picking(self, pick_list_id: UUID, slot: int, carrier: str | None) -> bool:
        """The shipment goes on a pick list in this slot; False when it is not open."""
        if self.status != OPEN:
            return False
        self._picking_started(pick_list_id=str(pick_list_id), slot=slot, carrier=carrier)
        return True

    @event("PickingStarted")
    def _picking_started(self, pick_list_id: str, slot: int, carrier: str | None) -> None:
        self.status = PICKING
        self.pick_list_id = pick_list_id
        self.slot = slot
        self.planned_carrier = carrier

    def release_picking(self, pick_list_id: UUID) -> bool:
        """The pick list was cancelled: the shipment is open again for the next list."""
        if self.status != PICKING or self.pick_list_id != str(pick_list_id):
            return False
        self._picking_released(pick_list_id=str(pick_list_id))
        return True

    @event("PickingReleased")
    def _picking_released(self, pick_list_id: str) -> None:
        self.status = OPEN
        self.pick_list_id = None
        self.slot = None

    def record_pick(self, pick_list_id: UUID, lines: list[dict[str, Any]]) -> bool:
        """What the picker found for this shipment ({sku, bin, expected, picked} per line)."""
        if self.status != PICKING or self.pick_list_id != str(pick_list_id):
            return False
        # The event carries what the public ShortPicked event needs, so the mapping stays pure.
        # Nothing found at all: the shipment waits as SHORT until its order is resolved.
        status = PICKED if any(line["picked"] > 0 for line in lines) else SHORT
        self._picked(
            pick_list_id=str(pick_list_id),
            lines=lines,
            order_id=self.order_id,
            location_id=self.location_id,
            status=status,
        )
        return True

    @event("Picked")
    def _picked(
        self,
        pick_list_id: str,
        lines: list[dict[str, Any]],
        order_id: UUID,
        location_id: str,
        status: str,
        timestamp: datetime | None = None,
    ) -> None:
        self.picked = lines
        self.picked_at = timestamp
        self.status = status

    # -- packing --------------------------------------------------------------------------

    def add_package(
        self,
        package_id: UUID,
        items: list[dict[str, Any]],
        weight_grams: int,
        dimensions_mm: dict[str, int],
        issue_sscc: Callable[[], str],
    ) -> dict[str, Any]:
        """Put picked units into a new package with an SSCC; the same package again is a no-op."""
        contents = {"items": items, "weight_grams": weight_grams, "dimensions_mm": dimensions_mm}
        existing = self.package(package_id)
        if existing is not None:
            if any(existing[k] != v for k, v in contents.items()):
                raise PackageConflictError(f"package {package_id} was packed with other contents")
            return existing
        self._check_packable(items)
        package = {"package_id": str(package_id), "sscc": issue_sscc(), **contents}
        full = not (self.unpacked_units() - sum_items(items))
        self._package_added(package=package, status=PACKED if full else PICKED)
        return package

    def _check_packable(self, items: list[dict[str, Any]]) -> None:
        if self.status != PICKED:
            reason = NOT_PACKABLE.get(self.status, f"is {self.status}")
            raise ShipmentNotPackableError(f"shipment {self.id} {reason}")
        problems = packing_problems(self.unpacked_units(), items)
        if problems:
            raise PackingMismatchError("; ".join(problems))

    @event("PackageAdded")
    def _package_added(self, package: dict[str, Any], status: str) -> None:
        self.packages.append(package)
        self.status = status

    def remove_package(self, package_id: UUID) -> bool:
        """Unpack a package that has not shipped; its units are to be packed again."""
        if self.package(package_id) is None:
            return False
        if self.status not in (PICKED, PACKED):
            raise ShipmentNotPackableError(f"shipment {self.id} is {self.status}")
        self._package_removed(package_id=str(package_id))
        return True

    @event("PackageRemoved")
    def _package_removed(self, package_id: str) -> None:
        self.packages = [p for p in self.packages if p["package_id"] != package_id]
        self.status = PICKED

    # -- shipping -------------------------------------------------------------------------

    def ship(self, carrier: str, tracking_number: str, service: str | None = None) -> bool:
        """The shipment left without packages (open or picked); the same again changes nothing."""
        if self.status == SHIPPED:
            if (carrier, tracking_number) == (self.carrier, self.tracking_number):
                return False
            raise ShipmentAlreadyShippedError(
                f"shipment {self.id} already shipped with {self.carrier} {self.tracking_number}"
            )
        if self.packages:
            raise ShipmentNotShippableError(
                f"shipment {self.id} is in packages: ship it once packed, with a tracking number"
                " per package"
            )
        self._check_shippable()
        self._ship(carrier, service, tracking_number, None)
        return True

    def ship_packages(
        self, carrier: str, service: str | None, assignments: list[dict[str, Any]]
    ) -> bool:
        """The packed shipment left; each assignment gives a package its tracking number."""
        if self.status == SHIPPED:
            if self.shipped_as(carrier, service, [a["tracking_number"] for a in assignments]):
                return False
            raise ShipmentAlreadyShippedError(
                f"shipment {self.id} already shipped with {self.carrier} {self.tracking_number}"
            )
        if self.status != PACKED:
            raise ShipmentNotShippableError(
                f"shipment {self.id} is {self.status}: with packages it ships once packed"
            )
        packages = labelled_packages(self.packages, assignments)
        self._ship(carrier, service, packages[0]["tracking_number"], packages)
        return True

    def shipped_as(self, carrier: str, service: str | None, tracking: list[str] | None) -> bool:
        """Whether the shipment already left this way (a repeated request changes nothing)."""
        if self.status != SHIPPED or carrier != self.carrier:
            return False
        if service is not None and service != self.service:
            return False
        return tracking is None or tracking == [p.get("tracking_number") for p in self.packages]

    def _check_shippable(self) -> None:
        if not self.can_become(SHIPPED):
            raise ShipmentNotShippableError(f"shipment {self.id} is {self.status}")

    def _ship(
        self,
        carrier: str,
        service: str | None,
        tracking_number: str,
        packages: list[dict[str, Any]] | None,
    ) -> None:
        # The event carries what the public Shipped event needs, so the mapping stays pure.
        self._shipped(
            carrier=carrier,
            tracking_number=tracking_number,
            order_id=self.order_id,
            location_id=self.location_id,
            lines=self.leaving_lines(),
            service=service,
            packages=packages,
        )

    @event("Shipped")
    def _shipped(
        self,
        carrier: str,
        tracking_number: str,
        order_id: UUID,
        location_id: str,
        lines: list[dict[str, Any]],
        service: str | None = None,
        packages: list[dict[str, Any]] | None = None,
        timestamp: datetime | None = None,
    ) -> None:
        # eventsourcing passes the event's own timestamp to a parameter of that name.
        self.status = SHIPPED
        self.carrier = carrier
        self.service = service
        self.tracking_number = tracking_number
        self.shipped_at = timestamp
        by_id = {p["package_id"]: p for p in packages or []}
        for package in self.packages:
            shipped = by_id.get(package["package_id"], {})
            package["tracking_number"] = shipped.get("tracking_number")
            package["charge"] = shipped.get("charge")

    # -- cancelling -----------------------------------------------------------------------

    def cancel(self, reason: str) -> bool:
        """The shipment will not leave; one that already left or was cancelled stays as it is."""
        if not self.can_become(CANCELLED):
            return False
        self._cancelled(reason=reason, order_id=self.order_id, location_id=self.location_id)
        return True

    @event("Cancelled")
    def _cancelled(
        self, reason: str, order_id: UUID, location_id: str, timestamp: datetime | None = None
    ) -> None:
        self.status = CANCELLED
        self.cancel_reason = reason
        self.cancelled_at = timestamp
