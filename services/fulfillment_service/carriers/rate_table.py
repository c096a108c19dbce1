"""Carriers priced by weight band and zone that issue their own (Luhn-checked) tracking numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stdnum import luhn

from services.fulfillment_service.application.ports import IssueSerials
from services.fulfillment_service.domain import (
    Address,
    CarrierError,
    Package,
    RateQuote,
    TrackingAssignment,
)

DOMESTIC = "domestic"
WORLD = "world"


@dataclass(frozen=True)
class RateTableCarrier:
    """A carrier priced by weight band and zone that issues its own tracking numbers."""

    name: str
    tracking_prefix: str
    currency: str
    bands_grams: tuple[int, ...]  # upper bound of each weight band, ascending
    rates: Mapping[str, Mapping[str, tuple[str, ...]]]  # service -> zone -> price per band
    zones: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # zone -> countries
    issues_tracking_numbers: bool = True
    # Whether the merchant declared these numbers real (registered with the carrier): only then
    # are they told to channels and customers.
    tracking_numbers_are_real: bool = False

    @property
    def services(self) -> list[str]:
        """Service levels, the default first."""
        return list(self.rates)

    def zone(self, from_country: str, to_country: str) -> str:
        """Domestic, a named zone listing the destination country, or world."""
        if from_country == to_country:
            return DOMESTIC
        return next((z for z, countries in self.zones.items() if to_country in countries), WORLD)

    def price(self, service: str, zone: str, weight_grams: int) -> Decimal:
        """The charge for one package."""
        if service not in self.rates:
            raise CarrierError(f"carrier {self.name} has no service {service!r}: {self.services}")
        band = next((i for i, top in enumerate(self.bands_grams) if weight_grams <= top), None)
        if band is None:
            raise CarrierError(
                f"{weight_grams} g is over the {self.bands_grams[-1]} g limit of {self.name}"
            )
        prices = self.rates[service].get(zone)
        if prices is None:
            raise CarrierError(f"carrier {self.name} does not deliver to zone {zone!r}")
        return Decimal(prices[band])

    def tracking_number(self, serial: int) -> str:
        """Prefix, 11-digit serial and a Luhn (mod-10) check digit."""
        digits = f"{serial:011d}"
        return f"{self.tracking_prefix}{digits}{luhn.calc_check_digit(digits)}"

    def quote(
        self, packages: list[Package], ship_from: Address, ship_to: Address
    ) -> list[RateQuote]:
        """The total charge of every service for these packages."""
        zone = self.zone(ship_from["country"], ship_to["country"])
        quotes = []
        for service in self.services:
            total = sum((self.price(service, zone, p["weight_grams"]) for p in packages), Decimal())
            quotes.append(
                RateQuote(
                    carrier=self.name,
                    service=service,
                    zone=zone,
                    charge=str(total),
                    currency=self.currency,
                )
            )
        return quotes

    def assign(
        self,
        packages: list[Package],
        *,
        ship_from: Address,
        ship_to: Address,
        service: str | None,
        tracking_numbers: list[str] | None,
        issue_serials: IssueSerials,
    ) -> tuple[str | None, list[TrackingAssignment]]:
        """Price every package, then issue its tracking number (nothing issued if one fails)."""
        if tracking_numbers:
            raise CarrierError(f"carrier {self.name} issues its own tracking numbers")
        service = service or self.services[0]
        zone = self.zone(ship_from["country"], ship_to["country"])
        charges = [self.price(service, zone, p["weight_grams"]) for p in packages]
        serials = issue_serials(len(packages))
        return service, [
            TrackingAssignment(
                package_id=p["package_id"],
                tracking_number=self.tracking_number(serial),
                charge=f"{charge} {self.currency}",
            )
            for p, charge, serial in zip(packages, charges, serials, strict=True)
        ]


# The built-in rate-table carrier: a typical European parcel tariff, in euros.
DEFAULT_RATE_TABLE: dict[str, Any] = {
    "name": "oms-parcel",
    "tracking_prefix": "OP",
    "currency": "EUR",
    "bands_grams": [1000, 2000, 5000, 10000, 20000, 31500],
    "zones": {
        # Countries of a zone, separated by spaces.
        "eu": "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK",
        "europe": "CH GB IS LI NO",
    },
    "rates": {
        "standard": {
            DOMESTIC: ["4.50", "5.20", "6.90", "9.90", "14.90", "19.90"],
            "eu": ["9.50", "11.00", "14.50", "19.50", "29.00", "39.00"],
            "europe": ["12.50", "14.50", "19.50", "26.00", "38.00", "49.00"],
            WORLD: ["19.00", "25.00", "39.00", "59.00", "89.00", "119.00"],
        },
        "express": {
            DOMESTIC: ["9.90", "11.90", "14.90", "19.90", "29.90", "39.90"],
            "eu": ["24.00", "28.00", "35.00", "45.00", "65.00", "85.00"],
            "europe": ["29.00", "34.00", "42.00", "55.00", "79.00", "99.00"],
            WORLD: ["45.00", "55.00", "75.00", "105.00", "155.00", "199.00"],
        },
    },
}


def rate_table_carrier(config: Mapping[str, Any]) -> RateTableCarrier:
    """A rate-table carrier from its configuration (see DEFAULT_RATE_TABLE for the shape)."""
    bands = tuple(int(b) for b in config["bands_grams"])
    rates = {
        service: {zone: tuple(str(p) for p in prices) for zone, prices in zones.items()}
        for service, zones in config["rates"].items()
    }
    for service, zones in rates.items():
        for zone, prices in zones.items():
            if len(prices) != len(bands):
                raise ValueError(f"{config['name']} {service}/{zone}: one price per weight band")
    return RateTableCarrier(
        name=config["name"],
        tracking_prefix=config["tracking_prefix"],
        currency=config["currency"],
        bands_grams=bands,
        rates=rates,
        zones={
            zone: tuple(_codes(countries)) for zone, countries in config.get("zones", {}).items()
        },
        tracking_numbers_are_real=bool(config.get("tracking_numbers_are_real", False)),
    )


def _codes(countries: str | list[str]) -> list[str]:
    """Country codes given as a list or as one space-separated string."""
    return countries.split() if isinstance(countries, str) else list(countries)
