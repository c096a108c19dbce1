"""What each printed document shows: plain data, filled from the aggregates (sources)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.fulfillment_service.domain import Address


@dataclass(frozen=True)
class PickLine:
    """One stop on the walk: a bin, a SKU, how many, and into which slots."""

    sku: str
    bin: str | None
    description: str
    quantity: int
    slots: tuple[tuple[int, int], ...]  # (slot number, units)


@dataclass(frozen=True)
class PickListDocument:
    """A pick list as the picker carries it."""

    pick_list_id: str
    location_id: str
    location_name: str
    created_at: str
    carrier: str | None
    status: str
    lines: tuple[PickLine, ...]
    slots: tuple[tuple[int, str, str], ...]  # (slot number, order number, shipment id)


@dataclass(frozen=True)
class SlipLine:
    """One ordered SKU on a packing slip: never a price."""

    sku: str
    description: str
    ordered: int
    in_shipment: int
    to_follow: int


@dataclass(frozen=True)
class PackingSlipDocument:
    """The paper in the box."""

    shipment_id: str
    order_number: str
    order_date: str
    ship_from: Address
    ship_to: Address
    lines: tuple[SlipLine, ...]
    packages: tuple[tuple[str, int, str | None], ...] = ()  # (SSCC, grams, tracking number)
    carrier: str | None = None


@dataclass(frozen=True)
class LabelDocument:
    """A 4x6 in. shipping label of one package."""

    ship_from: Address
    ship_to: Address
    carrier: str
    service: str | None
    tracking_number: str
    sscc: str
    package_number: int
    package_count: int
    weight_grams: int
    order_number: str
    shipment_id: str
    extra: dict[str, Any] = field(default_factory=dict)


def address_lines(address: Address) -> list[str]:
    """An address as printed: name, street lines, postal code and city, country."""
    lines = [address["name"], address["line1"]]
    line2 = address.get("line2")
    if line2:
        lines.append(line2)
    lines.append(f"{address['postal_code']} {address['city']}")
    lines.append(address["country"])
    return lines
