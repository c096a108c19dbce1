"""Payment states of an order: the same words in every service and channel.

README, "The money of an order", says what each means and what may ship.

Plain Python, below every service's domain: the order's aggregate, the gateway's translators and
the contracts all name a payment state with these values.
"""

from __future__ import annotations

from enum import StrEnum


class PaymentState(StrEnum):
    """How far the buyer has paid for an order; stored and shown as the lower-case value."""

    PENDING = "pending"  # nothing paid yet (bank transfer awaited, Shopee UNPAID, Amazon Pending)
    AUTHORIZED = "authorized"  # the card is authorised, to be captured on shipping
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    PARTIALLY_REFUNDED = "partially_refunded"  # paid, then some of it went back
    REFUNDED = "refunded"
    VOIDED = "voided"  # the authorisation was voided: no money will come
    CASH_ON_DELIVERY = "cash_on_delivery"  # the carrier collects on delivery


# What may go to the warehouse unless a channel's policy says otherwise. A partially refunded
# order was paid: what was refunded before shipping is a change to the order, not a hold.
SHIPPABLE_BY_DEFAULT: frozenset[PaymentState] = frozenset(
    {
        PaymentState.PAID,
        PaymentState.AUTHORIZED,
        PaymentState.CASH_ON_DELIVERY,
        PaymentState.PARTIALLY_REFUNDED,
    }
)

# An order placed without a payment state was paid: the API and channels before payment states
# only ever took in orders that were to ship.
ASSUMED = PaymentState.PAID
