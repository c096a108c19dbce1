"""Fulfillment HTTP API: shipments, pick lists, packages, labels and bins, one router each."""

from __future__ import annotations

from fastapi import APIRouter

from services.fulfillment_service import domain
from services.fulfillment_service.api import bins, carriers, packages, pick_lists, shipments
from shared.runtime.access import AccessPolicy, Grant, Rule

ERROR_STATUSES: dict[type[Exception], tuple[int, str]] = {
    domain.ShipmentNotFoundError: (404, "Shipment not found"),
    domain.PickListNotFoundError: (404, "Pick list not found"),
    domain.PackageNotFoundError: (404, "Package not found"),
    domain.ShipmentNotShippableError: (409, "Shipment not shippable"),
    domain.ShipmentAlreadyShippedError: (409, "Shipment already shipped"),
    domain.ShipmentCancelledError: (409, "Shipment cancelled"),
    domain.NothingToPickError: (409, "Nothing to pick"),
    domain.PickListClosedError: (409, "Pick list closed"),
    domain.PickLineAlreadyConfirmedError: (409, "Pick line already confirmed"),
    domain.PickConfirmationError: (422, "Pick refused"),
    domain.ShipmentNotPackableError: (409, "Shipment not packable"),
    domain.PackingMismatchError: (422, "Packing does not match picking"),
    domain.ScanMismatchError: (422, "Scanned item does not match"),
    domain.PackageConflictError: (409, "Package conflict"),
    domain.LabelNotReadyError: (409, "Label not ready"),
    domain.CarrierError: (422, "Carrier refused"),
    domain.CashOnDeliveryError: (409, "Cash on delivery not collected"),
    domain.CarrierUnavailableError: (503, "Carrier unavailable"),
}

ROUTERS: list[APIRouter] = [
    shipments.router,
    pick_lists.router,
    packages.router,
    bins.router,
    carriers.router,
]

ACCESS = AccessPolicy(
    {
        "/shipments": Rule(writes=Grant.WAREHOUSE),
        "/pick-lists": Rule(writes=Grant.WAREHOUSE),
        "/packages": Rule(writes=Grant.WAREHOUSE),
        "/locations": Rule(writes=Grant.WAREHOUSE),
        # Carriers push tracking here, signed with the webhook secret (checked by the route).
        "/carriers": Rule(writes=Grant.PUBLIC),
    }
)
"""Who may call what: the warehouse picks, packs and ships, every role reads; carriers push
their (signed) tracking."""

__all__ = ["ACCESS", "ERROR_STATUSES", "ROUTERS"]
