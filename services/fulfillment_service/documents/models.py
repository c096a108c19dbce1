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
    note: str | None = None  # the customer's, as the order has it


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
    contents: str = ""  # what is in the box, by catalogue name where known


# Where the state goes on the city line after the city, as its postal code (Shippington KY 40003).
CITY_STATE_POSTAL = frozenset({"US", "CA", "AU"})


def address_lines(address: Address) -> list[str]:
    """An address as printed: name, company, street lines, postal code and city (with the state
    where the country writes it so, else the state on a line of its own), country, phone."""
    lines = [address["name"]]
    company = address.get("company")
    if company and company != address["name"]:
        lines.append(company)
    lines.append(address["line1"])
    line2 = address.get("line2")
    if line2:
        lines.append(line2)
    state = address.get("state")
    code = address.get("state_code")
    short = code.split("-", 1)[1] if code and "-" in code else state
    if address["country"] in CITY_STATE_POSTAL and short:
        lines.append(f"{address['city']} {short} {address['postal_code']}")
    else:
        lines.append(f"{address['postal_code']} {address['city']}")
        if state:
            lines.append(state)
    lines.append(address["country"])
    phone = address.get("phone")
    if phone:
        lines.append(f"Tel. {phone}")
    return lines
