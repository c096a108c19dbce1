"""The Shipment: what leaves one location for one customer, from open to shipped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.fulfillment_service.domain.errors import (
    LabelNotReadyError,
    PackageConflictError,
    PackingMismatchError,
    ShipmentAlreadyShippedError,
    ShipmentNotPackableError,
    ShipmentNotShippableError,
)
from services.fulfillment_service.domain.ids import shipment_id_for
from services.fulfillment_service.domain.statuses import NOT_PACKABLE, SHIP_TO_FIXED, TRANSITIONS
from services.fulfillment_service.domain.statuses import ShipmentStatus as Status
from services.fulfillment_service.domain.units import (
    as_lines,
    labelled_packages,
    packing_problems,
    sum_items,
)
from services.fulfillment_service.domain.values import (
    Address,
    ChannelLabel,
    Dimensions,
    ItemLine,
    OrderSummary,
    Package,
    PickedLine,
    ShippedPackage,
    TrackingAssignment,
)


class Shipment(Aggregate):
    """What leaves one location for one customer: lines, picks, packages, carrier, tracking."""

    # Event classes keep their names and fields: stored events load by `module:Qualname`.
    # Fields added after the first release keep a default (older stored events lack them).

    class Created(Aggregate.Created):
        """The order's units at one location are to leave for the customer."""

        order_id: UUID
        location_id: str
        lines: list[ItemLine]
        ship_to: Address
        customer_name: str
        order: OrderSummary | None = None
        revision: int = 0  # the order's edits before it (a new id after each)
        part: str | None = None  # units sourced again after a short pick (their own id)

    class PickingStarted(Aggregate.Event):
        """The shipment went on a pick list, in one slot of the cart."""

        pick_list_id: str
        slot: int
        carrier: str | None
        # Carry what the public PickingStarted needs; absent on events stored before it.
        order_id: UUID | None = None
        location_id: str | None = None

    class PickingReleased(Aggregate.Event):
        """Its pick list was cancelled: the shipment is open again."""

        pick_list_id: str
        order_id: UUID | None = None  # absent on events stored before PickingReleased was public

    class ShipToChanged(Aggregate.Event):
        """The order's new ship-to, taken before picking: labels and slips print it."""

        ship_to: Address

    class ShipToRefused(Aggregate.Event):
        """The order's new ship-to came once picking had started: the shipment keeps its own."""

        ship_to: Address  # the address refused
        reason: str
        order_id: UUID

    class EditRefused(Aggregate.Event):
        """The order's lines were edited once picking had started: the shipment keeps its own."""

        revision: int
        reason: str
        order_id: UUID

    class Picked(Aggregate.Event):
        """The picker found these units for it (none at all: short)."""

        # Carries what the public ShortPicked event needs, so the mapping stays pure.
        pick_list_id: str
        lines: list[PickedLine]
        order_id: UUID
        location_id: str
        status: str

    class PackageAdded(Aggregate.Event):
        """Picked units went into a box with its own SSCC."""

        package: Package
        status: str

    class PackageRemoved(Aggregate.Event):
        """A box was unpacked before it left."""

        package_id: str

    class Shipped(Aggregate.Event):
        """The shipment left with a carrier."""

        # Carries what the public Shipped event needs, so the mapping stays pure.
        carrier: str
        tracking_number: str
        order_id: UUID
        location_id: str
        lines: list[ItemLine]
        service: str | None = None
        packages: list[ShippedPackage] | None = None
        # Whether channels may be told the tracking numbers (None: stored before, shared),
        # and where the customer follows the parcel (labels bought from a carrier).
        tracking_shared: bool | None = None
        tracking_url: str | None = None

    class ChannelLabelAttached(Aggregate.Event):
        """The order's channel arranged the shipment with its own logistics: its label (and
        tracking number) come from the channel, printed as the channel sent it."""

        label: ChannelLabel

    class Cancelled(Aggregate.Event):
        """The shipment will not leave (its order was cancelled)."""

        reason: str
        order_id: UUID
        location_id: str

    @event(Created)
    def __init__(
        self,
        order_id: UUID,
        location_id: str,
        lines: list[ItemLine],
        ship_to: Address,
        customer_name: str,
        order: OrderSummary | None = None,
        revision: int = 0,
        part: str | None = None,
    ) -> None:
        self.order_id = order_id
        self.revision = revision
        self.part = part
        self.edits_refused: list[int] = []  # the order's edits it kept its lines against
        self.location_id = location_id
        self.lines = lines
        self.ship_to = ship_to
        self.customer_name = customer_name
        # What the packing slip needs about the whole order: number, date, ordered lines.
        self.order: OrderSummary = order or {}
        self.status = Status.OPEN
        self.carrier: str | None = None
        self.service: str | None = None
        self.tracking_number: str | None = None
        self.tracking_shared = True  # whether channels may be told the tracking numbers
        self.tracking_url: str | None = None
        self.shipped_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.cancel_reason: str | None = None
        self.pick_list_id: str | None = None
        self.slot: int | None = None
        self.planned_carrier: str | None = None
        self.picked: list[PickedLine] | None = None
        self.picked_at: datetime | None = None
        self.packages: list[Package] = []
        self.channel_label: ChannelLabel | None = None

    @staticmethod
    def create_id(
        order_id: UUID, location_id: str, revision: int = 0, part: str | None = None, **_: Any
    ) -> UUID:
        """The id is derived from the order, the location, the order's edits and the part."""
        return shipment_id_for(order_id, location_id, revision, part)

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
        """The order's number as the channel and the customer know it: the channel's own
        (Shopify's #1001) where the order has one, else its id at the channel."""
        return self.order.get("channel_order_number") or self.order.get("external_id")

    def can_become(self, status: Status) -> bool:
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

    def leaving_lines(self) -> list[ItemLine]:
        """leaving_units as {sku, quantity} lines in the shipment's own line order."""
        return as_lines(self.leaving_units(), [line["sku"] for line in self.lines])

    def package(self, package_id: UUID) -> Package | None:
        """One of the shipment's packages, or None."""
        return next((p for p in self.packages if p["package_id"] == str(package_id)), None)

    # -- the ship-to ----------------------------------------------------------------------

    def change_ship_to(self, ship_to: Address) -> bool:
        """Take the order's new ship-to while open; once picking started it is refused, on
        record (published), never ignored. Whether the shipment now goes to that address."""
        if self.status == Status.CANCELLED:
            return False  # it never leaves: there is nothing to address
        if ship_to == self.ship_to:
            return True
        if self.status != Status.OPEN:
            self._ship_to_refused(
                ship_to=ship_to, reason=self._ship_to_fixed_reason(), order_id=self.order_id
            )
            return False
        self._ship_to_changed(ship_to=ship_to)
        return True

    def refuse_edit(self, revision: int) -> None:
        """The order's edit came once picking had started: refused on record (published)."""
        if revision in self.edits_refused:
            return
        reason = self._ship_to_fixed_reason().replace("its ship-to", "its lines")
        self._edit_refused(revision=revision, reason=reason, order_id=self.order_id)

    @event(EditRefused)
    def _edit_refused(self, revision: int, reason: str, order_id: UUID) -> None:
        # The refusal is the record: the shipment's lines do not change.
        self.edits_refused = [*self.edits_refused, revision]

    def _ship_to_fixed_reason(self) -> str:
        """Why the ship-to can no longer change (for ops and the order's timeline)."""
        if self.status == Status.PICKING:
            return f"picking started (pick list {self.pick_list_id}): it keeps its ship-to"
        return f"the shipment {SHIP_TO_FIXED[self.status]}: it keeps its ship-to"

    @event(ShipToChanged)
    def _ship_to_changed(self, ship_to: Address) -> None:
        self.ship_to = ship_to

    @event(ShipToRefused)
    def _ship_to_refused(self, ship_to: Address, reason: str, order_id: UUID) -> None:
        pass  # the refusal is the record: the shipment's own address does not change

    # -- picking --------------------------------------------------------------------------

    def start_picking(self, pick_list_id: UUID, slot: int, carrier: str | None) -> bool:
        """The shipment goes on a pick list in this slot; False when it is not open."""
        if self.status != Status.OPEN:
            return False
        self._picking_started(
            pick_list_id=str(pick_list_id),
            slot=slot,
            carrier=carrier,
            order_id=self.order_id,
            location_id=self.location_id,
        )
        return True

    @event(PickingStarted)
    def _picking_started(
        self,
        pick_list_id: str,
        slot: int,
        carrier: str | None,
        order_id: UUID | None = None,
        location_id: str | None = None,
    ) -> None:
        self.status = Status.PICKING
        self.pick_list_id = pick_list_id
        self.slot = slot
        self.planned_carrier = carrier

    def release_picking(self, pick_list_id: UUID) -> bool:
        """The pick list was cancelled: the shipment is open again for the next list."""
        if self.status != Status.PICKING or self.pick_list_id != str(pick_list_id):
            return False
        self._picking_released(pick_list_id=str(pick_list_id), order_id=self.order_id)
        return True

    @event(PickingReleased)
    def _picking_released(self, pick_list_id: str, order_id: UUID | None = None) -> None:
        self.status = Status.OPEN
        self.pick_list_id = None
        self.slot = None

    def record_pick(self, pick_list_id: UUID, lines: list[PickedLine]) -> bool:
        """What the picker found for this shipment ({sku, bin, expected, picked} per line)."""
        if self.status != Status.PICKING or self.pick_list_id != str(pick_list_id):
            return False
        # Nothing found at all: the shipment waits as SHORT until its order is resolved.
        status = Status.PICKED if any(line["picked"] > 0 for line in lines) else Status.SHORT
        self._picked(
            pick_list_id=str(pick_list_id),
            lines=lines,
            order_id=self.order_id,
            location_id=self.location_id,
            status=status,
        )
        return True

    @event(Picked)
    def _picked(
        self,
        pick_list_id: str,
        lines: list[PickedLine],
        order_id: UUID,
        location_id: str,
        status: str,
        timestamp: datetime | None = None,
    ) -> None:
        self.picked = lines
        self.picked_at = timestamp
        self.status = Status(status)

    # -- packing --------------------------------------------------------------------------

    def add_package(
        self,
        package_id: UUID,
        items: list[ItemLine],
        weight_grams: int,
        dimensions_mm: Dimensions,
        issue_sscc: Callable[[], str],
    ) -> Package:
        """Put picked units into a new package with an SSCC; the same package again is a no-op."""
        existing = self.package(package_id)
        if existing is not None:
            contents = (existing["items"], existing["weight_grams"], existing["dimensions_mm"])
            if contents != (items, weight_grams, dimensions_mm):
                raise PackageConflictError(f"package {package_id} was packed with other contents")
            return existing
        self._check_packable(items)
        package = Package(
            package_id=str(package_id),
            sscc=issue_sscc(),
            items=items,
            weight_grams=weight_grams,
            dimensions_mm=dimensions_mm,
        )
        full = not (self.unpacked_units() - sum_items(items))
        self._package_added(package=package, status=Status.PACKED if full else Status.PICKED)
        return package

    def _check_packable(self, items: list[ItemLine]) -> None:
        if self.status != Status.PICKED:
            reason = NOT_PACKABLE.get(self.status, f"is {self.status}")
            raise ShipmentNotPackableError(f"shipment {self.id} {reason}")
        problems = packing_problems(self.unpacked_units(), items)
        if problems:
            raise PackingMismatchError("; ".join(problems))

    @event(PackageAdded)
    def _package_added(self, package: Package, status: str) -> None:
        self.packages.append(package)
        self.status = Status(status)

    def remove_package(self, package_id: UUID) -> bool:
        """Unpack a package that has not shipped; its units are to be packed again."""
        if self.package(package_id) is None:
            return False
        if self.status not in (Status.PICKED, Status.PACKED):
            raise ShipmentNotPackableError(f"shipment {self.id} is {self.status}")
        self._package_removed(package_id=str(package_id))
        return True

    @event(PackageRemoved)
    def _package_removed(self, package_id: str) -> None:
        self.packages = [p for p in self.packages if p["package_id"] != package_id]
        self.status = Status.PICKED

    # -- shipping -------------------------------------------------------------------------

    def ship(self, carrier: str, tracking_number: str, service: str | None = None) -> bool:
        """The shipment left without packages (open or picked); the same again changes nothing."""
        if self.status == Status.SHIPPED:
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
        self,
        carrier: str,
        service: str | None,
        assignments: list[TrackingAssignment],
        *,
        tracking_url: str | None = None,
        tracking_shared: bool | None = None,
    ) -> bool:
        """The packed shipment left; each assignment gives a package its tracking number."""
        if self.status == Status.SHIPPED:
            if self.shipped_as(carrier, service, [a["tracking_number"] for a in assignments]):
                return False
            raise ShipmentAlreadyShippedError(
                f"shipment {self.id} already shipped with {self.carrier} {self.tracking_number}"
            )
        if self.status != Status.PACKED:
            raise ShipmentNotShippableError(
                f"shipment {self.id} is {self.status}: with packages it ships once packed"
            )
        packages = labelled_packages(self.packages, assignments)
        number = packages[0]["tracking_number"]
        self._ship(carrier, service, number, packages, tracking_url, tracking_shared)
        return True

    def shipped_as(self, carrier: str, service: str | None, tracking: list[str] | None) -> bool:
        """Whether the shipment already left this way (a repeated request changes nothing)."""
        if self.status != Status.SHIPPED or carrier != self.carrier:
            return False
        if service is not None and service != self.service:
            return False
        return tracking is None or tracking == [p.get("tracking_number") for p in self.packages]

    def _check_shippable(self) -> None:
        if not self.can_become(Status.SHIPPED):
            raise ShipmentNotShippableError(f"shipment {self.id} is {self.status}")

    def _ship(
        self,
        carrier: str,
        service: str | None,
        tracking_number: str,
        packages: list[ShippedPackage] | None,
        tracking_url: str | None = None,
        tracking_shared: bool | None = None,
    ) -> None:
        self._shipped(
            carrier=carrier,
            tracking_number=tracking_number,
            order_id=self.order_id,
            location_id=self.location_id,
            lines=self.leaving_lines(),
            service=service,
            packages=packages,
            tracking_shared=tracking_shared,
            tracking_url=tracking_url,
        )

    @event(Shipped)
    def _shipped(
        self,
        carrier: str,
        tracking_number: str,
        order_id: UUID,
        location_id: str,
        lines: list[ItemLine],
        service: str | None = None,
        packages: list[ShippedPackage] | None = None,
        timestamp: datetime | None = None,
        tracking_shared: bool | None = None,
        tracking_url: str | None = None,
    ) -> None:
        # eventsourcing passes the event's own timestamp to a parameter of that name.
        self.tracking_shared = tracking_shared is not False
        self.tracking_url = tracking_url
        self.status = Status.SHIPPED
        self.carrier = carrier
        self.service = service
        self.tracking_number = tracking_number
        self.shipped_at = timestamp
        by_id = {p["package_id"]: p for p in packages or []}
        for package in self.packages:
            # .get: packages shipped before charges were recorded carry none.
            shipped = by_id.get(package["package_id"])
            package["tracking_number"] = shipped.get("tracking_number") if shipped else None
            package["charge"] = shipped.get("charge") if shipped else None

    # -- a label from the order's channel ------------------------------------------------

    def attach_channel_label(self, label: ChannelLabel) -> bool:
        """Keep the label the channel's logistics made; whether it was news. A cancelled
        shipment takes none (it never leaves), and the same label again changes nothing."""
        if self.status == Status.CANCELLED or label == self.channel_label:
            return False
        self._channel_label_attached(label=label)
        return True

    @event(ChannelLabelAttached)
    def _channel_label_attached(self, label: ChannelLabel) -> None:
        self.channel_label = label

    def ship_with_channel_label(self) -> bool:
        """The shipment leaves with the channel's carrier and tracking number (each package
        under the channel's one label); the same again changes nothing."""
        label = self.channel_label
        if label is None:
            raise ShipmentNotShippableError(f"shipment {self.id} has no label from its channel")
        carrier, tracking = label["carrier"], label["tracking_number"]
        if not self.packages:
            return self.ship(carrier, tracking)
        assignments = [
            TrackingAssignment(package_id=p["package_id"], tracking_number=tracking)
            for p in self.packages
        ]
        return self.ship_packages(carrier, None, assignments)

    # -- labels ---------------------------------------------------------------------------

    @property
    def has_labels(self) -> bool:
        """Whether its packages have labels: it was packed and shipped with a carrier."""
        return self.status == Status.SHIPPED and bool(self.packages)

    def check_labels(self) -> None:
        """Raise LabelNotReadyError saying why, unless the packages have labels."""
        if self.has_labels:
            return
        if self.status == Status.SHIPPED:
            reason = "shipped without packages, so it has no package labels"
        elif self.status == Status.PACKED:
            reason = "packed but not shipped: the label needs the carrier's tracking number"
        else:
            reason = f"{self.status}: labels come once it is packed and shipped"
        raise LabelNotReadyError(f"shipment {self.id} is {reason}")

    # -- cancelling -----------------------------------------------------------------------

    def cancel(self, reason: str) -> bool:
        """The shipment will not leave; one that already left or was cancelled stays as it is."""
        if not self.can_become(Status.CANCELLED):
            return False
        self._cancelled(reason=reason, order_id=self.order_id, location_id=self.location_id)
        return True

    @event(Cancelled)
    def _cancelled(
        self, reason: str, order_id: UUID, location_id: str, timestamp: datetime | None = None
    ) -> None:
        self.status = Status.CANCELLED
        self.cancel_reason = reason
        self.cancelled_at = timestamp
