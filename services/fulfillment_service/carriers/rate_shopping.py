"""Rate shopping by rule: the cheapest rate within a service level, or the fastest."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from services.fulfillment_service.domain import CarrierError

Rule = Literal["cheapest", "fastest"]


@dataclass(frozen=True)
class Rate:
    """One rate an aggregator offers: the carrier and service, its price, its days in transit."""

    rate_id: str
    carrier: str
    service: str
    amount: Decimal
    currency: str
    delivery_days: int | None

    @property
    def key(self) -> str:
        """How service levels name it: CARRIER:Service."""
        return f"{self.carrier}:{self.service}"

    def describe(self) -> str:
        """For the shipment's record: "USPS Priority 7.58 USD, 2 days"."""
        days = f"{self.delivery_days} days" if self.delivery_days is not None else "days unknown"
        return f"{self.carrier} {self.service} {self.amount} {self.currency}, {days}"


@dataclass(frozen=True)
class RateRule:
    """How to choose among rates: the rule, and which CARRIER:Service rates make each level.

    A level's entry may be `CARRIER:*` (every service of that carrier).
    """

    rule: Rule = "cheapest"
    service_levels: Mapping[str, Sequence[str]] = field(default_factory=dict)
    default_level: str | None = None

    def choose(self, rates: Sequence[Rate], asked: str | None) -> tuple[Rate, str]:
        """The rate to buy and why; `asked` is a service level, or one CARRIER:Service."""
        if not rates:
            raise CarrierError("the carrier offered no rates for these parcels")
        level = asked or self.default_level
        if asked and asked not in self.service_levels:
            exact = [r for r in rates if r.key.lower() == asked.lower()]
            if not exact:
                offered = ", ".join(sorted({r.key for r in rates}))
                raise CarrierError(f"no rate {asked!r}: the carrier offered {offered}")
            return exact[0], f"service {asked} as asked: {exact[0].describe()}"
        candidates = list(rates)
        scope = "of all rates"
        if level is not None and level in self.service_levels:
            members = self.service_levels[level]
            candidates = [r for r in rates if _in_level(r, members)]
            scope = f"in service level {level!r}"
            if not candidates:
                offered = ", ".join(sorted({r.key for r in rates}))
                raise CarrierError(f"no rate in service level {level!r}: offered {offered}")
        currencies = {r.currency for r in candidates}
        if len(currencies) > 1:
            raise CarrierError(f"rates in several currencies cannot be compared: {currencies}")
        chosen = min(candidates, key=self._order)
        others = "; ".join(r.describe() for r in sorted(candidates, key=self._order))
        return chosen, f"{self.rule} {scope}: {chosen.describe()} (of {others})"

    def _order(self, rate: Rate) -> tuple[Decimal | int, Decimal | int, str]:
        # Unknown days sort last for "fastest"; ties go to the cheaper, then by name (stable).
        days = rate.delivery_days if rate.delivery_days is not None else 10_000
        if self.rule == "fastest":
            return days, rate.amount, rate.key
        return rate.amount, days, rate.key


def _in_level(rate: Rate, members: Sequence[str]) -> bool:
    for member in members:
        carrier, _, service = member.partition(":")
        if carrier.lower() == rate.carrier.lower() and service in ("*", rate.service):
            return True
    return False
