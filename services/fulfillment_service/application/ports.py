"""What the application needs from carriers: small protocols, implemented in `carriers/`.

The application never imports a carrier; bootstrap hands it one (docs/architecture.md,
The rooms of a service).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from services.fulfillment_service.domain import Address, Package, RateQuote, TrackingAssignment

IssueSerials = Callable[[int], list[int]]
"""Hands out the next n serial numbers of the carrier's counter."""


class Carrier(Protocol):
    """Assigns a service and a tracking number to each package of a shipment."""

    @property
    def name(self) -> str:
        """The carrier's name as printed and published."""
        ...

    @property
    def issues_tracking_numbers(self) -> bool:
        """Whether the carrier issues tracking numbers itself (else the operator types them)."""
        ...

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
        """(service, one assignment per package, in order); CarrierError if it refuses."""
        ...


class Carriers(Protocol):
    """Every carrier the merchant ships with, by name."""

    def get(self, name: str) -> Carrier:
        """The carrier of this name."""
        ...

    def quotes(
        self, packages: list[Package], ship_from: Address, ship_to: Address
    ) -> list[RateQuote]:
        """What every carrier that can take these packages charges, per service."""
        ...
