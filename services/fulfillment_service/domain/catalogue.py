"""What the warehouse knows of each SKU, as inventory's catalogue says (ItemChanged).

Fulfillment's own copy, one `CatalogueItem` per SKU: names for the papers, barcodes to
verify packing scans against, weights to rate parcels by. Never inventory's code: only the
public event reaches it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.fulfillment_service.domain.errors import ShipmentError
from services.fulfillment_service.domain.values import ItemLine, Package

CATALOGUE_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/fulfillment-catalogue")


class ScanMismatchError(ShipmentError):
    """A scanned barcode is not the SKU it was packed as (another item's GTIN, or unknown)."""


def catalogue_item_id_for(sku: str) -> UUID:
    """The id of fulfillment's copy of a SKU's catalogue item."""
    return uuid5(CATALOGUE_NAMESPACE, sku)


def gtin14(gtin: str) -> str:
    """A GTIN padded to 14 digits, so EAN-13 and UPC-A readings of one barcode compare equal."""
    return gtin.zfill(14)


class CatalogueItem(Aggregate):
    """A SKU's name, variant, barcodes and unit weight, as inventory last published them."""

    class Described(Aggregate.Created):
        sku: str
        name: str
        variant: str | None
        gtins: list[str]
        weight_grams: int | None

    class Redescribed(Aggregate.Event):
        sku: str
        name: str
        variant: str | None
        gtins: list[str]
        weight_grams: int | None

    @event(Described)
    def __init__(
        self,
        sku: str,
        name: str,
        variant: str | None,
        gtins: list[str],
        weight_grams: int | None,
    ) -> None:
        self.sku = sku
        self.name = name
        self.variant = variant
        self.gtins = gtins
        self.weight_grams = weight_grams

    @staticmethod
    def create_id(sku: str, **_: Any) -> UUID:
        """The id is derived from the SKU."""
        return catalogue_item_id_for(sku)

    def describe(
        self, name: str, variant: str | None, gtins: list[str], weight_grams: int | None
    ) -> bool:
        """Take the item's new details; the same again records nothing (returns whether news)."""
        if (name, variant, gtins, weight_grams) == (
            self.name,
            self.variant,
            self.gtins,
            self.weight_grams,
        ):
            return False
        self._redescribed(
            sku=self.sku, name=name, variant=variant, gtins=gtins, weight_grams=weight_grams
        )
        return True

    @event(Redescribed)
    def _redescribed(
        self, sku: str, name: str, variant: str | None, gtins: list[str], weight_grams: int | None
    ) -> None:
        self.name = name
        self.variant = variant
        self.gtins = gtins
        self.weight_grams = weight_grams

    @property
    def label(self) -> str:
        """The item as the papers name it: its name, and its variant in brackets."""
        return f"{self.name} ({self.variant})" if self.variant else self.name


def check_scan(sku: str, scan: str, item: CatalogueItem | None) -> None:
    """ScanMismatchError unless the scan is the SKU itself or one of its known GTINs."""
    scanned = scan.strip()
    if scanned == sku:
        return
    known = [gtin14(g) for g in item.gtins] if item is not None else []
    if scanned.isascii() and scanned.isdigit() and gtin14(scanned) in known:
        return
    if not known:
        raise ScanMismatchError(
            f"scanned {scanned!r} for {sku}: the catalogue knows no GTIN of {sku}, scan the SKU"
        )
    raise ScanMismatchError(
        f"scanned {scanned!r} is not {sku} (its GTINs: {', '.join(item.gtins if item else [])});"
        " wrong item in hand?"
    )


def labels_of(items: Mapping[str, CatalogueItem]) -> dict[str, str]:
    """What each SKU is called on the papers (SKUs the catalogue does not know are left out)."""
    return {sku: item.label for sku, item in items.items()}


def items_weight(lines: Iterable[ItemLine], items: Mapping[str, CatalogueItem]) -> int | None:
    """The weight of these units by the catalogue; None unless every SKU's weight is known."""
    total = 0
    for line in lines:
        item = items.get(line["sku"])
        if item is None or item.weight_grams is None:
            return None
        total += item.weight_grams * line["quantity"]
    return total


def rated_packages(packages: list[Package], items: Mapping[str, CatalogueItem]) -> list[Package]:
    """Packages weighed by the catalogue: a package whose every unit has a known weight weighs
    their sum; any other keeps the weight typed at packing."""
    rated: list[Package] = []
    for package in packages:
        weight = items_weight(package["items"], items)
        rated.append(package if weight is None else {**package, "weight_grams": weight})
    return rated
