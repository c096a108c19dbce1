"""HTTP models of the catalogue: an item put by SKU, and items as read back."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
)
from stdnum import ean
from stdnum.exceptions import ValidationError

from services.inventory_service.domain import Item, ItemDetails
from shared.countries import COUNTRIES
from shared.runtime.api import Page

MAX_GTINS = 20


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _gtin(value: str) -> str:
    """A GTIN-8/12/13/14 whose GS1 check digit holds (python-stdnum), spaces and dashes removed."""
    try:
        return str(ean.validate(value))
    except ValidationError as error:
        raise ValueError(f"{value!r} is not a GTIN: {error}") from None


def _hs_code(value: str) -> str:
    """The customs tariff code as digits: 6 (HS) up to 10 (national), dots and spaces dropped."""
    digits = value.replace(".", "").replace(" ", "")
    if not (digits.isascii() and digits.isdigit() and 6 <= len(digits) <= 10):
        raise ValueError(f"{value!r} is not an HS code: 6 to 10 digits, such as 6109.10")
    return digits


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _distinct(gtins: list[str]) -> list[str]:
    padded = [g.zfill(14) for g in gtins]
    if len(set(padded)) != len(padded):
        raise ValueError("a GTIN is listed twice")
    return gtins


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Blank is "no variant" (None): a spreadsheet's empty cell, not an error.
Variant = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None,
    BeforeValidator(_blank_to_none),
]
Gtin = Annotated[str, StringConstraints(min_length=8, max_length=20), AfterValidator(_gtin)]
HsCode = Annotated[
    Annotated[str, StringConstraints(max_length=16), AfterValidator(_hs_code)] | None,
    BeforeValidator(_blank_to_none),
]
Country = Annotated[
    Annotated[str, StringConstraints(max_length=2), AfterValidator(_country)] | None,
    BeforeValidator(_blank_to_none),
]
Millimetres = Annotated[StrictInt, Field(gt=0, le=100_000)]


class ItemDimensions(BaseModel):
    """Outer size of one unit in millimetres."""

    model_config = ConfigDict(extra="forbid")

    length: Millimetres
    width: Millimetres
    height: Millimetres


class ItemPut(BaseModel):
    """What the catalogue says of a SKU: all of it (a field left out is not known)."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["Organic cotton tee"])
    variant: Variant = Field(None, examples=["Black / M"])
    gtins: Annotated[list[Gtin], AfterValidator(_distinct)] = Field(
        default_factory=list, max_length=MAX_GTINS, examples=[["4006381333931"]]
    )
    weight_grams: Annotated[StrictInt, Field(gt=0, le=1_000_000)] | None = Field(
        None, description="weight of one unit in grams"
    )
    dimensions_mm: ItemDimensions | None = None
    hs_code: HsCode = Field(None, examples=["610910"])
    country_of_origin: Country = Field(None, description="ISO 3166-1 alpha-2", examples=["PT"])

    def details(self) -> ItemDetails:
        """The details as the domain takes them."""
        size = self.dimensions_mm
        return ItemDetails(
            name=self.name,
            variant=self.variant,
            gtins=list(self.gtins),
            weight_grams=self.weight_grams,
            dimensions_mm=None
            if size is None
            else {"length": size.length, "width": size.width, "height": size.height},
            hs_code=self.hs_code,
            country_of_origin=self.country_of_origin,
        )


class ItemPublic(BaseModel):
    """A catalogue item as stored."""

    sku: str
    name: str
    variant: str | None = None
    gtins: list[str]
    weight_grams: int | None = None
    dimensions_mm: ItemDimensions | None = None
    hs_code: str | None = None
    country_of_origin: str | None = None
    version: int = Field(description="how many times its details were set")

    @classmethod
    def of(cls, item: Item) -> ItemPublic:
        """The item as its aggregate has it."""
        return cls.model_validate(_row(item.sku, item.details, item.version))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ItemPublic:
        """The item as the catalogue view has it."""
        return cls.model_validate(row)


def _row(sku: str, details: ItemDetails, version: int) -> dict[str, Any]:
    return {**details, "sku": sku, "version": version}


class ItemPutResult(ItemPublic):
    """The item after a put, and what the put did."""

    created: bool
    changed: bool = Field(description="false when the same details were put again")


class ItemsPublic(Page[ItemPublic]):
    """A page of catalogue items, by SKU."""
