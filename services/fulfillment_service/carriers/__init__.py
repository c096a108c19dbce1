"""Carriers: who takes the parcels, at what charge, with which tracking numbers.

Implementations of the application's `Carriers` protocol; bootstrap builds them from the
settings and hands them to the application.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.fulfillment_service.application.ports import Carrier, LabelCarrier, TrackingWebhook
from services.fulfillment_service.carriers.easypost import EasyPostCarrier
from services.fulfillment_service.carriers.manual import ManualCarrier
from services.fulfillment_service.carriers.ninjavan import NinjaVanCarrier
from services.fulfillment_service.carriers.rate_shopping import Rate, RateRule
from services.fulfillment_service.carriers.rate_table import (
    DEFAULT_RATE_TABLE,
    RateTableCarrier,
    rate_table_carrier,
)
from services.fulfillment_service.domain import Address, CarrierError, Package, RateQuote


@dataclass(frozen=True)
class CarrierRegistry:
    """The configured carriers by name: rate tables, carriers whose labels we buy through their
    API (EasyPost, Ninja Van); any other name is a manual carrier."""

    rate_tables: Mapping[str, RateTableCarrier] = field(default_factory=dict)
    apis: Mapping[str, EasyPostCarrier | NinjaVanCarrier] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls,
        configs: Sequence[Mapping[str, Any]],
        apis: Sequence[EasyPostCarrier | NinjaVanCarrier] = (),
    ) -> CarrierRegistry:
        """The registry of the rate-table carriers and API carriers configured in the settings."""
        carriers = [rate_table_carrier(c) for c in configs]
        return cls({c.name: c for c in carriers}, {c.name: c for c in apis})

    def label_carrier(self, name: str) -> LabelCarrier | None:
        """The carrier of this name if we buy its labels through its API."""
        return self.apis.get(name)

    def webhook(self, name: str) -> TrackingWebhook | None:
        """The configured carrier of this name that pushes tracking."""
        return self.apis.get(name)

    def tracking_shared(self, name: str) -> bool:
        """A rate table's tracking numbers go to channels only when the merchant declared them
        real; every other carrier's numbers are the carrier's own."""
        table = self.rate_tables.get(name)
        return table is None or table.tracking_numbers_are_real

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
    "EasyPostCarrier",
    "ManualCarrier",
    "NinjaVanCarrier",
    "Rate",
    "RateRule",
    "RateTableCarrier",
    "rate_table_carrier",
]
