"""The Bill aggregate: an order a seller writes up beside a chat and sends as a link.

A bill moves unpaid -> paid -> shipped (or expires unpaid). The customer confirms it from its link
(name, phone, address, how to pay); from then on it has a canonical order at the gateway, whose
payment and shipments it follows. Amounts are decimal strings in the currency's minor units.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.channel_gateway.domain.values import Address

BILL_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/bills")
# The channel of every bill's order: the merchant's own channel, told through the chat.
BILL_CHANNEL = "chat"
# How long a shipped or cancelled bill's link still opens after its last change: long enough to
# follow the parcel to the door, not for ever.
LINK_KEPT = timedelta(days=30)


class BillStatus(StrEnum):
    """Where a bill stands, as the seller filters them."""

    UNPAID = "unpaid"
    PAID = "paid"
    SHIPPED = "shipped"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # a paid bill's order cancelled before it shipped (refund due)


class ChatKind(StrEnum):
    """The chat the bill was made beside."""

    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    LINE = "line"
    OTHER = "other"


class PaymentMethod(StrEnum):
    """How the customer chose to pay."""

    TRANSFER = "transfer"  # bank transfer, with a slip the merchant confirms
    PROMPTPAY = "promptpay"  # PromptPay QR, confirmed like a transfer
    CARD = "card"  # the payment provider's hosted checkout, confirmed by its webhook
    COD = "cod"  # cash on delivery: the carrier collects


# The order's payment state when the customer confirms, by method.
PAYMENT_STATE_ON_CONFIRM = {
    PaymentMethod.TRANSFER: "pending",
    PaymentMethod.PROMPTPAY: "pending",
    PaymentMethod.CARD: "pending",
    PaymentMethod.COD: "cash_on_delivery",
}


class BillLine(TypedDict):
    """One line of a bill: SKU, units, unit price (decimal string) and an optional title."""

    sku: str
    quantity: int
    unit_price: str
    title: str | None


class Confirmation(TypedDict):
    """What the customer confirmed on the bill's page."""

    name: str
    phone: str
    email: str | None
    address: Address
    payment_method: str
    confirmed_at: str


class Slip(TypedDict):
    """A payment slip uploaded by the customer (the file itself is kept outside the log)."""

    sha256: str
    content_type: str
    size: int
    uploaded_at: str


class BillShipment(TypedDict):
    """A shipment of the bill's order, with what the customer needs to follow it (`shared`
    false: the number is the merchant's own, not a carrier's, and is not shown to the customer)."""

    shipment_id: str
    carrier: str
    tracking_number: str
    tracking_url: str | None
    shared: bool
    shipped_at: str


class BillError(Exception):
    """Base of bill errors."""


class BillNotFoundError(BillError):
    """No bill has this id (or the link's token is wrong or expired)."""


class BillClosedError(BillError):
    """The bill is not in a state that allows this (confirmed already, paid, expired...)."""


class InvalidBillError(BillError):
    """A bill that breaks a rule (no lines, a discount above the items...)."""


class IdempotencyKeyReusedError(BillError):
    """An Idempotency-Key sent again with another bill."""


class PaymentMismatchError(BillError):
    """A payment that is not the bill's total in the bill's currency."""


def token_hash(token: str) -> str:
    """The stored form of a bill link's token: SHA-256, hex (the token has 256 random bits, so a
    slow hash adds nothing; only the hash is kept, the link cannot be rebuilt from the store)."""
    return hashlib.sha256(token.encode()).hexdigest()


def bill_id_for(token_digest: str) -> UUID:
    """The bill's id, derived from its token's hash: the link finds its bill without a lookup."""
    return uuid5(BILL_NAMESPACE, token_digest)


def bill_number(bill_id: UUID) -> str:
    """The short number the customer and seller say in the chat (B-7F3A9C21)."""
    return "B-" + bill_id.hex[:8].upper()


class Bill(Aggregate):
    """An order bill sent as a link; it follows its order once the customer confirms."""

    class Created(Aggregate.Created):
        """A seller made the bill (the link's token is kept only as its hash)."""

        token_hash: str
        chat: str
        handle: str
        customer_name: str
        lines: list[BillLine]
        shipping_fee: str
        discount: str
        note: str | None
        currency: str
        expires_at: str
        created_by: str

    class Confirmed(Aggregate.Event):
        """The customer confirmed name, phone, address and how to pay; the order was placed."""

        confirmation: Confirmation
        order_id: UUID

    class CheckoutStarted(Aggregate.Event):
        """A hosted card checkout was opened at the payment provider."""

        session_id: str

    class SlipUploaded(Aggregate.Event):
        """The customer uploaded a payment slip for the merchant to check."""

        slip: Slip

    class Paid(Aggregate.Event):
        """The bill was paid (the card provider said so, or the merchant confirmed a transfer)."""

        method: str
        reference: str
        amount: str
        paid_by: str

    class Shipped(Aggregate.Event):
        """A shipment of the bill's order left, with its tracking number."""

        shipment: BillShipment

    class Expired(Aggregate.Event):
        """The bill was not paid in time (or its unpaid order was cancelled)."""

        reason: str

    class Cancelled(Aggregate.Event):
        """The bill's paid order was cancelled before it shipped."""

        reason: str

    @event(Created)
    def __init__(
        self,
        token_hash: str,
        chat: str,
        handle: str,
        customer_name: str,
        lines: list[BillLine],
        shipping_fee: str,
        discount: str,
        note: str | None,
        currency: str,
        expires_at: str,
        created_by: str,
    ) -> None:
        self.token_hash = token_hash
        self.chat = chat
        self.handle = handle
        self.customer_name = customer_name
        self.lines = lines
        self.shipping_fee = shipping_fee
        self.discount = discount
        self.note = note
        self.currency = currency
        self.expires_at = expires_at
        self.created_by = created_by
        self.status = BillStatus.UNPAID
        self.confirmation: Confirmation | None = None
        self.order_id: UUID | None = None
        self.checkout_session: str | None = None
        self.slip: Slip | None = None
        self.payment: dict[str, str] | None = None
        self.shipments: list[BillShipment] = []
        self.closed_reason: str | None = None

    @staticmethod
    def create_id(token_hash: str, **_: Any) -> UUID:
        return bill_id_for(token_hash)

    @classmethod
    def make(
        cls,
        token_digest: str,
        *,
        chat: str,
        handle: str,
        customer_name: str,
        lines: list[BillLine],
        shipping_fee: Decimal,
        discount: Decimal,
        note: str | None,
        currency: str,
        expires_at: str,
        created_by: str,
    ) -> Bill:
        """A new bill; the discount may not pass the items, nor anything be negative."""
        if not lines:
            raise InvalidBillError("a bill needs at least one line")
        items = sum((Decimal(li["unit_price"]) * li["quantity"] for li in lines), Decimal(0))
        if shipping_fee < 0 or discount < 0:
            raise InvalidBillError("shipping fee and discount may not be negative")
        if discount > items:
            raise InvalidBillError(f"the discount {discount} is more than the items ({items})")
        return cls(
            token_hash=token_digest,
            chat=chat,
            handle=handle,
            customer_name=customer_name,
            lines=lines,
            shipping_fee=format(shipping_fee, "f"),
            discount=format(discount, "f"),
            note=note,
            currency=currency,
            expires_at=expires_at,
            created_by=created_by,
        )

    @property
    def number(self) -> str:
        """The bill's short number."""
        return bill_number(self.id)

    @property
    def items_total(self) -> Decimal:
        """Quantity x unit price of every line."""
        return sum(
            (Decimal(line["unit_price"]) * line["quantity"] for line in self.lines), Decimal(0)
        )

    @property
    def total(self) -> Decimal:
        """What the customer pays: items - discount + shipping."""
        return self.items_total - Decimal(self.discount) + Decimal(self.shipping_fee)

    @property
    def payment_method(self) -> str | None:
        """How the customer chose to pay, once confirmed."""
        return self.confirmation["payment_method"] if self.confirmation else None

    def open_at(self, now: str) -> bool:
        """Whether the link still opens: expired bills and unpaid ones past their time do not,
        nor a shipped or cancelled one LINK_KEPT after its last change (the link sits in a chat
        history, and the page shows the customer's name, phone and address)."""
        if self.status == BillStatus.EXPIRED:
            return False
        if self.status in (BillStatus.SHIPPED, BillStatus.CANCELLED):
            return _instant(now) < self.modified_on + LINK_KEPT
        return not (self.status == BillStatus.UNPAID and self.due(now))

    def due(self, now: str) -> bool:
        """An unpaid bill past its time expires, unless it is to be paid on delivery."""
        if self.status != BillStatus.UNPAID or self.payment_method == PaymentMethod.COD:
            return False
        return _instant(now) >= _instant(self.expires_at)

    def confirm(self, confirmation: Confirmation, order_id: UUID) -> None:
        """The customer confirmed the bill; a bill is confirmed once."""
        if self.confirmation is not None:
            raise BillClosedError(f"bill {self.number} was confirmed already")
        if not self.open_at(confirmation["confirmed_at"]):
            raise BillNotFoundError(f"bill {self.number} expired")
        self._confirmed(confirmation=confirmation, order_id=order_id)

    @event(Confirmed)
    def _confirmed(self, confirmation: Confirmation, order_id: UUID) -> None:
        self.confirmation = confirmation
        self.order_id = order_id

    def awaiting(self, method: PaymentMethod) -> None:
        """Refuse unless the bill is confirmed, unpaid and to be paid this way."""
        if self.status != BillStatus.UNPAID or self.payment_method != method:
            raise BillClosedError(
                f"bill {self.number} is {self.status} and paid by {self.payment_method}:"
                f" nothing to do by {method}"
            )

    def start_checkout(self, session_id: str) -> None:
        """A card checkout was opened for the bill (each click may open a new one)."""
        self.awaiting(PaymentMethod.CARD)
        self._checkout_started(session_id=session_id)

    @event(CheckoutStarted)
    def _checkout_started(self, session_id: str) -> None:
        self.checkout_session = session_id

    def upload_slip(self, slip: Slip) -> None:
        """A slip for a bank transfer or PromptPay payment; a new one replaces the last."""
        if self.payment_method not in (PaymentMethod.TRANSFER, PaymentMethod.PROMPTPAY):
            raise BillClosedError(f"bill {self.number} is not paid by transfer or PromptPay")
        if self.status != BillStatus.UNPAID:
            raise BillClosedError(f"bill {self.number} is {self.status}")
        self._slip_uploaded(slip=slip)

    @event(SlipUploaded)
    def _slip_uploaded(self, slip: Slip) -> None:
        self.slip = slip

    def pay(self, method: str, reference: str, amount: Decimal, paid_by: str) -> bool:
        """The bill's total was paid; the same payment again is not news (False)."""
        if self.payment is not None:
            if self.payment["reference"] == reference:
                return False
            raise BillClosedError(f"bill {self.number} was paid already")
        if self.confirmation is None:
            raise BillClosedError(f"bill {self.number} was not confirmed by the customer")
        if self.status != BillStatus.UNPAID:
            raise BillClosedError(f"bill {self.number} is {self.status}")
        if amount != self.total:
            raise PaymentMismatchError(
                f"{amount} {self.currency} paid, the bill comes to {self.total} {self.currency}"
            )
        self._paid(method=method, reference=reference, amount=format(amount, "f"), paid_by=paid_by)
        return True

    @event(Paid)
    def _paid(self, method: str, reference: str, amount: str, paid_by: str) -> None:
        self.payment = {"method": method, "reference": reference, "amount": amount}
        self.status = BillStatus.PAID

    def ship(self, shipment: BillShipment) -> bool:
        """A shipment left; the same shipment again is not news."""
        if any(s["shipment_id"] == shipment["shipment_id"] for s in self.shipments):
            return False
        self._shipped(shipment=shipment)
        return True

    @event(Shipped)
    def _shipped(self, shipment: BillShipment) -> None:
        self.shipments.append(shipment)
        self.status = BillStatus.SHIPPED

    def expire(self, reason: str) -> bool:
        """The unpaid bill closes; one paid, shipped or closed already does not."""
        if self.status != BillStatus.UNPAID:
            return False
        self._expired(reason=reason)
        return True

    @event(Expired)
    def _expired(self, reason: str) -> None:
        self.status = BillStatus.EXPIRED
        self.closed_reason = reason

    def order_cancelled(self, reason: str) -> bool:
        """Its order was cancelled before shipping: an unpaid bill expires, a paid one is
        cancelled (its refund is due); one shipped or closed already changes nothing."""
        if self.status == BillStatus.UNPAID:
            return self.expire(f"order cancelled: {reason}")
        if self.status != BillStatus.PAID:
            return False
        self._cancelled(reason=reason)
        return True

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.status = BillStatus.CANCELLED
        self.closed_reason = reason


def _instant(stamp: str) -> datetime:
    """An RFC 3339 stamp as a moment (stamps of different precision do not compare as text)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
