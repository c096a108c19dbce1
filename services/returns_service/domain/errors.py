"""Errors of the returns domain; the api room maps each to an HTTP problem."""

from __future__ import annotations


class ReturnError(Exception):
    """Base of returns domain errors."""


class OrderNotReturnableError(ReturnError):
    """The order is unknown here or has not shipped in full, so nothing can be returned yet."""


class ReturnNotFoundError(ReturnError):
    """No return has this id."""


class IdempotencyKeyReusedError(ReturnError):
    """An idempotency key came back with a different request than the one it first named."""


class ReturnLineError(ReturnError):
    """A line asks for more units of a SKU than are available."""

    limit_name = "available"

    def __init__(self, sku: str, available: int, message: str) -> None:
        super().__init__(message)
        self.sku = sku
        self.available = available

    def details(self) -> dict[str, str | int]:
        """The SKU and how many units it allows, for the problem document."""
        return {"sku": self.sku, self.limit_name: self.available}


class SkuNotShippedError(ReturnLineError):
    """The SKU never shipped with this order."""

    limit_name = "returnable"


class ReturnQuantityError(ReturnLineError):
    """More units than shipped minus those already on returns."""

    limit_name = "returnable"


class ReceiveQuantityError(ReturnLineError):
    """More units than the return requested and has not received yet."""

    limit_name = "receivable"
