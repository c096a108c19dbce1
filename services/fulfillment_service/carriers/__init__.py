"""Carriers: who takes the parcels, at what charge, with which tracking numbers.

Implementations of the application's `Carriers` protocol; bootstrap builds them from the
settings and hands them to the application.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.fulfillment_service.application.ports import Carrier
from services.fulfillment_service.carriers.manual import ManualCarrier
from services.fulfillment_service.carriers.rate_table import (
    DEFAULT_RATE_TABLE,
    RateTableCarrier,
    rate_table_carrier,
)
from services.fulfillment_service.domain import Address, CarrierError, Package, RateQuote


@dataclass(frozen=True)
class CarrierRegistry:
    """The configured rate-table carriers by name; any other name is a manual carrier."""

    rate_tables: Mapping[str, RateTableCarrier] = field(default_factory=dict)

    @classmethod
    def from_config(cls, configs: Sequence[Mapping[str, Any]]) -> CarrierRegistry:
        """The registry of rate-table carriers configured in the settings."""
        carriers = [rate_table_carrier(c) for c in configs]
        return cls({c.name: c for c in carriers})

    def get(self, name: str) -> Carrier:
        """The carrier of this name."""
        return self.rate_tables.get(name) or ManualCarrier(name)

    def quotes(
        self, packages: list[Package], ship_from: Address, ship_to: Address
    ) -> list[RateQuote]:
        """What each rate-table carrier charges for these packages, per service."""
        quotes = []
        for carrier in self.rate_tables.values():
            try:
                quotes += carrier.quote(packages, ship_from, ship_to)
            except CarrierError:
                continue  # this carrier cannot take these packages (too heavy, no zone)
        return quotes


__all__ = [
    "DEFAULT_RATE_TABLE",
    "CarrierRegistry",
    "ManualCarrier",
    "RateTableCarrier",
    "rate_table_carrier",
]
