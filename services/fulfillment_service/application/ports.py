"""What the application needs from carriers: small protocols, implemented in `carriers/`.

The application never imports a carrier; bootstrap hands it one (docs/architecture.md,
The rooms of a service).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from services.fulfillment_service.domain import (
    Address,
    CashOnDelivery,
    Package,
    RateQuote,
    TrackingAssignment,
)

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

    def label_carrier(self, name: str) -> LabelCarrier | None:
        """The carrier of this name if we buy its labels through its API, else None."""
        ...

    def tracking_shared(self, name: str) -> bool:
        """Whether this carrier's tracking numbers may be told to channels and customers."""
        ...

    def webhook(self, name: str) -> TrackingWebhook | None:
        """The configured carrier of this name that pushes tracking, or None."""
        ...


TrackingStatus = Literal["in_transit", "out_for_delivery", "delivered", "exception"]


@dataclass(frozen=True)
class LabelRequest:
    """What a carrier needs to sell us labels for a packed shipment (one parcel per package)."""

    shipment_id: UUID
    order_number: str | None
    packages: list[Package]
    ship_from: Address
    ship_to: Address
    service: str | None  # a service level of the rate-shopping rule, or the carrier's own
    # What the carrier collects from the buyer on delivery (None: the order was paid before).
    cash_on_delivery: CashOnDelivery | None = None


@dataclass(frozen=True)
class BoughtLabel:
    """A package's label exactly as the carrier sent it."""

    package_id: str
    media_type: str  # application/pdf or application/zpl
    content: bytes


@dataclass(frozen=True)
class Purchase:
    """Labels bought for a shipment: the service, a tracking number per package, the labels."""

    carrier: str
    service: str
    carrier_ref: str  # the carrier's id of what we bought (EasyPost shp_..., Ninja Van tid)
    assignments: list[TrackingAssignment]
    labels: list[BoughtLabel]
    tracking_url: str | None
    choice: str  # why this rate (the rate-shopping rule, and the rates it chose among)


class LabelCarrier(Protocol):
    """A carrier whose labels we buy through its API; buying again for a shipment buys nothing."""

    @property
    def name(self) -> str:
        """The carrier's name as configured and published."""
        ...

    def buy(self, request: LabelRequest) -> Purchase:
        """Labels for the shipment's packages; CarrierError if the carrier refuses."""
        ...


@dataclass(frozen=True)
class TrackingUpdate:
    """One tracking event a carrier pushed, as we publish it."""

    tracking_number: str
    status: TrackingStatus
    happened_at: datetime
    description: str
    tracking_url: str | None = None


class TrackingWebhook(Protocol):
    """A carrier's signed tracking pushes: checked, then read as tracking updates."""

    @property
    def name(self) -> str:
        """The carrier's name as configured and published."""
        ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether the carrier signed this raw body (headers lower-cased)."""
        ...

    def updates(self, body: bytes) -> list[TrackingUpdate]:
        """The tracking events in the body; ValueError/KeyError if it is not the carrier's."""
        ...
