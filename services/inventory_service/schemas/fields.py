"""Field types shared by the inventory request models: validated at the edge."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt

from services.inventory_service.domain import InvalidBinError, normalize_bin

Quantity = Annotated[StrictInt, Field(gt=0, le=1_000_000)]
Reason = Annotated[str, Field(min_length=1, max_length=200)]
LocationId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]


def _bin(value: str) -> str:
    try:
        return normalize_bin(value)
    except InvalidBinError as error:
        raise ValueError(str(error)) from None


BinCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="aisle-bay-level, e.g. A-03-2 (stored upper case)",
        examples=["A-03-2"],
    ),
    AfterValidator(_bin),
]
