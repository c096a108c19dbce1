"""Statuses, ids and errors shared by the fulfillment aggregates."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

OPEN = "open"
PICKING = "picking"
PICKED = "picked"
SHORT = "short"
PACKED = "packed"
SHIPPED = "shipped"
CANCELLED = "cancelled"

# The shipment lifecycle as an explicit state machine: status -> statuses it may move to.
# SHORT: picking found nothing at all for the shipment; it waits for the order to be resolved
# (cancelled or re-planned by the order side) and can neither be packed nor shipped.
TRANSITIONS: dict[str, frozenset[str]] = {
    OPEN: frozenset({PICKING, SHIPPED, CANCELLED}),
    PICKING: frozenset({OPEN, PICKED, SHORT, CANCELLED}),
    PICKED: frozenset({PACKED, SHIPPED, CANCELLED}),
    SHORT: frozenset({CANCELLED}),
    PACKED: frozenset({PICKED, SHIPPED, CANCELLED}),
    SHIPPED: frozenset(),
    CANCELLED: frozenset(),
}
STATUSES = tuple(TRANSITIONS)

# Pick list lifecycle: open until every line is confirmed (completed) or it is cancelled.
COMPLETED = "completed"
PICK_LIST_STATUSES = (OPEN, COMPLETED, CANCELLED)

SHIPMENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/shipments")
ORDER_SHIPMENTS_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/order-shipments")
PICK_LIST_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/pick-lists")
PACKAGE_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/packages")
BIN_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/bins")
SERIAL_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/serials")


class ShipmentError(Exception):
    """Base of fulfillment domain errors."""


class ShipmentNotFoundError(ShipmentError):
    """No shipment has this id."""


class ShipmentNotShippableError(ShipmentError):
    """The shipment cannot leave in its current status (e.g. it was cancelled)."""


class ShipmentAlreadyShippedError(ShipmentError):
    """The shipment already left, with another carrier or tracking number."""


class PickListNotFoundError(ShipmentError):
    """No pick list has this id."""


class NothingToPickError(ShipmentError):
    """No open shipment at the location is free to go on a new pick list."""


class PickListClosedError(ShipmentError):
    """The pick list was completed or cancelled; it takes no more confirmations."""


class PickLineAlreadyConfirmedError(ShipmentError):
    """A line was confirmed before with another picked quantity."""


class PickConfirmationError(ShipmentError):
    """A confirmation names a SKU that is not on the list or picks more than requested."""


class ShipmentNotPackableError(ShipmentError):
    """Only picked shipments are packed (open ones are not picked yet, packed ones are full)."""


class PackingMismatchError(ShipmentError):
    """A package holds something that was not picked for the shipment, or more of it."""


class PackageNotFoundError(ShipmentError):
    """No package has this id."""


class PackageConflictError(ShipmentError):
    """The package id (from an Idempotency-Key) was used before with other contents."""


class LabelNotReadyError(ShipmentError):
    """No label yet: the package's shipment is not packed and shipped with a carrier."""


class CarrierError(ShipmentError):
    """The carrier refused the request (unknown service, too heavy, tracking numbers wrong)."""


def shipment_id_for(order_id: UUID, location_id: str) -> UUID:
    """The shipment id of an order's part leaving one location, so creation is idempotent."""
    return uuid5(SHIPMENT_NAMESPACE, f"{order_id}:{location_id}")


def order_shipments_id_for(order_id: UUID) -> UUID:
    """The id of the index of one order's shipments."""
    return uuid5(ORDER_SHIPMENTS_NAMESPACE, str(order_id))


def pick_list_id_for(location_id: str, request_key: str) -> UUID:
    """A pick list id derived from the client's Idempotency-Key, so a retry creates one list."""
    return uuid5(PICK_LIST_NAMESPACE, f"{location_id}:{request_key}")


def package_id_for(shipment_id: UUID, request_key: str) -> UUID:
    """A package id derived from the client's Idempotency-Key, so a retry packs one box."""
    return uuid5(PACKAGE_NAMESPACE, f"{shipment_id}:{request_key}")


def bin_id_for(location_id: str, sku: str) -> UUID:
    """The id of a SKU's bin assignment at a location."""
    return uuid5(BIN_NAMESPACE, f"{location_id}:{sku}")


def serial_counter_id_for(purpose: str) -> UUID:
    """The id of the counter issuing serial numbers for one purpose (SSCC, a carrier)."""
    return uuid5(SERIAL_NAMESPACE, purpose)
