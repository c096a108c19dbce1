"""Bins: the slot of a SKU inside a location (aisle-bay-level) and the pick-path order."""

from __future__ import annotations

import re
from collections.abc import Iterable

from services.inventory_service.domain.base import InvalidBinError

# aisle-bay-level, e.g. A-03-2 or 12-104-C; one to six letters or digits per part.
BIN_FORMAT = re.compile(r"^[A-Z0-9]{1,6}-[A-Z0-9]{1,6}-[A-Z0-9]{1,6}$")
_RUNS = re.compile(r"[0-9]+|[^0-9]+")
# Wide enough for any digit run a bin can hold, so fixed-width runs compare as numbers.
_DIGITS = 10


def normalize_bin(text: str) -> str:
    """The bin in its one spelling (upper case); InvalidBinError unless aisle-bay-level."""
    candidate = text.strip().upper()
    if not BIN_FORMAT.match(candidate):
        raise InvalidBinError(
            f"bin {text!r} is not aisle-bay-level: three parts of 1-6 letters or digits"
            " joined by '-', e.g. A-03-2"
        )
    return candidate


def pick_path_key(bin_code: str) -> str:
    """A key whose plain (byte) order is the walking order of bins.

    Aisle first, then bay, then level; inside a part, digit runs compare as numbers, so
    A-9-1 comes before A-10-1, and numbers come before letters. The key is a string so a
    read model can store it and let PostgreSQL sort by it (with COLLATE "C").
    """
    return " ".join(_part_key(part) for part in bin_code.upper().split("-"))


def _part_key(part: str) -> str:
    return "".join(run.zfill(_DIGITS) if run.isdigit() else run for run in _RUNS.findall(part))


def in_pick_path_order(bins: Iterable[str]) -> list[str]:
    """Bins sorted along the pick path (equal keys, like A-3-1 and A-03-1, by spelling)."""
    return sorted(bins, key=lambda b: (pick_path_key(b), b))
