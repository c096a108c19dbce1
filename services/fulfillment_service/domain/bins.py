"""Bins: where each SKU lives at a location, as inventory says; and the pick-path order."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.fulfillment_service.domain.ids import bin_id_for

_DIGITS = re.compile(r"(\d+)")


class BinAssignment(Aggregate):
    """The bin of one SKU at one location (fulfillment's own copy of inventory's fact)."""

    class Assigned(Aggregate.Created):
        """Inventory put the SKU in a bin at the location (fulfillment heard of it first)."""

        location_id: str
        sku: str
        bin: str

    class Moved(Aggregate.Event):
        """The SKU moved to another bin; names the location and SKU for the bin view."""

        bin: str
        previous_bin: str
        location_id: str
        sku: str

    @event(Assigned)
    def __init__(self, location_id: str, sku: str, bin: str) -> None:
        self.location_id = location_id
        self.sku = sku
        self.bin = bin

    @staticmethod
    def create_id(location_id: str, sku: str, **_: Any) -> UUID:
        """The id is derived from the location and the SKU."""
        return bin_id_for(location_id, sku)

    def move(self, bin: str) -> bool:
        """The SKU moved to another bin; the same bin again changes nothing."""
        if bin == self.bin:
            return False
        # The event names the location and SKU too, so the bin view needs nothing else.
        self._moved(bin=bin, previous_bin=self.bin, location_id=self.location_id, sku=self.sku)
        return True

    @event(Moved)
    def _moved(self, bin: str, previous_bin: str, location_id: str, sku: str) -> None:
        self.bin = bin


# Per segment of a bin code, its runs of digits and letters: (0, number, "") or (1, 0, text).
BinKey = tuple[tuple[tuple[int, int, str], ...], ...]


def bin_key(bin: str) -> BinKey:
    """Natural order of a bin code, segment by segment: A-9-1 before A-10-1, 03 equals 3."""
    return tuple(
        tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in _DIGITS.split(seg) if t)
        for seg in bin.upper().split("-")
    )


def pick_path_key(bin: str | None, sku: str) -> tuple[int, BinKey, str, str]:
    """Walking order of a pick line: by bin along the path; SKUs without a bin last, by SKU."""
    if bin is None:
        return (1, (), "", sku)
    return (0, bin_key(bin), bin, sku)
