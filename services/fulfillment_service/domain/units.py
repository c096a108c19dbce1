"""Units per SKU and packages: planning shipments, adding up items, checking packing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from services.fulfillment_service.domain.values import (
    Allocation,
    ItemLine,
    Package,
    ShippedPackage,
    TrackingAssignment,
)


def plan_shipments(allocations: list[Allocation]) -> dict[str, list[ItemLine]]:
    """Allocations grouped by location: each location's lines, units summed per SKU."""
    units: dict[str, Counter[str]] = {}
    for allocation in allocations:
        at_location = units.setdefault(allocation["location_id"], Counter())
        at_location[allocation["sku"]] += allocation["quantity"]
    return {
        location_id: [ItemLine(sku=sku, quantity=quantity) for sku, quantity in skus.items()]
        for location_id, skus in units.items()
    }


def sum_items(items: list[ItemLine]) -> Counter[str]:
    """Units per SKU of a list of {sku, quantity} items (repeated SKUs add up)."""
    units: Counter[str] = Counter()
    for item in items:
        units[item["sku"]] += item["quantity"]
    return units


def as_lines(units: Counter[str], order: list[str]) -> list[ItemLine]:
    """Units as {sku, quantity} lines in the given SKU order, leaving out zeros."""
    return [ItemLine(sku=sku, quantity=units[sku]) for sku in order if units[sku] > 0]


def packing_problems(remaining: Counter[str], items: list[ItemLine]) -> list[str]:
    """What in a package was not picked, or beyond what is left to pack."""
    return [
        f"{sku}: {quantity} to pack, {remaining[sku]} picked and not yet packed"
        for sku, quantity in sum_items(items).items()
        if quantity > remaining[sku]
    ]


def labelled_packages(
    packages: list[Package], assignments: list[TrackingAssignment]
) -> list[ShippedPackage]:
    """Each package with the tracking number (and charge) its carrier assigned."""
    by_id = {a["package_id"]: a for a in assignments}
    return [
        ShippedPackage(
            package_id=p["package_id"],
            sscc=p["sscc"],
            tracking_number=by_id[p["package_id"]]["tracking_number"],
            weight_grams=p["weight_grams"],
            charge=by_id[p["package_id"]].get("charge"),
        )
        for p in packages
    ]


def description_of(sku: str, labels: Mapping[str, str] | None = None) -> str:
    """What a SKU is called on the papers: its catalogue name (and variant), else the SKU."""
    return (labels or {}).get(sku, sku)
