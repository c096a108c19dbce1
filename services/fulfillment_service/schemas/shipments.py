"""HTTP models of shipments and their packages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.fulfillment_service.domain import Dimensions as DomainDimensions
from services.fulfillment_service.domain import ItemLine, Package, Shipment, ShipmentStatus
from shared.runtime.api import Page

Carrier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
TrackingNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$"
    ),
]
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$")]


class ShipmentLinePublic(BaseModel):
    """Units of one SKU in a shipment."""

    sku: str
    quantity: int


class PickedLinePublic(BaseModel):
    """What the picker found for one line of the shipment."""

    sku: str
    bin: str | None
    expected: int
    picked: int


class AddressPublic(BaseModel):
    """Where a shipment goes."""

    name: str
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str
    # Only where the order has them (absent, not null, on older shipments and the rest).
    company: str | None = Field(None, exclude_if=lambda value: value is None)
    phone: str | None = Field(None, exclude_if=lambda value: value is None)
    state: str | None = Field(
        None, description="as the channel named it", exclude_if=lambda value: value is None
    )
    state_code: str | None = Field(
        None, description="ISO 3166-2, where known (US-KY)", exclude_if=lambda value: value is None
    )


class Dimensions(BaseModel):
    """Outer size of a package in millimetres."""

    model_config = ConfigDict(extra="forbid")

    length: int = Field(gt=0, le=5000)
    width: int = Field(gt=0, le=5000)
    height: int = Field(gt=0, le=5000)


class PackageItem(BaseModel):
    """Units of one SKU in a package."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(gt=0, le=100_000)


Scan = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


class PackedItem(PackageItem):
    """Units of one SKU going into a package, with the barcodes scanned off them."""

    scans: list[Scan] = Field(
        default_factory=list,
        max_length=1000,
        description="barcodes scanned off these units (GTIN or SKU), at most one per unit;"
        " a GTIN must be one the catalogue knows for the SKU",
    )

    @model_validator(mode="after")
    def _one_scan_per_unit(self) -> PackedItem:
        if len(self.scans) > self.quantity:
            raise ValueError(f"{len(self.scans)} scans for {self.quantity} units of {self.sku}")
        return self


class PackagePublic(BaseModel):
    """A package of a shipment, with its SSCC and (once shipped) its tracking number."""

    model_config = ConfigDict(from_attributes=True)

    package_id: UUID
    sscc: str
    items: list[PackageItem]
    weight_grams: int
    dimensions_mm: Dimensions
    tracking_number: str | None = None


class PackageDetail(PackagePublic):
    """A package with the shipment it belongs to."""

    shipment_id: UUID
    carrier: str | None = None
    service: str | None = None


class PackageCreate(BaseModel):
    """What went into one box, its weight and its size."""

    model_config = ConfigDict(extra="forbid")

    items: list[PackedItem] = Field(min_length=1, max_length=500)
    weight_grams: int = Field(gt=0, le=1_000_000)
    dimensions_mm: Dimensions

    def scans(self) -> dict[str, list[str]]:
        """The barcodes scanned per SKU."""
        scans: dict[str, list[str]] = {}
        for item in self.items:
            scans.setdefault(item.sku, []).extend(item.scans)
        return {sku: codes for sku, codes in scans.items() if codes}

    def item_lines(self) -> list[ItemLine]:
        """The items as the domain takes them."""
        return [ItemLine(sku=item.sku, quantity=item.quantity) for item in self.items]

    def dimensions(self) -> DomainDimensions:
        """The outer size as the domain takes it."""
        size = self.dimensions_mm
        return DomainDimensions(length=size.length, width=size.width, height=size.height)


class ShipmentPublic(BaseModel):
    """A shipment as ops see it."""

    model_config = ConfigDict(from_attributes=True)

    shipment_id: UUID
    order_id: UUID
    order_number: str | None = Field(
        None, description="the order's number at the channel (Shopify #1001), else its id there"
    )
    location_id: str
    status: ShipmentStatus
    lines: list[ShipmentLinePublic]
    ship_to: AddressPublic
    pick_list_id: UUID | None = None
    slot: int | None = None
    planned_carrier: str | None = None
    picked: list[PickedLinePublic] | None = None
    packages: list[PackagePublic] = []
    carrier: str | None
    service: str | None = None
    tracking_number: str | None
    created_at: datetime
    picked_at: datetime | None = None
    shipped_at: datetime | None
    cancelled_at: datetime | None


class ShipmentsPublic(Page[ShipmentPublic]):
    """A page of shipments."""


class ShipmentShip(BaseModel):
    """The carrier taking the shipment: one tracking number, or one per package, or none
    when the carrier issues them itself."""

    model_config = ConfigDict(extra="forbid")

    carrier: Carrier | None = None
    service: Carrier | None = None
    tracking_number: TrackingNumber | None = None
    tracking_numbers: list[TrackingNumber] | None = Field(None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_way_of_tracking(self) -> ShipmentShip:
        if self.tracking_number is not None and self.tracking_numbers is not None:
            raise ValueError("give tracking_number or tracking_numbers, not both")
        return self


class RateQuote(BaseModel):
    """What a rate-table carrier charges for the shipment's packages with one service."""

    carrier: str
    service: str
    zone: str
    charge: str
    currency: str


class PackageCreated(PackagePublic):
    """The new package, and what of the shipment is still to pack."""

    shipment_id: UUID
    shipment_status: ShipmentStatus
    unpacked: list[ShipmentLinePublic]

    @classmethod
    def of(cls, shipment: Shipment, package: Package) -> PackageCreated:
        """The package just packed into the shipment."""
        return cls(
            **PackagePublic.model_validate(package).model_dump(),
            shipment_id=shipment.id,
            shipment_status=shipment.status,
            unpacked=[
                ShipmentLinePublic(sku=sku, quantity=n)
                for sku, n in shipment.unpacked_units().items()
                if n > 0
            ],
        )
