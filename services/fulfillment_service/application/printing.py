"""What the printed papers are filled from: pick lists, packing slips, shipping labels.

Queries only; the documents room lays the papers out (docs/architecture.md, The rooms of a
service).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from services.fulfillment_service.domain import (
    Address,
    ChannelLabel,
    LabelNotReadyError,
    PackageNotFoundError,
    PickList,
    Shipment,
    ShipmentCancelledError,
    ShipmentStatus,
)
from shared.runtime.application import UseCases

if TYPE_CHECKING:  # the application composes this group: imported for the type only
    from services.fulfillment_service.application import Shipments  # noqa: F401


@dataclass(frozen=True)
class ShipmentPapers:
    """A shipment, where it leaves from, and what of its order already left in other boxes."""

    shipment: Shipment
    ship_from: Address
    shipped_elsewhere: Counter[str] = field(default_factory=Counter)
    labels: Mapping[str, str] = field(default_factory=dict)  # SKU -> catalogue name (variant)


@dataclass(frozen=True)
class PickListPapers:
    """A pick list and the name of the location it is walked at."""

    pick_list: PickList
    location_name: str
    labels: Mapping[str, str] = field(default_factory=dict)  # SKU -> catalogue name (variant)


class Printing(UseCases["Shipments"]):
    """The aggregates behind each printed paper, checked to be ready for printing."""

    def pick_list(self, pick_list_id: UUID) -> PickListPapers:
        """The pick list to print."""
        pick_list = self.app.get_pick_list(pick_list_id)
        location = self.app.ship_from_address(pick_list.location_id)
        skus = (line["sku"] for line in pick_list.lines)
        return PickListPapers(pick_list, location["name"], self._labels(skus))

    def packing_slip(self, shipment_id: UUID) -> ShipmentPapers:
        """The shipment whose slip goes in the box; a cancelled one has none."""
        shipment = self.app.get_shipment(shipment_id)
        if shipment.status == ShipmentStatus.CANCELLED:
            raise ShipmentCancelledError(f"shipment {shipment_id} was cancelled")
        ordered = shipment.order.get("lines") or shipment.lines
        return ShipmentPapers(
            shipment,
            self._ship_from(shipment),
            self._shipped_elsewhere(shipment),
            self._labels(line["sku"] for line in ordered),
        )

    def channel_label(self, shipment_id: UUID) -> ChannelLabel | None:
        """The label the order's channel made for the shipment (printed as it came), if any;
        a cancelled shipment prints none."""
        shipment = self.app.get_shipment(shipment_id)
        if shipment.channel_label is None:
            return None
        if shipment.status == ShipmentStatus.CANCELLED:
            raise ShipmentCancelledError(f"shipment {shipment_id} was cancelled")
        return shipment.channel_label

    def labels(self, shipment_id: UUID) -> ShipmentPapers:
        """A shipment whose packages have labels: packed and shipped with a carrier."""
        shipment = self.app.get_shipment(shipment_id)
        shipment.check_labels()
        return self._label_papers(shipment)

    def package_label(self, shipment_id: UUID, package_id: UUID) -> ShipmentPapers:
        """The shipment of a package with a label; the package may be gone since the view looked."""
        papers = self.labels(shipment_id)
        if papers.shipment.package(package_id) is None:
            raise PackageNotFoundError(f"no package {package_id}")
        return papers

    def pick_list_labels(self, pick_list_id: UUID) -> list[ShipmentPapers]:
        """The shipments of a pick list that have labels, by slot: shipped ones, and those
        whose channel made their label (it goes on the box before the parcel leaves)."""
        pick_list = self.app.get_pick_list(pick_list_id)
        shipments = [self.app.get_shipment(UUID(s)) for s in pick_list.shipment_ids]
        ready = [self._label_papers(s) for s in shipments if _prints_label(s)]
        if not ready:
            raise LabelNotReadyError(f"no shipment of pick list {pick_list_id} is shipped yet")
        return ready

    def _label_papers(self, shipment: Shipment) -> ShipmentPapers:
        packed = (item["sku"] for p in shipment.packages for item in p["items"])
        return ShipmentPapers(shipment, self._ship_from(shipment), labels=self._labels(packed))

    def _labels(self, skus: Iterable[str]) -> dict[str, str]:
        """What the catalogue calls these SKUs (those it knows)."""
        return self.app.catalogue.labels(skus)

    def _ship_from(self, shipment: Shipment) -> Address:
        return self.app.ship_from_address(shipment.location_id)

    def _shipped_elsewhere(self, shipment: Shipment) -> Counter[str]:
        """Units of the order that already left in the order's other shipments."""
        index = self.app.get_order_shipments(shipment.order_id)
        units: Counter[str] = Counter()
        for other_id in index.shipment_ids if index else []:
            if other_id != str(shipment.id):
                other = self.app.get_shipment(UUID(other_id))
                if other.status == ShipmentStatus.SHIPPED:
                    units += other.leaving_units()
        return units


def _prints_label(shipment: Shipment) -> bool:
    """Whether the shipment has a label to print now: its own or its carrier's once shipped,
    its channel's from the moment it came (a cancelled shipment prints none)."""
    if shipment.has_labels:
        return True
    return shipment.channel_label is not None and shipment.status != ShipmentStatus.CANCELLED
