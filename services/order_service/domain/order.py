"""The Order aggregate: lines, ship-to, status and what happened to it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Any, NotRequired, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared import money
from shared.payments import ASSUMED, SHIPPABLE_BY_DEFAULT, PaymentState

ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/orders")


class OrderStatus(StrEnum):
    """Where an order is in its life; stored, filtered and shown as the lower-case value."""

    PLACED = "placed"
    AWAITING_PAYMENT = "awaiting_payment"  # stock reserved, held until the payment allows shipping
    CONFIRMED = "confirmed"
    BACKORDERED = "backordered"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"
    CANCELLED = "cancelled"


CANCELLABLE = frozenset(
    {
        OrderStatus.PLACED,
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.CONFIRMED,
        OrderStatus.BACKORDERED,
    }
)
DONE_SHIPPING = frozenset(
    {OrderStatus.SHIPPED, OrderStatus.PARTIALLY_RETURNED, OrderStatus.RETURNED}
)
AWAITING_STOCK = frozenset({OrderStatus.PLACED, OrderStatus.BACKORDERED})
NOT_YET_SHIPPING = AWAITING_STOCK | {OrderStatus.AWAITING_PAYMENT}
# Nothing of the order has left yet: the ship-to may still change (unless picking started).
SHIP_TO_EDITABLE = NOT_YET_SHIPPING | {OrderStatus.CONFIRMED}
CHANGED_AT_CHANNEL = "changed at the channel"  # the reason of a ship-to the channel changed


class ShortPickPolicy(StrEnum):
    """What becomes of units a picker did not find: the order ships without them (and the
    returns service refunds them by its own policy), or they are asked for again, once, from
    wherever they are available (if nowhere: shipped without them after all)."""

    SHIP_SHORT = "ship_short"
    SOURCE_AGAIN = "source_again"


@dataclass(frozen=True)
class PaymentPolicy:
    """What a channel's orders may go to the warehouse with, and how long an unpaid one waits."""

    ship: frozenset[PaymentState] = SHIPPABLE_BY_DEFAULT
    cancel_unpaid_after: timedelta | None = timedelta(hours=72)  # None: never by itself

    def allows(self, state: PaymentState | str | None) -> bool:
        """Whether an order in this payment state may be picked and shipped."""
        return PaymentState(state or ASSUMED) in self.ship


class CancelRequestPolicy(StrEnum):
    """How a channel's buyer cancellation requests (Shopee IN_CANCEL) are answered."""

    AUTO = "auto"  # accepted while nothing is under way, refused once picking started or shipped
    OPS = "ops"  # held as an exception until ops accept or refuse


@dataclass(frozen=True)
class PaymentPolicies:
    """The payment policy of each channel (by the order's channel), and the one for the rest."""

    default: PaymentPolicy = PaymentPolicy()
    channels: dict[str, PaymentPolicy] = field(default_factory=dict)

    def of(self, channel: str) -> PaymentPolicy:
        """The policy of a channel's orders."""
        return self.channels.get(channel, self.default)


# -- value objects: plain dicts at run time, so the stored JSON is what it always was ---------


class Customer(TypedDict):
    """Who ordered; never any payment data."""

    name: str
    email: str
    phone: NotRequired[str | None]


class Address(TypedDict):
    """A postal address to ship to."""

    name: str
    line1: str
    line2: NotRequired[str | None]
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    company: NotRequired[str | None]
    phone: NotRequired[str | None]
    state: NotRequired[str | None]  # as the channel named it
    state_code: NotRequired[str | None]  # ISO 3166-2 where known, e.g. US-KY


class OrderLine(TypedDict):
    """One ordered SKU with its quantity and unit price."""

    sku: str
    quantity: int
    unit_price: str  # a decimal string in stored events; Decimal only in arithmetic
    # What the channel told of the line (absent on orders placed before these were kept).
    line_id: NotRequired[str | None]
    title: NotRequired[str | None]
    variant_title: NotRequired[str | None]
    discount: NotRequired[str | None]  # allocated to the line, in minor units
    taxes: NotRequired[list[dict[str, str]] | None]
    paid: NotRequired[str | None]  # what was paid for the line; refunds are computed from it


class ShippingLine(TypedDict):
    """A shipping charge of the order: price, discount and taxes (decimal strings)."""

    title: str
    price: str
    discount: str
    taxes: list[dict[str, str]]


class OrderTotals(TypedDict):
    """What the order came to: items (before discounts), discounts (on the lines), tax,
    shipping (after its discounts) and paid, decimal strings in minor units."""

    items: str
    discounts: str
    tax: str
    shipping: str
    paid: str


class OrderFacts(TypedDict, total=False):
    """The order's own facts as its channel told them (each only where the channel did)."""

    channel_order_number: str  # the number the customer knows (Shopify #1001)
    billing_address: Address
    note: str  # the customer's
    shipping_lines: list[ShippingLine]
    totals: OrderTotals
    taxes_included: bool  # unit prices, discounts and shipping include the taxes


class ItemQuantity(TypedDict):
    """A quantity of one SKU (shipment and return lines)."""

    sku: str
    quantity: int


class Allocation(TypedDict):
    """Units of a SKU reserved at one location."""

    sku: str
    location_id: str
    quantity: int


class Shortage(TypedDict):
    """A SKU with less stock available than the order asked for."""

    sku: str
    requested: int
    available: int


class PackageRef(TypedDict):
    """A package of a shipment, with its SSCC and tracking number."""

    package_id: str
    sscc: str
    tracking_number: str
    weight_grams: NotRequired[int]


class Shipment(TypedDict):
    """A shipment of this order that left a location."""

    shipment_id: str
    location_id: str
    carrier: str
    tracking_number: str
    lines: list[ItemQuantity]
    service: NotRequired[str]  # kept only when fulfillment names one
    packages: NotRequired[list[PackageRef]]  # kept only when fulfillment sends them


class RefundedUnits(TypedDict):
    """Units of one SKU refunded, and the money for them (a decimal string)."""

    sku: str
    quantity: int
    amount: str


class PickedLine(TypedDict):
    """What a picker found of one SKU, against what the shipment needed."""

    sku: str
    bin: NotRequired[str | None]
    expected: int
    picked: int


class ShortLine(PickedLine):
    """A picked line that came back short, with the units missing."""

    quantity: int


class UnshippedLine(TypedDict):
    """Units of an order line that did not ship (short), and what was paid for them."""

    sku: str
    quantity: int
    paid: str  # the line's paid minus the paid of the line as it shipped: the parts add up


# -- errors -----------------------------------------------------------------------------------


class LineCut(TypedDict):
    """Units an edit takes off one line: its number (1-based, as listed) and how many."""

    line: int
    quantity: int


class ChannelCut(TypedDict):
    """Units an edit at the channel took off one of its lines (by the channel's line id)."""

    line_id: str
    sku: str
    quantity: int


class CancelledUnits(TypedDict):
    """Units an edit took off a line, and what had been paid for them."""

    line: int
    sku: str
    quantity: int
    paid: str


class OrderError(Exception):
    """Base of order domain errors."""


class OrderNotFoundError(OrderError):
    """No order has this id."""


class OrderNotCancellableError(OrderError):
    """The order has shipped (in part or in full) and can no longer be cancelled."""


class OrderCancelledError(OrderError):
    """The order was cancelled: a payment for it is a refund to make, not a state to record."""


class NoCancelRequestError(OrderError):
    """The order has no buyer's cancellation request waiting for an answer."""


class OrderNotEditableError(OrderError):
    """The ship-to can no longer change: the order was cancelled, shipped, or is being picked."""

    def __init__(self, message: str, shipment_id: str | None = None) -> None:
        super().__init__(message)
        self.shipment_id = shipment_id

    def details(self) -> dict[str, str]:
        """The shipment being picked, when that is why, for the problem document."""
        return {} if self.shipment_id is None else {"shipment_id": self.shipment_id}


class OrderEditError(OrderError):
    """The edit itself is wrong (no such line, more units than the line has, nothing left)."""


def order_id_for(channel: str, external_id: str) -> UUID:
    """The order id derived from the channel's own id, so intake is idempotent."""
    return uuid5(ORDER_NAMESPACE, f"{channel}:{external_id}")


class Order(Aggregate):
    """A customer's order from one channel, followed from placement to refund."""

    # Event class names and field names are stored (the topic is module:Qualname): keep them
    # (docs/architecture.md, "Events in and out"). A field added later carries a default,
    # because events stored before it lack it.

    class Placed(Aggregate.Created):
        """A channel's order was accepted."""

        order_id: UUID
        channel: str
        external_id: str
        customer: Customer
        shipping_address: Address
        lines: list[OrderLine]
        currency: str
        # Absent on orders placed before payment states: those were paid.
        payment_state: str | None = None
        payment_due_at: datetime | None = None  # cancelled unpaid after this, by the policy
        # The order's own facts as the channel told them; absent on orders placed before.
        channel_order_number: str | None = None
        billing_address: Address | None = None
        note: str | None = None
        shipping_lines: list[ShippingLine] | None = None
        totals: OrderTotals | None = None
        taxes_included: bool | None = None

    class HeldForPayment(Aggregate.Event):
        """Stock is reserved, but the payment does not allow shipping yet: nothing is picked."""

        allocations: list[Allocation]
        payment_state: str
        payment_due_at: datetime | None
        routing: dict[str, Any] | None = None  # inventory's explanation of the locations
        short: dict[str, int] | None = None  # units inventory gave up (ships what is there)
        waiting: dict[str, dict[str, int]] | None = None  # request -> units inventory holds later

    class PaymentRecorded(Aggregate.Event):
        """The payment moved on: said by the channel or recorded by the merchant."""

        payment_state: str
        amount: str | None  # a decimal string in the order's currency, when one was given
        reference: str | None  # the bank transfer's or the channel's reference
        source: str  # "channel" or who recorded it
        payment_due_at: datetime | None  # the deadline still running after this, if any

    class Confirmed(Aggregate.Event):
        """All stock is reserved; carries what fulfillment needs to ship it."""

        allocations: list[Allocation]
        customer: Customer
        shipping_address: Address
        lines: list[OrderLine]
        channel: str | None = None
        external_id: str | None = None
        placed_at: datetime | None = None
        # The number the customer knows and the customer's note, for the warehouse's papers.
        channel_order_number: str | None = None
        note: str | None = None
        # Inventory's explanation of why these locations (its StockReserved.routing).
        routing: dict[str, Any] | None = None
        # Units inventory did not hold and gave up: the channel ships what is there.
        short: dict[str, int] | None = None
        # Units inventory holds later, per request (the channel backorders the rest).
        waiting: dict[str, dict[str, int]] | None = None

    class Backordered(Aggregate.Event):
        """Stock is short; the order waits."""

        shortages: list[Shortage]

    class BackorderPromised(Aggregate.Event):
        """Inventory expects the backordered order's missing units then (None: it no longer
        knows when)."""

        promise_date: datetime | None

    class Cancelled(Aggregate.Event):
        """The order was cancelled before anything shipped."""

        reason: str
        channel: str
        external_id: str
        # The payment state when cancelled (absent on older events): a paid order is refunded.
        payment_state: str | None = None

    class RefundDue(Aggregate.Event):
        """A paid order was cancelled and its channel cannot refund it (the merchant's own
        channels): ops must pay the money back."""

        reason: str
        payment_state: str
        amount: str | None  # at most this much (the lines' paid less refunds), when known

    class ShipmentRecorded(Aggregate.Event):
        """A shipment left; `status` is the order's status after it (a str once reloaded)."""

        shipment: Shipment
        status: OrderStatus

    class ShortPicked(Aggregate.Event):
        """A picker found fewer units than a shipment needed."""

        shipment_id: str
        pick_list_id: str
        location_id: str
        lines: list[ShortLine]
        short: dict[str, int]

    class SourcingRequested(Aggregate.Event):
        """Units a picker did not find are asked for again (the short-pick policy)."""

        request_id: str
        lines: list[ItemQuantity]
        country: str

    class PartConfirmed(Aggregate.Event):
        """Units asked for again are reserved: a follow-up shipment for them (carries what
        fulfillment needs, as Confirmed does)."""

        request_id: str
        allocations: list[Allocation]
        customer: Customer
        shipping_address: Address
        lines: list[OrderLine]
        channel: str
        external_id: str
        placed_at: datetime
        channel_order_number: str | None = None
        note: str | None = None
        routing: dict[str, Any] | None = None  # inventory's explanation of the locations

    class SourcingFailed(Aggregate.Event):
        """Units asked for again are available nowhere: the order ships without them."""

        request_id: str
        shortages: list[Shortage]
        short: dict[str, int]

    class Shipped(Aggregate.Event):
        """Every ordered unit shipped or was short: the lines are what can be returned, the
        short lines what did not ship and what was paid for it (absent on older events)."""

        lines: list[OrderLine]
        shipments: list[Shipment]
        currency: str
        short: dict[str, int] | None = None
        short_lines: list[UnshippedLine] | None = None
        shipping_paid: str | None = None  # what was paid for shipping (absent: not told)

    class ReturnReceived(Aggregate.Event):
        """Units came back from the customer; `status` is the order's status after it."""

        return_id: str
        lines: list[ItemQuantity]
        status: OrderStatus

    class Refunded(Aggregate.Event):
        """Money went back to the customer (`amount` is a decimal string); `over` is what the
        refunds then passed of what was paid, when a refund at the channel got in between."""

        refund_id: str
        amount: str
        over: str | None

    class RefundedAtChannel(Aggregate.Event):
        """Money went back at the channel, not through the OMS (a refund in Shopify's admin);
        `over` is what it passed of what was paid (an exception for ops), when it did."""

        refund_id: str
        amount: str
        lines: list[RefundedUnits]
        note: str | None
        over: str | None

    class ShipToChanged(Aggregate.Event):
        """The parcels go to another address; changed before any of the order was picked."""

        shipping_address: Address
        reason: str | None = None

    class PickingStarted(Aggregate.Event):
        """A shipment of the order went on a pick list: the ship-to is fixed from now on."""

        shipment_id: str
        pick_list_id: str
        location_id: str
        picking: dict[str, str]  # shipment -> pick list, every one being picked after this

    class PickingReleased(Aggregate.Event):
        """A shipment's pick list was cancelled before it was picked: it is open again."""

        shipment_id: str
        picking: dict[str, str]

    class ShipToRefused(Aggregate.Event):
        """Fulfillment kept a shipment's old ship-to: its picking had started before the change."""

        shipment_id: str
        reason: str

    class ShipmentTracked(Aggregate.Event):
        """The carrier told where a shipment's parcel is (in transit, out for delivery,
        delivered, exception): shown on the order's timeline."""

        shipment_id: str
        carrier: str
        tracking_number: str
        tracking_url: str | None
        status: str
        happened_at: str
        description: str

    class LinesEdited(Aggregate.Event):
        """Units were cancelled or lines added before any of the order was picked; the order
        asks for its stock again (`status` is the order's after it, a str once reloaded)."""

        revision: int
        lines: list[OrderLine]
        cancelled: list[CancelledUnits]
        added: list[OrderLine]
        reason: str
        source: str  # "ops" or "channel"
        payment_state: str
        status: OrderStatus
        # Carried so the public event maps from this one alone.
        channel: str
        external_id: str
        currency: str
        reference: str | None = None  # the channel's news it applies (source "channel")

    class EditRefused(Aggregate.Event):
        """A shipment kept its lines: its picking started before the edit reached it."""

        shipment_id: str
        revision: int
        reason: str

    class CancelRequestHeld(Aggregate.Event):
        """The buyer asked the channel to cancel; by the channel's policy ops decide."""

        reason: str  # the channel's
        reference: str

    class CancelRequestAnswered(Aggregate.Event):
        """The buyer's cancellation request was answered: accepted (Cancelled follows) or refused
        (the order is under way); the channel is told. Channel and external id ride along."""

        accepted: bool
        why: str
        reason: str  # the channel's
        reference: str
        answered_by: str  # "policy", or who of ops
        channel: str
        external_id: str

    class ChannelCancelNotApplied(Aggregate.Event):
        """The channel cancelled the order, but it is under way here: ops decide."""

        reason: str  # the channel's
        why: str  # why the OMS did not cancel it
        reference: str | None

    class ChannelEditNotApplied(Aggregate.Event):
        """An edit at the channel took units off the order's lines, but the order can no longer
        change (or the edit does not fit it): ops decide."""

        lines: list[dict[str, object]]  # the channel's line id, SKU and units taken off
        why: str
        reference: str | None

    class ChannelShipToNotApplied(Aggregate.Event):
        """The channel's order ships elsewhere now, but the order's ship-to is fixed here (picking
        started, shipped, cancelled): ops decide (stop the parcel, tell the buyer)."""

        shipping_address: Address  # the channel's new one (not shown on the timeline)
        why: str  # why the OMS did not change it
        reference: str | None

    @event(Placed)
    def __init__(
        self,
        order_id: UUID,
        channel: str,
        external_id: str,
        customer: Customer,
        shipping_address: Address,
        lines: list[OrderLine],
        currency: str,
        payment_state: str | None = None,
        payment_due_at: datetime | None = None,
        channel_order_number: str | None = None,
        billing_address: Address | None = None,
        note: str | None = None,
        shipping_lines: list[ShippingLine] | None = None,
        totals: OrderTotals | None = None,
        taxes_included: bool | None = None,
    ) -> None:
        self.channel = channel
        self.external_id = external_id
        self.customer = customer
        self.shipping_address = shipping_address
        self.lines = lines
        self.currency = currency
        self.channel_order_number = channel_order_number
        self.billing_address = billing_address
        self.note = note
        self.shipping_lines = shipping_lines
        self.totals = totals
        self.taxes_included = taxes_included
        self.payment_state = PaymentState(payment_state or ASSUMED)
        self.payment_due_at = payment_due_at
        self.payments: list[dict[str, str | None]] = []
        self.status = OrderStatus.PLACED
        self.allocations: list[Allocation] = []
        self.shipments: list[Shipment] = []
        self.returned: dict[str, int] = {}
        self.return_ids: list[str] = []
        self.refunds: dict[str, str] = {}
        self.short: dict[str, int] = {}  # sku -> units a picker did not find
        self.short_picks: list[str] = []  # pick list:shipment keys already recorded
        self.picking: dict[str, str] = {}  # shipment -> pick list: picking started, not released
        self.channel_cancels: list[str] = []  # the channel's cancel news not applied, by reference
        self.channel_ship_tos: list[str] = []  # likewise its ship-to news
        self.refund_due = False  # a paid cancel ops must refund by hand (own channels)
        self.ship_to_refused: list[str] = []  # shipments that kept an older ship-to since a change
        self.tracked: list[str] = []  # tracking events recorded: shipment|status|when|words
        self.revision = 0  # edits of the lines so far; stock answers name the one they answer
        self.edit_refused: list[str] = []  # revision:shipment of edits a shipment refused
        self.sourcing: dict[str, dict[str, int]] = {}  # request -> units asked for again, open
        self.sourced_skus: list[str] = []  # SKUs asked for again once: never twice
        self.channel_edits: list[str] = []  # the channel's edits taken in (or not), by reference
        self.cancel_requests: list[str] = []  # the buyer's cancellation requests seen, by reference
        self.open_cancel_request: dict[str, str] | None = None  # held for ops: reason, reference

    @staticmethod
    def create_id(order_id: UUID, **_: object) -> UUID:
        """The id is chosen outside (derived from channel + external id)."""
        return order_id

    @property
    def ordered(self) -> Counter[str]:
        """Units ordered per SKU."""
        total: Counter[str] = Counter()
        for line in self.lines:
            total[line["sku"]] += line["quantity"]
        return total

    @property
    def shipped_units(self) -> Counter[str]:
        """Units shipped so far per SKU."""
        total: Counter[str] = Counter()
        for shipment in self.shipments:
            for line in shipment["lines"]:
                total[line["sku"]] += line["quantity"]
        return total

    @property
    def refunded_total(self) -> Decimal:
        """Money refunded so far."""
        return sum((Decimal(a) for a in self.refunds.values()), Decimal(0))

    @staticmethod
    def payment_deadline(
        payment_state: str | None, placed_at: datetime, policy: PaymentPolicy
    ) -> datetime | None:
        """When an order placed in this payment state is cancelled unpaid (None: never)."""
        if policy.allows(payment_state) or policy.cancel_unpaid_after is None:
            return None
        return placed_at + policy.cancel_unpaid_after

    def confirm(
        self,
        allocations: list[Allocation],
        policy: PaymentPolicy,
        now: datetime | None = None,
        revision: int = 0,
        routing: dict[str, Any] | None = None,
        short: dict[str, int] | None = None,
        waiting: dict[str, dict[str, int]] | None = None,
    ) -> None:
        """Stock is reserved: the order goes to the warehouse if its payment allows, else it is
        held for payment, with a deadline (ignored unless awaiting stock, or when the answer is
        for lines an edit has replaced since). The routing explanation goes on the timeline."""
        if self.status not in AWAITING_STOCK or revision < self.revision:
            return
        short, waiting = short or None, waiting or None
        if policy.allows(self.payment_state):
            self._confirm(allocations, routing, short, waiting)
        else:
            self._held_for_payment(
                allocations=allocations,
                payment_state=self.payment_state.value,
                payment_due_at=self._deadline_from(now, policy),
                routing=routing,
                short=short,
                waiting=waiting,
            )

    def _deadline_from(self, now: datetime | None, policy: PaymentPolicy) -> datetime | None:
        """The deadline running, or one from `now` when none runs: an order placed paid whose
        payment was voided while it waited for stock must not hold its stock for ever."""
        if self.payment_due_at is not None or now is None or policy.cancel_unpaid_after is None:
            return self.payment_due_at
        return now + policy.cancel_unpaid_after

    def _confirm(
        self,
        allocations: list[Allocation],
        routing: dict[str, Any] | None = None,
        short: dict[str, int] | None = None,
        waiting: dict[str, dict[str, int]] | None = None,
    ) -> None:
        # The event carries what fulfillment needs, so the public event maps from it alone.
        self._confirmed(
            allocations=allocations,
            customer=self.customer,
            shipping_address=self.shipping_address,
            lines=self.lines,
            channel=self.channel,
            external_id=self.external_id,
            placed_at=self.created_on,
            channel_order_number=self.channel_order_number,
            note=self.note,
            routing=routing,
            short=short,
            waiting=waiting,
        )

    @event(HeldForPayment)
    def _held_for_payment(
        self,
        allocations: list[Allocation],
        payment_state: str,
        payment_due_at: datetime | None,
        routing: dict[str, Any] | None = None,
        short: dict[str, int] | None = None,
        waiting: dict[str, dict[str, int]] | None = None,
    ) -> None:
        if short is not None:  # nothing picked yet: these are the order's only short units
            self.short = dict(short)
        if waiting is not None:  # answered by PartConfirmed, as units asked for again are
            self.sourcing = {**self.sourcing, **waiting}
        self.allocations = allocations
        self.payment_due_at = payment_due_at
        self.status = OrderStatus.AWAITING_PAYMENT

    def record_payment(
        self,
        payment_state: PaymentState,
        policy: PaymentPolicy,
        *,
        amount: Decimal | None = None,
        reference: str | None = None,
        source: str = "channel",
        now: datetime | None = None,
    ) -> None:
        """The payment moved on; an order held for payment that may now ship goes to the
        warehouse. The same state again with nothing new is not recorded twice."""
        if self.status == OrderStatus.CANCELLED and source != "channel":
            # The channel's news is kept even then (a refund there shows on the timeline).
            raise OrderCancelledError(f"order {self.id} is cancelled; refund the payment instead")
        if payment_state == self.payment_state and amount is None and reference is None:
            return
        if reference is not None and any(
            p["reference"] == reference and p["payment_state"] == payment_state
            for p in self.payments
        ):
            return  # the same payment told again (a retried request, a repeated webhook)
        running = None
        if not policy.allows(payment_state) and self.status in NOT_YET_SHIPPING:
            running = self._deadline_from(now, policy)
        self._payment_recorded(
            payment_state=payment_state.value,
            amount=None if amount is None else self._amount_text(amount),
            reference=reference,
            source=source,
            payment_due_at=running,
        )
        if self.status == OrderStatus.AWAITING_PAYMENT and policy.allows(payment_state):
            self._confirm(self.allocations)

    @event(PaymentRecorded)
    def _payment_recorded(
        self,
        payment_state: str,
        amount: str | None,
        reference: str | None,
        source: str,
        payment_due_at: datetime | None,
    ) -> None:
        self.payment_state = PaymentState(payment_state)
        self.payment_due_at = payment_due_at
        self.payments = [
            *self.payments,
            {"payment_state": payment_state, "amount": amount, "reference": reference},
        ]

    def _amount_text(self, amount: Decimal) -> str:
        """An amount as events carry it, in the order's currency's minor units."""
        if self.currency in money.MINOR_UNITS:
            return money.text(amount, self.currency)
        return format(amount, "f")

    def overdue_unpaid(self, now: datetime) -> bool:
        """Unpaid past its deadline and not yet on its way: to be cancelled."""
        return (
            self.status in NOT_YET_SHIPPING
            and self.payment_due_at is not None
            and now >= self.payment_due_at
        )

    @event(Confirmed)
    def _confirmed(
        self,
        allocations: list[Allocation],
        customer: Customer,
        shipping_address: Address,
        lines: list[OrderLine],
        channel: str | None = None,
        external_id: str | None = None,
        placed_at: datetime | None = None,
        channel_order_number: str | None = None,
        note: str | None = None,
        routing: dict[str, Any] | None = None,
        short: dict[str, int] | None = None,
        waiting: dict[str, dict[str, int]] | None = None,
    ) -> None:
        if short is not None:  # nothing picked yet: these are the order's only short units
            self.short = dict(short)
        if waiting is not None:  # answered by PartConfirmed, as units asked for again are
            self.sourcing = {**self.sourcing, **waiting}
        self.allocations = allocations
        self.status = OrderStatus.CONFIRMED

    def backorder(self, shortages: list[Shortage], revision: int = 0) -> None:
        """Not enough stock: the order waits for stock (ignored unless just placed, or when the
        answer is for lines an edit has replaced since)."""
        if self.status == OrderStatus.PLACED and revision >= self.revision:
            self._backordered(shortages=shortages)

    @event(Backordered)
    def _backordered(self, shortages: list[Shortage]) -> None:
        self.status = OrderStatus.BACKORDERED
        self.promise_date: datetime | None = None  # each wait starts without a promise

    @property
    def promised(self) -> datetime | None:
        """When inventory expects a backordered order's missing units, if it knows."""
        # Orders created (or snapshotted) before promise dates lack the attribute.
        promised: datetime | None = self.__dict__.get("promise_date")
        return promised

    def promise(self, date: datetime | None, revision: int = 0) -> bool:
        """Inventory dated the wait; ignored unless backordered, for the lines it answers, and
        the date changed."""
        if self.status != OrderStatus.BACKORDERED or revision < self.revision:
            return False
        if date == self.promised:
            return False
        self._backorder_promised(promise_date=date)
        return True

    @event(BackorderPromised)
    def _backorder_promised(self, promise_date: datetime | None) -> None:
        self.promise_date = promise_date

    def cancel(self, reason: str) -> bool:
        """Cancel before anything shipped; cancelling twice changes nothing."""
        if self.status == OrderStatus.CANCELLED:
            return False
        if self.status not in CANCELLABLE:
            raise OrderNotCancellableError(
                f"order {self.id} is {self.status} and cannot be cancelled"
            )
        if self.open_cancel_request is not None:  # the cancel is the buyer's wish granted
            self._answer_request(True, f"cancelled: {reason}", "cancel")
        self._cancelled(
            reason=reason,
            channel=self.channel,
            external_id=self.external_id,
            payment_state=self.payment_state.value,
        )
        return True

    def record_refund_due(self, reason: str, payment_state: str, amount: Decimal | None) -> bool:
        """A paid cancelled order that no channel refunds: an exception ops see, told once."""
        if self.refund_due:
            return False
        text = None if amount is None else self._amount_text(amount)
        self._refund_due(reason=reason, payment_state=payment_state, amount=text)
        return True

    @event(RefundDue)
    def _refund_due(self, reason: str, payment_state: str, amount: str | None) -> None:
        self.refund_due = True

    def cancel_from_channel(self, reason: str, reference: str | None = None) -> bool:
        """The channel cancelled the order: cancelled here too while nothing is under way (no
        shipment left, none being picked); otherwise an exception on the order for ops, told once
        per news. Whether the order was cancelled."""
        if self.status == OrderStatus.CANCELLED:
            return False
        why = self._under_way()
        if why is None:
            return self.cancel(f"cancelled at the channel: {reason}")
        if reference is None or reference not in self.channel_cancels:
            self._channel_cancel_not_applied(reason=reason, why=why, reference=reference)
        return False

    def request_cancel(
        self, reason: str, reference: str, policy: CancelRequestPolicy = CancelRequestPolicy.AUTO
    ) -> bool:
        """The buyer asked the channel to cancel: answered by the policy (accepted while nothing
        is under way, and the order cancelled; refused otherwise), or held for ops. Each request
        counts once. Whether the order was cancelled."""
        if reference in self.cancel_requests:
            return False
        if policy == CancelRequestPolicy.OPS and self.status != OrderStatus.CANCELLED:
            self._cancel_request_held(reason=reason, reference=reference)
            return False
        return self._decide_request(reason, reference, True, None, "policy")

    def answer_cancel_request(self, accept: bool, by: str, why: str | None = None) -> bool:
        """Ops answer the buyer's request held for them: accepting cancels the order (409 when
        it is under way), refusing keeps it going. Whether the order was cancelled."""
        request = self.open_cancel_request
        if request is None:
            raise NoCancelRequestError(f"order {self.id} has no cancellation request to answer")
        if accept and self.status != OrderStatus.CANCELLED:
            under_way = self._under_way()
            if under_way is not None:
                raise OrderNotCancellableError(f"order {self.id} cannot be cancelled: {under_way}")
        return self._decide_request(request["reason"], request["reference"], accept, why, by)

    def _decide_request(
        self, reason: str, reference: str, accept: bool, why: str | None, by: str
    ) -> bool:
        """Answer a request; accepted, the order is cancelled (the answer recorded first, so the
        channel learns it before the cancel). Whether the order was cancelled now."""
        if self.status == OrderStatus.CANCELLED:
            self._request_answered(True, "the order is cancelled already", reason, reference, by)
            return False
        under_way = self._under_way()
        if not accept or under_way is not None:
            self._request_answered(False, why or under_way or "refused", reason, reference, by)
            return False
        self._request_answered(True, why or "nothing of it was under way", reason, reference, by)
        return self.cancel(f"cancelled at the buyer's request: {reason}")

    def _answer_request(self, accepted: bool, why: str, by: str) -> None:
        request = self.open_cancel_request or {"reason": "", "reference": ""}
        self._request_answered(accepted, why, request["reason"], request["reference"], by)

    def _request_answered(
        self, accepted: bool, why: str, reason: str, reference: str, by: str
    ) -> None:
        self._cancel_request_answered(
            accepted=accepted,
            why=why[:500],
            reason=reason,
            reference=reference,
            answered_by=by,
            channel=self.channel,
            external_id=self.external_id,
        )

    @event(CancelRequestHeld)
    def _cancel_request_held(self, reason: str, reference: str) -> None:
        self.cancel_requests = [*self.cancel_requests, reference]
        self.open_cancel_request = {"reason": reason, "reference": reference}

    @event(CancelRequestAnswered)
    def _cancel_request_answered(
        self,
        accepted: bool,
        why: str,
        reason: str,
        reference: str,
        answered_by: str,
        channel: str,
        external_id: str,
    ) -> None:
        if reference not in self.cancel_requests:
            self.cancel_requests = [*self.cancel_requests, reference]
        self.open_cancel_request = None

    def _under_way(self) -> str | None:
        """Why the order can no longer simply be cancelled, or None."""
        if self.status not in CANCELLABLE:
            return f"the order is {self.status}"
        if self.picking:
            return f"picking started on shipment {next(iter(self.picking))}"
        return None

    @event(ChannelCancelNotApplied)
    def _channel_cancel_not_applied(self, reason: str, why: str, reference: str | None) -> None:
        if reference is not None:
            self.channel_cancels = [*self.channel_cancels, reference]

    @event(Cancelled)
    def _cancelled(
        self, reason: str, channel: str, external_id: str, payment_state: str | None = None
    ) -> None:
        self.status = OrderStatus.CANCELLED

    def record_shipment(self, shipment: Shipment) -> None:
        """A shipment left; when every ordered unit has left or was short, the order is shipped."""
        if any(s["shipment_id"] == shipment["shipment_id"] for s in self.shipments):
            return
        keep = self.status == OrderStatus.CANCELLED or self.status in DONE_SHIPPING
        status = self.status if keep else OrderStatus.PARTIALLY_SHIPPED
        self._shipment_recorded(shipment=shipment, status=status)
        self._ship_if_complete()

    def record_short_pick(
        self,
        shipment_id: str,
        pick_list_id: str,
        location_id: str,
        lines: list[PickedLine],
        policy: ShortPickPolicy = ShortPickPolicy.SHIP_SHORT,
    ) -> None:
        """A picker found fewer units than a shipment needs: an exception ops see on the order.

        The short units will not ship with this shipment (inventory releases them). Shipped
        short, they count towards completion: the order never waits for units nobody is going
        to pick. Sourced again (once per SKU, not for a cancelled order), they are asked for
        anew and the order waits for them.
        """
        key = f"{pick_list_id}:{shipment_id}"
        short_lines: list[ShortLine] = [
            {**line, "quantity": line["expected"] - line["picked"]}
            for line in lines
            if line["picked"] < line["expected"]
        ]
        if key in self.short_picks or not short_lines:
            return
        missing: Counter[str] = Counter()
        for line in short_lines:
            missing[line["sku"]] += line["quantity"]
        again = Counter(
            {
                sku: units
                for sku, units in missing.items()
                if policy == ShortPickPolicy.SOURCE_AGAIN
                and sku not in self.sourced_skus
                and self.status != OrderStatus.CANCELLED
            }
        )
        self._short_picked(
            shipment_id=shipment_id,
            pick_list_id=pick_list_id,
            location_id=location_id,
            lines=short_lines,
            short=dict(Counter(self.short) + (missing - again)),
        )
        if again:
            self._sourcing_requested(
                request_id=key,
                lines=[
                    ItemQuantity(sku=sku, quantity=units) for sku, units in sorted(again.items())
                ],
                country=self.shipping_address["country"],
            )
        self._ship_if_complete()

    @event(SourcingRequested)
    def _sourcing_requested(self, request_id: str, lines: list[ItemQuantity], country: str) -> None:
        self.sourcing = {**self.sourcing, request_id: {i["sku"]: i["quantity"] for i in lines}}
        self.sourced_skus = [*self.sourced_skus, *(i["sku"] for i in lines)]

    def record_sourced(
        self,
        request_id: str,
        allocations: list[Allocation],
        routing: dict[str, Any] | None = None,
    ) -> None:
        """Units asked for again are reserved: a follow-up shipment for them (once; nothing for
        a cancelled order or a request already answered)."""
        if request_id not in self.sourcing or self.status == OrderStatus.CANCELLED:
            return
        self._part_confirmed(
            request_id=request_id,
            allocations=allocations,
            customer=self.customer,
            shipping_address=self.shipping_address,
            lines=self.lines,
            channel=self.channel,
            external_id=self.external_id,
            placed_at=self.created_on,
            channel_order_number=self.channel_order_number,
            note=self.note,
            routing=routing,
        )

    @event(PartConfirmed)
    def _part_confirmed(
        self,
        request_id: str,
        allocations: list[Allocation],
        customer: Customer,
        shipping_address: Address,
        lines: list[OrderLine],
        channel: str,
        external_id: str,
        placed_at: datetime,
        channel_order_number: str | None = None,
        note: str | None = None,
        routing: dict[str, Any] | None = None,
    ) -> None:
        # Answered: the units now wait for their shipment like any other of the order's.
        self.sourcing = {r: u for r, u in self.sourcing.items() if r != request_id}

    def record_sourcing_failed(self, request_id: str, shortages: list[Shortage]) -> None:
        """Units asked for again are available nowhere: the order ships without them."""
        if request_id not in self.sourcing:
            return
        short = Counter(self.short) + Counter(self.sourcing[request_id])
        self._sourcing_failed(request_id=request_id, shortages=shortages, short=dict(short))
        self._ship_if_complete()

    @event(SourcingFailed)
    def _sourcing_failed(
        self, request_id: str, shortages: list[Shortage], short: dict[str, int]
    ) -> None:
        self.short = dict(short)
        self.sourcing = {r: u for r, u in self.sourcing.items() if r != request_id}

    @event(ShortPicked)
    def _short_picked(
        self,
        shipment_id: str,
        pick_list_id: str,
        location_id: str,
        lines: list[ShortLine],
        short: dict[str, int],
    ) -> None:
        self.short = dict(short)
        self.short_picks = [*self.short_picks, f"{pick_list_id}:{shipment_id}"]

    def _ship_if_complete(self) -> None:
        """Shipped once every ordered unit shipped or was short, and at least one shipped."""
        if self.status in DONE_SHIPPING or not self.shipments:
            return
        accounted = self.shipped_units + Counter(self.short)
        if any(accounted[sku] < quantity for sku, quantity in self.ordered.items()):
            return
        lines, short_lines = self._shipped_lines()
        if lines:  # shipments of only unordered SKUs make nothing returnable
            self._shipped(
                lines=lines,
                shipments=self.shipments,
                currency=self.currency,
                short=dict(self.short),
                short_lines=short_lines or None,
                shipping_paid=self._shipping_paid(),
            )

    def _shipping_paid(self) -> str | None:
        """What the buyer paid for shipping: each shipping line's price less its discount, with
        its taxes when prices exclude them (None: the channel told no shipping lines)."""
        if self.shipping_lines is None:
            return None
        paid = Decimal(0)
        for line in self.shipping_lines:
            paid += Decimal(line["price"]) - Decimal(line["discount"])
            if not self.taxes_included:
                paid += sum((Decimal(tax["amount"]) for tax in line["taxes"]), Decimal(0))
        return format(max(paid, Decimal(0)), "f")

    def _shipped_lines(self) -> tuple[list[OrderLine], list[UnshippedLine]]:
        """The ordered lines cut to what actually shipped (all that can be returned), and per
        line the units that did not ship with what was paid for them: together exactly what was
        paid for the line."""
        left = self.shipped_units
        lines: list[OrderLine] = []
        short_lines: list[UnshippedLine] = []
        for line in self.lines:
            quantity = min(line["quantity"], left[line["sku"]])
            cut = _cut_line(line, quantity, self.currency) if quantity > 0 else None
            if cut is not None:
                lines.append(cut)
                left[line["sku"]] -= quantity
            if quantity < line["quantity"]:
                short_lines.append(_short_part(line, cut))
        return lines, short_lines

    @event(ShipmentRecorded)
    def _shipment_recorded(self, shipment: Shipment, status: OrderStatus) -> None:
        self.shipments = [*self.shipments, shipment]
        self.status = OrderStatus(status)

    @event(Shipped)
    def _shipped(
        self,
        lines: list[OrderLine],
        shipments: list[Shipment],
        currency: str,
        short: dict[str, int] | None = None,
        short_lines: list[UnshippedLine] | None = None,
        shipping_paid: str | None = None,
    ) -> None:
        self.status = OrderStatus.SHIPPED

    def record_return(self, return_id: str, lines: list[ItemQuantity]) -> None:
        """Units came back from the customer; each return counts once."""
        if return_id in self.return_ids:
            return
        returned = Counter(self.returned)
        for line in lines:
            returned[line["sku"]] += line["quantity"]
        status = (
            OrderStatus.RETURNED
            if returned >= self.shipped_units
            else OrderStatus.PARTIALLY_RETURNED
        )
        self._return_received(return_id=return_id, lines=lines, status=status)

    @event(ReturnReceived)
    def _return_received(
        self, return_id: str, lines: list[ItemQuantity], status: OrderStatus
    ) -> None:
        returned = Counter(self.returned)
        for line in lines:
            returned[line["sku"]] += line["quantity"]
        self.returned = dict(returned)
        self.return_ids = [*self.return_ids, return_id]
        self.status = OrderStatus(status)

    def record_refund(self, refund_id: str, amount: Decimal) -> None:
        """Money went back to the customer; each refund counts once. Ours never pass what was
        paid, but one at the channel may have got in first (they come on two topics): then the
        refunds past it are flagged here, as a channel refund past it is."""
        if refund_id not in self.refunds:
            over = self.refunded_total + amount - self.paid_total
            self._refunded(
                refund_id=refund_id,
                amount=str(amount),
                over=self._amount_text(over) if over > 0 else None,
            )

    @event(Refunded)
    def _refunded(self, refund_id: str, amount: str, over: str | None = None) -> None:
        self.refunds = {**self.refunds, refund_id: amount}

    # -- the lines, until picking starts ---------------------------------------------------

    def edit_lines(
        self,
        cancel: list[LineCut],
        add: list[OrderLine],
        reason: str,
        source: str = "ops",
        reference: str | None = None,
    ) -> None:
        """Cancel units of lines (by number) and add lines before any of the order is picked.

        The cut lines keep what was paid for their remaining units (cut down, never up), so
        the cancelled units carry the rest of what was paid for the line. A paid order that
        gets lines with a price has a balance until the payment is recorded (partially paid).
        The order asks inventory for its stock again (it is placed once more).
        """
        self._check_editable("its lines")
        if not cancel and not add:
            raise OrderEditError("the edit changes nothing: give lines to cancel or to add")
        cut = self._cut_quantities(cancel)
        lines: list[OrderLine] = []
        cancelled: list[CancelledUnits] = []
        for number, line in enumerate(self.lines, start=1):
            left = line["quantity"] - cut.get(number, 0)
            kept = _cut_line(line, left, self.currency) if left > 0 else None
            if kept is not None:
                lines.append(kept)
            if number in cut:
                paid = _line_paid(line) - (_line_paid(kept) if kept is not None else Decimal(0))
                cancelled.append(
                    CancelledUnits(
                        line=number, sku=line["sku"], quantity=cut[number], paid=format(paid, "f")
                    )
                )
        lines.extend(add)
        if not lines:
            raise OrderEditError("the edit cancels every unit: cancel the order instead")
        status = self.status if self.status == OrderStatus.PLACED else OrderStatus.PLACED
        self._lines_edited(
            revision=self.revision + 1,
            lines=lines,
            cancelled=cancelled,
            added=add,
            reason=reason,
            source=source,
            payment_state=self._payment_after_adding(add).value,
            status=status,
            channel=self.channel,
            external_id=self.external_id,
            currency=self.currency,
            reference=reference,
        )

    def _cut_quantities(self, cancel: list[LineCut]) -> dict[int, int]:
        """Units to cancel per line number, checked against the lines."""
        cut: Counter[int] = Counter()
        for item in cancel:
            number = item["line"]
            if not 1 <= number <= len(self.lines):
                raise OrderEditError(f"order {self.id} has no line {number}")
            cut[number] += item["quantity"]
            ordered = self.lines[number - 1]["quantity"]
            if cut[number] > ordered:
                raise OrderEditError(
                    f"line {number} has {ordered} units; {cut[number]} cannot be cancelled"
                )
        return dict(cut)

    def _payment_after_adding(self, add: list[OrderLine]) -> PaymentState:
        """A paid order owes for added lines with a price: partially paid until it is paid."""
        owed = any(_line_paid(line) > 0 for line in add)
        if owed and self.payment_state == PaymentState.PAID:
            return PaymentState.PARTIALLY_PAID
        return self.payment_state

    @event(LinesEdited)
    def _lines_edited(
        self,
        revision: int,
        lines: list[OrderLine],
        cancelled: list[CancelledUnits],
        added: list[OrderLine],
        reason: str,
        source: str,
        payment_state: str,
        status: OrderStatus,
        channel: str,
        external_id: str,
        currency: str,
        reference: str | None = None,
    ) -> None:
        if reference is not None:
            self.channel_edits = [*self.channel_edits, reference]
        self.revision = revision
        self.lines = lines
        self.payment_state = PaymentState(payment_state)
        self.allocations = []
        # Editable only before picking, so short or awaited units came from inventory's answer
        # to the old lines (a partial policy); the new lines get their own answer.
        self.short, self.sourcing = {}, {}
        self.status = OrderStatus(status)

    def record_edit_refused(self, shipment_id: str, revision: int, reason: str) -> None:
        """A shipment kept its lines (its picking started before the edit reached it): an
        exception ops see on the order, told once."""
        if f"{revision}:{shipment_id}" not in self.edit_refused:
            self._edit_refused(shipment_id=shipment_id, revision=revision, reason=reason)

    @event(EditRefused)
    def _edit_refused(self, shipment_id: str, revision: int, reason: str) -> None:
        self.edit_refused = [*self.edit_refused, f"{revision}:{shipment_id}"]

    @property
    def paid_total(self) -> Decimal:
        """What the buyer paid for the order: the channel's total, else what the lines say."""
        if self.totals is not None and self.totals.get("paid") is not None:
            return Decimal(str(self.totals["paid"]))
        return sum((_line_paid(line) for line in self.lines), Decimal(0))

    def record_channel_refund(
        self,
        refund_id: str,
        amount: Decimal,
        lines: list[RefundedUnits] | None = None,
        note: str | None = None,
    ) -> bool:
        """A refund made at the channel: on the order as it happened (a fact), each once; one
        that takes the refunds past what was paid is flagged for ops. Whether it was news."""
        if refund_id in self.refunds:
            return False
        over = self.refunded_total + amount - self.paid_total
        self._refunded_at_channel(
            refund_id=refund_id,
            amount=self._amount_text(amount),
            lines=list(lines or []),
            note=note,
            over=self._amount_text(over) if over > 0 else None,
        )
        return True

    @event(RefundedAtChannel)
    def _refunded_at_channel(
        self,
        refund_id: str,
        amount: str,
        lines: list[RefundedUnits],
        note: str | None,
        over: str | None,
    ) -> None:
        self.refunds = {**self.refunds, refund_id: amount}

    # -- the ship-to, until picking starts ------------------------------------------------

    def change_ship_to(self, address: Address, reason: str | None = None) -> bool:
        """Ship to another address before any of the order is picked; whether it was recorded.

        The same address again records nothing, unless a shipment refused a change since: then
        it is sent again, so a shipment whose pick list was cancelled since takes it.
        """
        self._check_editable("its ship-to")
        if address == self.shipping_address and not self.ship_to_refused:
            return False
        self._ship_to_changed(shipping_address=address, reason=reason)
        return True

    def cut_lines_from_channel(self, cuts: list[ChannelCut], reference: str | None = None) -> bool:
        """An edit at the channel took units off lines (by the channel's line id): the order is
        edited the same way while it may (source `channel`: the channel refunds, not the OMS);
        otherwise an exception on the order for ops, told once per news. Whether it was edited."""
        if reference is not None and reference in self.channel_edits:
            return False  # this news was applied (or found not to apply) before
        numbers = {line.get("line_id"): n for n, line in enumerate(self.lines, start=1)}
        cancel = [
            LineCut(line=numbers[cut["line_id"]], quantity=cut["quantity"])
            for cut in cuts
            if cut["line_id"] in numbers
        ]
        try:
            if len(cancel) < len(cuts):
                missing = [c["line_id"] for c in cuts if c["line_id"] not in numbers]
                raise OrderEditError(f"the order has no line {', '.join(missing)} of the channel")
            self.edit_lines(cancel, [], CHANGED_AT_CHANNEL, source="channel", reference=reference)
            return True
        except (OrderNotEditableError, OrderEditError) as error:
            why = str(error)
        self._channel_edit_not_applied(
            lines=[dict(cut) for cut in cuts], why=why, reference=reference
        )
        return False

    @event(ChannelEditNotApplied)
    def _channel_edit_not_applied(
        self, lines: list[dict[str, object]], why: str, reference: str | None
    ) -> None:
        if reference is not None:
            self.channel_edits = [*self.channel_edits, reference]

    def change_ship_to_from_channel(self, address: Address, reference: str | None = None) -> bool:
        """The channel's order ships elsewhere now: the ship-to changes while it may (as ops'
        change does); otherwise an exception on the order for ops, told once per news. Whether
        the ship-to changed."""
        try:
            return self.change_ship_to(address, CHANGED_AT_CHANNEL)
        except OrderNotEditableError as error:
            why = str(error)
        if reference is None or reference not in self.channel_ship_tos:
            self._channel_ship_to_not_applied(
                shipping_address=address, why=why, reference=reference
            )
        return False

    @event(ChannelShipToNotApplied)
    def _channel_ship_to_not_applied(
        self, shipping_address: Address, why: str, reference: str | None
    ) -> None:
        if reference is not None:
            self.channel_ship_tos = [*self.channel_ship_tos, reference]

    def _check_editable(self, what: str) -> None:
        """Raise OrderNotEditableError saying why `what` is fixed, if it is."""
        if self.status == OrderStatus.CANCELLED:
            raise OrderNotEditableError(f"order {self.id} is cancelled")
        if self.shipments or self.status not in SHIP_TO_EDITABLE:
            raise OrderNotEditableError(f"order {self.id} is {self.status}: its parcels left")
        if self.picking:
            shipment_id, pick_list_id = next(iter(self.picking.items()))
            raise OrderNotEditableError(
                f"picking started on shipment {shipment_id} of order {self.id}"
                f" (pick list {pick_list_id}): {what} can no longer change",
                shipment_id=shipment_id,
            )

    @event(ShipToChanged)
    def _ship_to_changed(self, shipping_address: Address, reason: str | None = None) -> None:
        # Confirmed carries the current address: a change before confirmation reaches the
        # warehouse with the shipments themselves.
        self.shipping_address = shipping_address
        self.ship_to_refused = []

    def record_picking_started(self, shipment_id: str, pick_list_id: str, location_id: str) -> None:
        """A shipment went on a pick list: its ship-to is fixed (the same news twice is one)."""
        if self.picking.get(shipment_id) == pick_list_id:
            return
        picking = {**self.picking, shipment_id: pick_list_id}
        self._picking_started(
            shipment_id=shipment_id,
            pick_list_id=pick_list_id,
            location_id=location_id,
            picking=picking,
        )

    @event(PickingStarted)
    def _picking_started(
        self, shipment_id: str, pick_list_id: str, location_id: str, picking: dict[str, str]
    ) -> None:
        self.picking = dict(picking)

    def record_picking_released(self, shipment_id: str) -> None:
        """A shipment's pick list was cancelled: it no longer holds the ship-to fixed."""
        if shipment_id not in self.picking:
            return
        picking = {s: p for s, p in self.picking.items() if s != shipment_id}
        self._picking_released(shipment_id=shipment_id, picking=picking)

    @event(PickingReleased)
    def _picking_released(self, shipment_id: str, picking: dict[str, str]) -> None:
        self.picking = dict(picking)

    def record_ship_to_refused(self, shipment_id: str, reason: str) -> None:
        """A shipment kept the old ship-to (its picking started before the change reached it):
        an exception ops see on the order."""
        self._ship_to_refused(shipment_id=shipment_id, reason=reason)

    @event(ShipToRefused)
    def _ship_to_refused(self, shipment_id: str, reason: str) -> None:
        self.ship_to_refused = [*self.ship_to_refused, shipment_id]

    def record_tracking(
        self,
        shipment_id: str,
        carrier: str,
        tracking_number: str,
        tracking_url: str | None,
        status: str,
        happened_at: str,
        description: str,
    ) -> bool:
        """A carrier's tracking event of one of the order's shipments; the same again is a
        no-op (the carrier and the broker may both repeat it)."""
        key = "|".join((shipment_id, status, happened_at, description))
        if key in self.tracked:
            return False
        self._shipment_tracked(
            shipment_id=shipment_id,
            carrier=carrier,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
            status=status,
            happened_at=happened_at,
            description=description,
        )
        return True

    @event(ShipmentTracked)
    def _shipment_tracked(
        self,
        shipment_id: str,
        carrier: str,
        tracking_number: str,
        tracking_url: str | None,
        status: str,
        happened_at: str,
        description: str,
    ) -> None:
        key = "|".join((shipment_id, status, happened_at, description))
        self.tracked = [*self.tracked, key]


def _line_paid(line: OrderLine) -> Decimal:
    """What was paid for a line; orders placed before amounts were kept know only the price."""
    if line.get("paid") is not None:
        return Decimal(str(line["paid"]))
    return Decimal(str(line["unit_price"])) * line["quantity"]


def _short_part(line: OrderLine, cut: OrderLine | None) -> UnshippedLine:
    """The units of a line that did not ship and what was paid for them: what was paid for the
    line less what its cut line (None: nothing of it shipped) carries, so none is lost."""
    shipped = _line_paid(cut) if cut is not None else Decimal(0)
    quantity = line["quantity"] - (cut["quantity"] if cut is not None else 0)
    return UnshippedLine(
        sku=line["sku"], quantity=quantity, paid=format(_line_paid(line) - shipped, "f")
    )


def _cut_line(line: OrderLine, quantity: int, currency: str) -> OrderLine:
    """A line cut to the units that shipped, its amounts in proportion.

    What was paid is cut down, never rounded up, so refunds computed from the cut line never
    exceed what was paid for the units that shipped; discount and taxes (shown, not refunded
    from) are rounded by the money rule.
    """
    ordered = line["quantity"]
    if quantity >= ordered:
        return line
    unit = money.step(currency) if currency in money.MINOR_UNITS else Decimal("0.01")
    share = Decimal(quantity) / Decimal(ordered)
    cut: OrderLine = {**line, "quantity": quantity}
    if line.get("paid") is not None:
        cut["paid"] = format((Decimal(str(line["paid"])) * share).quantize(unit, ROUND_DOWN), "f")
    if line.get("discount") is not None:
        discount = (Decimal(str(line["discount"])) * share).quantize(unit, money.ROUNDING)
        cut["discount"] = format(discount, "f")
    if line.get("taxes"):
        cut["taxes"] = [
            {
                **tax,
                "amount": format(
                    (Decimal(tax["amount"]) * share).quantize(unit, money.ROUNDING), "f"
                ),
            }
            for tax in line["taxes"] or []
        ]
    return cut
