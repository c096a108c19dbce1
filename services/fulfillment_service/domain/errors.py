"""Errors of the fulfillment domain; the API maps each to a status (api.ERROR_STATUSES)."""

from __future__ import annotations


class ShipmentError(Exception):
    """Base of fulfillment domain errors."""


class ShipmentNotFoundError(ShipmentError):
    """No shipment has this id."""


class ShipmentNotShippableError(ShipmentError):
    """The shipment cannot leave in its current status (e.g. it was cancelled)."""


class ShipmentAlreadyShippedError(ShipmentError):
    """The shipment already left, with another carrier or tracking number."""


class ShipmentCancelledError(ShipmentError):
    """The shipment was cancelled: nothing goes in a box for it, so it has no packing slip."""


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


class CarrierUnavailableError(CarrierError):
    """The carrier did not answer (timeouts, 5xx) after retries: nothing was bought; try again."""


class CashOnDeliveryError(ShipmentError):
    """The order is paid on delivery and this carrier cannot collect the money."""
