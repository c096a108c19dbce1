"""Realistic sample data for demos, benchmarks and end-to-end tests (deterministic per seed)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

CATALOG: tuple[tuple[str, str, str], ...] = (
    ("TEE-ORG-BLK-M", "Organic tee, black, M", "24.90"),
    ("TEE-ORG-WHT-L", "Organic tee, white, L", "24.90"),
    ("HOOD-ZIP-NAV-M", "Zip hoodie, navy, M", "59.00"),
    ("MUG-ENM-350-WHT", "Enamel mug 350 ml, white", "14.50"),
    ("CAP-WOOL-GRY", "Wool cap, grey", "19.95"),
    ("SOCK-3PK-MIX", "Socks, 3-pack, mixed", "12.00"),
    ("BAG-TOTE-NAT", "Canvas tote, natural", "16.80"),
    ("BOTL-STL-750", "Steel bottle 750 ml", "27.40"),
)
LOCATIONS: tuple[dict[str, Any], ...] = (
    {"location_id": "WH-BER", "name": "Berlin warehouse", "country": "DE", "priority": 1},
    {"location_id": "WH-AMS", "name": "Amsterdam 3PL", "country": "NL", "priority": 2},
)
CUSTOMERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Anna Schmidt", "Torstrasse 101", "Berlin", "10119", "DE"),
    ("Jan de Vries", "Prinsengracht 263", "Amsterdam", "1016 GV", "NL"),
    ("Lea Müller", "Sendlinger Str. 7", "München", "80331", "DE"),
    ("Sophie Martin", "12 Rue Oberkampf", "Paris", "75011", "FR"),
    ("Tom Jansen", "Oudegracht 88", "Utrecht", "3511 AS", "NL"),
    ("Mia Weber", "Schanzenstrasse 5", "Hamburg", "20357", "DE"),
)
CHANNELS = ("web", "shopify", "woocommerce", "phone")


@dataclass(frozen=True)
class SampleOrders:
    """A seeded generator of canonical orders."""

    seed: int = 7
    prefix: str = "demo"

    def orders(self, count: int) -> list[dict[str, Any]]:
        """`count` canonical orders, each with 1-3 distinct SKUs."""
        rng = random.Random(self.seed)
        return [self._order(rng, n) for n in range(count)]

    def _order(self, rng: random.Random, n: int) -> dict[str, Any]:
        name, street, city, postal_code, country = rng.choice(CUSTOMERS)
        items = rng.sample(CATALOG, k=rng.randint(1, 3))
        return {
            "channel": rng.choice(CHANNELS),
            "external_id": f"{self.prefix}-{self.seed}-{n:06d}",
            "customer": {"name": name, "email": f"{name.split()[0].lower()}{n}@example.com"},
            "shipping_address": {
                "name": name,
                "line1": street,
                "city": city,
                "postal_code": postal_code,
                "country": country,
            },
            "lines": [
                {"sku": sku, "quantity": rng.randint(1, 2), "unit_price": price}
                for sku, _, price in items
            ],
            "currency": "EUR",
        }


def units_needed(orders: list[dict[str, Any]]) -> dict[str, int]:
    """Total units per SKU that the orders ask for."""
    needed: dict[str, int] = {}
    for order in orders:
        for line in order["lines"]:
            needed[line["sku"]] = needed.get(line["sku"], 0) + line["quantity"]
    return needed
