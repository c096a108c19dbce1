"""Errors of the returns domain; the api room maps each to an HTTP problem."""

from __future__ import annotations


class ReturnError(Exception):
    """Base of returns domain errors."""


class OrderNotReturnableError(ReturnError):
    """The order is unknown here or has not shipped in full, so nothing can be returned yet."""


class OrderNotRefundableError(ReturnError):
    """The order is unknown here or has not shipped yet, so nothing can be refunded here yet."""


class RefundAmountError(ReturnError):
    """An amount the order cannot take as a refund; says how much can still be refunded."""

    def __init__(self, message: str, refundable: str, currency: str) -> None:
        super().__init__(message)
        self.refundable = refundable
        self.currency = currency

    def details(self) -> dict[str, str]:
        """How much can still be refunded, for the problem document."""
        return {"refundable": self.refundable, "currency": self.currency}


class OverRefundError(RefundAmountError):
    """More than is left of what was paid (for the order, or for the units named)."""


class AmountPlacesError(RefundAmountError):
    """An amount with more decimal places than the order's currency has."""


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


class RefundQuantityError(ReturnLineError):
    """Units of a SKU a refund without a return cannot take: not on the order, or more than
    shipped (short, for a short pick) and not yet refunded or on a return."""

    limit_name = "refundable"


class ReceiveQuantityError(ReturnLineError):
    """More units than the return requested and has not received yet."""

    limit_name = "receivable"
