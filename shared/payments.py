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

# The buyer's money was taken (in full or in part, some of it maybe refunded since): an order in
# one of these states that is cancelled before shipping must be refunded. An authorisation is
# voided by the cancel and cash on delivery was never collected, so neither is refunded.
MONEY_TAKEN: frozenset[PaymentState] = frozenset(
    {PaymentState.PAID, PaymentState.PARTIALLY_PAID, PaymentState.PARTIALLY_REFUNDED}
)


def money_taken(state: PaymentState | str | None) -> bool:
    """Whether an order in this payment state has the buyer's money (absent: paid, see ASSUMED)."""
    return PaymentState(state or ASSUMED) in MONEY_TAKEN


# How far along a payment is. News from a channel that would move an order back (paid, then a
# late-delivered "pending") is older than what we know and is not recorded; a merchant recording
# a payment by hand may set any state.
PROGRESS: dict[PaymentState, int] = {
    PaymentState.PENDING: 0,
    PaymentState.AUTHORIZED: 1,
    PaymentState.PARTIALLY_PAID: 1,
    PaymentState.CASH_ON_DELIVERY: 1,
    PaymentState.PAID: 2,
    PaymentState.PARTIALLY_REFUNDED: 3,
    PaymentState.REFUNDED: 4,
    PaymentState.VOIDED: 4,
}


def moves_on(current: PaymentState | str | None, news: PaymentState | str) -> bool:
    """Whether a channel's news moves the payment on from `current` (not back, not the same)."""
    before, after = PaymentState(current or ASSUMED), PaymentState(news)
    return after != before and PROGRESS[after] >= PROGRESS[before]
