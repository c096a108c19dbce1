"""Base types of the integration events: frozen, closed pydantic models."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a UTC offset (RFC 3339)")
    return value.astimezone(UTC)


UtcTime = Annotated[
    datetime,
    AfterValidator(_utc),
    PlainSerializer(lambda v: v.isoformat().replace("+00:00", "Z"), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

_PLAIN_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def _plain_decimal(value: object) -> object:
    """Accept a Decimal or a plain decimal string; JSON numbers would lose exactness."""
    if isinstance(value, Decimal) or (isinstance(value, str) and _PLAIN_DECIMAL.match(value)):
        return value
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return value  # refused below as not finite, with pydantic's own message
    raise ValueError("must be a plain decimal string such as '24.90'")


DecimalString = Annotated[
    Decimal,
    BeforeValidator(_plain_decimal),
    Field(allow_inf_nan=False),
    PlainSerializer(lambda v: format(v, "f"), return_type=str),  # never 1E+3
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}),
]
"""Money and other exact numbers travel as decimal strings, never as floats."""

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$")]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


def now_utc() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class Contract(BaseModel):
    """A frozen value object of the public contract; unknown fields are refused.

    Validated with the `TOLERANT` context (what consumers decode with), unknown fields are
    dropped instead, in nested values too: a tolerant reader of a strict writer's contract.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_when_tolerant(cls, data: Any, info: ValidationInfo) -> Any:
        if not (info.context and info.context.get(_TOLERANT_KEY)) or not isinstance(data, dict):
            return data
        known = _known_keys(cls)
        return {name: value for name, value in data.items() if name in known}


_TOLERANT_KEY = "tolerant"
TOLERANT: Mapping[str, Any] = MappingProxyType({_TOLERANT_KEY: True})
"""Validation context of a tolerant reader: unknown fields are ignored, not refused."""


@functools.cache
def _known_keys(model: type[BaseModel]) -> frozenset[str]:
    """The input keys a model accepts: its field names and their aliases."""
    fields = model.model_fields
    return frozenset(fields) | {f.alias for f in fields.values() if f.alias}


class IntegrationEvent(Contract):
    """A public event on a Kafka topic; subclasses name their topic and partition key."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = ""
    key_field: ClassVar[str] = "order_id"

    @classmethod
    def event_type(cls) -> str:
        """The CloudEvents type, e.g. oms.OrderPlaced.v1."""
        return f"oms.{cls.__name__}.v{cls.version}"

    @property
    def partition_key(self) -> str:
        """The Kafka key: the order id, or the SKU for stock-level events."""
        return str(getattr(self, self.key_field))

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready payload; absent optional fields are left out (additions stay additive)."""
        return self.model_dump(mode="json", exclude_none=True)
