"""The catalogue: what a SKU is (name, variant, barcodes, weight, size, customs data).

One `Item` per SKU, event-sourced; putting the same details again records nothing, so an
import run twice publishes nothing the second time.
"""

from __future__ import annotations

from typing import TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.inventory_service.domain.base import InventoryError

ITEM_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/items")
BARCODE_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/barcodes")
GTIN_LENGTHS = frozenset({8, 12, 13, 14})  # GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN), GTIN-14


class Dimensions(TypedDict):
    """Outer size of one unit in millimetres."""

    length: int
    width: int
    height: int


class ItemDetails(TypedDict):
    """Everything the catalogue says of a SKU; None where it is not known."""

    name: str
    variant: str | None
    gtins: list[str]
    weight_grams: int | None
    dimensions_mm: Dimensions | None
    hs_code: str | None
    country_of_origin: str | None


class ItemNotFoundError(InventoryError):
    """The catalogue has no item with this SKU."""


class InvalidItemError(InventoryError):
    """Item details break a rule of the catalogue (a GTIN's check digit, a weight)."""


class BarcodeTakenError(InventoryError):
    """A GTIN names one product: it already belongs to another SKU."""


def item_id_for(sku: str) -> UUID:
    """The aggregate id of a SKU's catalogue item."""
    return uuid5(ITEM_NAMESPACE, sku)


def gtin_check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit of a digit string (weights 3, 1, 3, ... from the right)."""
    total = sum(int(d) * (3 if n % 2 == 0 else 1) for n, d in enumerate(reversed(digits)))
    return str(-total % 10)


def is_valid_gtin(gtin: str) -> bool:
    """8, 12, 13 or 14 digits whose last is the GS1 check digit of the others."""
    return (
        len(gtin) in GTIN_LENGTHS
        and gtin.isascii()
        and gtin.isdigit()
        and gtin_check_digit(gtin[:-1]) == gtin[-1]
    )


def gtin14(gtin: str) -> str:
    """A GTIN padded to 14 digits: how scanners' readings of one barcode compare equal."""
    return gtin.zfill(14)


def check_details(details: ItemDetails) -> None:
    """InvalidItemError unless the details keep the catalogue's rules."""
    if not details["name"].strip():
        raise InvalidItemError("an item needs a name")
    bad = [g for g in details["gtins"] if not is_valid_gtin(g)]
    if bad:
        raise InvalidItemError(f"not a GTIN (8, 12, 13 or 14 digits with a GS1 check digit): {bad}")
    padded = [gtin14(g) for g in details["gtins"]]
    if len(set(padded)) != len(padded):
        raise InvalidItemError(f"a GTIN is listed twice: {details['gtins']}")
    weight = details["weight_grams"]
    if weight is not None and weight <= 0:
        raise InvalidItemError(f"weight must be positive grams, not {weight}")
    size = details["dimensions_mm"]
    if size is not None and min(size["length"], size["width"], size["height"]) <= 0:
        raise InvalidItemError(f"dimensions must be positive millimetres, not {size}")


class Item(Aggregate):
    """A SKU in the catalogue: its name and variant, barcodes, weight, size and origin."""

    class Added(Aggregate.Created):
        sku: str
        details: ItemDetails

    class Changed(Aggregate.Event):
        """New details of the item (all of them, so a reader needs no earlier event)."""

        sku: str
        details: ItemDetails

    @event(Added)
    def __init__(self, sku: str, details: ItemDetails) -> None:
        # No checks here: this runs again on every replay, and a rule added later must not
        # stop a stored item from loading. `add` checks before the event is recorded.
        self.sku = sku
        self.details = details

    @classmethod
    def add(cls, sku: str, details: ItemDetails) -> Item:
        """A new item, its details checked first (InvalidItemError)."""
        check_details(details)
        return cls(sku=sku, details=details)

    @staticmethod
    def create_id(sku: str, **_: object) -> UUID:
        """Putting the same SKU twice addresses the same aggregate."""
        return item_id_for(sku)

    def update(self, details: ItemDetails) -> bool:
        """Take new details; the same details again record nothing (returns whether it changed)."""
        if details == self.details:
            return False
        check_details(details)
        self._changed(sku=self.sku, details=details)
        return True

    @event(Changed)
    def _changed(self, sku: str, details: ItemDetails) -> None:
        self.details = details


def barcode_id_for(gtin: str) -> UUID:
    """The aggregate id of a GTIN, however many leading zeros a scanner or a list gave it."""
    return uuid5(BARCODE_NAMESPACE, gtin14(gtin))


class Barcode(Aggregate):
    """A GTIN and the one SKU it names; it is what keeps two items from sharing a barcode."""

    class Claimed(Aggregate.Created):
        gtin: str
        sku: str

    class Taken(Aggregate.Event):
        sku: str

    class Released(Aggregate.Event):
        sku: str

    @event(Claimed)
    def __init__(self, gtin: str, sku: str) -> None:
        self.gtin = gtin
        self.sku: str | None = sku

    @staticmethod
    def create_id(gtin: str, **_: object) -> UUID:
        """Claiming the same GTIN again addresses the same aggregate."""
        return barcode_id_for(gtin)

    def claim(self, sku: str) -> None:
        """Give the GTIN to this SKU; BarcodeTakenError when another SKU holds it."""
        if self.sku == sku:
            return
        if self.sku is not None:
            raise BarcodeTakenError(f"GTIN {self.gtin} belongs to SKU {self.sku}")
        self._taken(sku=sku)

    def release(self, sku: str) -> None:
        """The SKU no longer carries this GTIN; another may claim it."""
        if self.sku == sku:
            self._released(sku=sku)

    @event(Taken)
    def _taken(self, sku: str) -> None:
        self.sku = sku

    @event(Released)
    def _released(self, sku: str) -> None:
        self.sku = None
