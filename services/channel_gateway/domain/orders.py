"""The ChannelOrder aggregate: a channel order as received or held, and what the OMS reported."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.channel_gateway.domain.values import (
    AddedLine,
    Address,
    Cancellation,
    ChangeKind,
    ChannelNews,
    ChannelRefs,
    Customer,
    DraftAddress,
    DraftCustomer,
    DraftLine,
    DraftOrder,
    EditedLine,
    LineCutAtChannel,
    OrderLine,
    OrderTotals,
    Package,
    RawPayload,
    Refund,
    RefundLine,
    Shipment,
    ShippedLine,
    ShippingArrangement,
    ShippingLine,
    Tracking,
)
from shared.payments import money_taken, moves_on

# The same namespace and name as the order service's, so both derive the same order id.
ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/orders")


class ChannelOrderStatus(StrEnum):
    """Where a channel order stands at the gateway."""

    ACCEPTED = "accepted"
    HELD = "held"
    CANCELLED = "cancelled"


class ChannelOrderError(Exception):
    """Base of channel gateway domain errors."""


class ChannelOrderNotFoundError(ChannelOrderError):
    """No channel order has this id."""


class InvalidChannelOrderError(ChannelOrderError):
    """The canonical order breaks a rule every order must keep (e.g. a line of no units)."""


class OrderNotHeldError(ChannelOrderError):
    """Only a held order can be released."""


class OrderStillHeldError(ChannelOrderError):
    """A held order still does not translate into an order that can be placed."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("the order still cannot be placed: " + "; ".join(reasons))
        self.reasons = reasons

    def details(self) -> dict[str, list[str]]:
        """The reasons left, as a field of their own in the error answer."""
        return {"reasons": self.reasons}


def order_id_for(channel: str, external_id: str) -> UUID:
    """The order id derived from the channel's own id, so intake is idempotent."""
    return uuid5(ORDER_NAMESPACE, f"{channel}:{external_id}")


class ChannelOrder(Aggregate):
    """One channel order: as received or held, plus shipments, cancellation and refunds."""

    class Received(Aggregate.Created):
        """The whole canonical order, so the public event maps from this event alone."""

        order_id: UUID
        channel: str
        external_id: str
        customer: Customer
        shipping_address: Address
        lines: list[OrderLine]
        currency: str
        refs: ChannelRefs
        payment_state: str | None = None  # absent on orders received before payment states
        # The order's own facts (absent on orders received before they were kept).
        channel_order_number: str | None = None
        billing_address: Address | None = None
        note: str | None = None
        shipping_lines: list[ShippingLine] | None = None
        totals: OrderTotals | None = None
        taxes_included: bool | None = None

    class Held(Aggregate.Created):
        """An order the gateway cannot place yet; internal to the gateway, never published."""

        channel: str
        external_id: str
        reasons: list[str]
        payload: RawPayload
        draft: DraftOrder

        def apply(self, aggregate: ChannelOrder) -> None:
            # Runs after __init__ (called with channel and external id only) on the new aggregate.
            draft = self.draft
            aggregate.status = ChannelOrderStatus.HELD
            aggregate.customer = draft.get("customer") or {}
            aggregate.shipping_address = draft.get("shipping_address") or {}
            aggregate.lines = draft.get("lines") or []
            aggregate.currency = draft.get("currency")
            aggregate.refs = draft.get("refs") or {}
            aggregate.payment_state = draft.get("payment_state")
            aggregate.channel_order_number = draft.get("channel_order_number")
            aggregate.hold_reasons = list(self.reasons)
            aggregate.payload = self.payload

    class Released(Aggregate.Event):
        """A held order now complete; channel and external id ride along for the public event."""

        channel: str
        external_id: str
        customer: Customer
        shipping_address: Address
        lines: list[OrderLine]
        currency: str
        refs: ChannelRefs
        payment_state: str | None = None
        channel_order_number: str | None = None
        billing_address: Address | None = None
        note: str | None = None
        shipping_lines: list[ShippingLine] | None = None
        totals: OrderTotals | None = None
        taxes_included: bool | None = None

    class PaymentChanged(Aggregate.Event):
        """The channel said the payment moved on; channel and external id ride along."""

        channel: str
        external_id: str
        payment_state: str
        reference: str | None
        placed: bool  # the OMS has the order (a held one learns its payment state on release)

    class ShipmentRecorded(Aggregate.Event):
        """A shipment of the order left."""

        shipment: Shipment

    class Cancelled(Aggregate.Event):
        """The OMS cancelled the order."""

        reason: str
        cancelled_at: str
        payment_state: str | None = None  # the order's when cancelled (absent on older events)

    class RefundDue(Aggregate.Event):
        """A paid order was cancelled and no channel API can refund it (the merchant's own
        channels): the merchant must. Channel and external id ride along for the public event."""

        channel: str
        external_id: str
        reason: str
        payment_state: str
        amount: str | None  # at most this much: the lines' paid less refunds, when known
        currency: str | None
        due_at: str

    class CancelledAtChannel(Aggregate.Event):
        """The channel cancelled the order; channel and external id ride along."""

        channel: str
        external_id: str
        reason: str
        reference: str | None
        cancelled_at: str
        placed: bool  # the OMS has the order (a held one is just never released)

    class RefundRecorded(Aggregate.Event):
        """Money went back to the customer."""

        refund: Refund

    class LinesChanged(Aggregate.Event):
        """The OMS edited the order's lines (one event per revision): the lines and their channel
        refs after it, which channel lines lost units, the lines added, and whether (or why not)
        the channel is told."""

        revision: int
        lines: list[OrderLine]
        refs: ChannelRefs
        changed: list[EditedLine]
        added: list[AddedLine]
        reason: str
        source: str
        changed_at: str
        told: str

    class RefundedAtChannel(Aggregate.Event):
        """Money went back at the channel, not through the OMS (a refund in Shopify's admin);
        channel and external id ride along for the public event."""

        channel: str
        external_id: str
        refund: Refund
        note: str | None
        placed: bool  # the OMS has the order (a held one learns nothing of it)

    class CancelRequested(Aggregate.Event):
        """The buyer asked the channel to cancel (Shopee IN_CANCEL); the OMS answers. Channel and
        external id ride along for the public event."""

        channel: str
        external_id: str
        reason: str
        reference: str
        requested_at: str
        placed: bool  # the OMS has the order (a held one is never released: nobody answers)

    class CancelRequestAnswered(Aggregate.Event):
        """The OMS answered the buyer's request; accepted, the order is cancelled here (so the
        OMS's own cancel that follows is not sent to the channel as a second cancel)."""

        accepted: bool
        why: str
        reference: str
        answered_at: str

    class ShippingArranged(Aggregate.Event):
        """The channel's own logistics took one of the order's shipments: carrier, tracking
        number and the shipping document; channel and external id ride along for the public
        event."""

        channel: str
        external_id: str
        arrangement: ShippingArrangement

    class ShipmentTracked(Aggregate.Event):
        """The carrier told where one of the order's parcels is (newer than what it said)."""

        tracking: Tracking

    class LinesCutAtChannel(Aggregate.Event):
        """An edit at the channel took units off the order's lines (its whole order came again
        with fewer); channel and external id ride along for the public event."""

        channel: str
        external_id: str
        cuts: list[LineCutAtChannel]
        told: dict[str, int]  # the channel's units per line after it, as far as told
        reference: str | None
        placed: bool  # the OMS has the order

    class ShipToChangedAtChannel(Aggregate.Event):
        """The channel's order now ships elsewhere (its whole order came again with another
        address); channel and external id ride along for the public event."""

        channel: str
        external_id: str
        shipping_address: Address
        reference: str | None
        placed: bool  # the OMS has the order (a held one takes it when released)

    class RefsUpdated(Aggregate.Event):
        """What reaches the order's customer became known after intake (a bill's customer gave
        their language and e-mail on confirming); the gateway's own, never published."""

        refs: ChannelRefs

    @classmethod
    def receive(
        cls,
        channel: str,
        external_id: str,
        customer: Customer,
        shipping_address: Address,
        lines: list[OrderLine],
        currency: str,
        refs: ChannelRefs | None = None,
        payment_state: str | None = None,
        channel_order_number: str | None = None,
        billing_address: Address | None = None,
        note: str | None = None,
        shipping_lines: list[ShippingLine] | None = None,
        totals: OrderTotals | None = None,
        taxes_included: bool | None = None,
    ) -> ChannelOrder:
        """Take in a canonical order; its id derives from channel + external id."""
        _check_order(channel, external_id, lines)
        return cls(
            order_id=order_id_for(channel, external_id),
            channel=channel,
            external_id=external_id,
            customer=customer,
            shipping_address=shipping_address,
            lines=lines,
            currency=currency,
            refs=refs or {},
            payment_state=payment_state,
            channel_order_number=channel_order_number,
            billing_address=billing_address,
            note=note,
            shipping_lines=shipping_lines,
            totals=totals,
            taxes_included=taxes_included,
        )

    @classmethod
    def hold(
        cls,
        channel: str,
        external_id: str,
        reasons: list[str],
        payload: RawPayload,
        draft: DraftOrder,
    ) -> ChannelOrder:
        """Keep an order that cannot be placed yet, with why and everything the channel sent."""
        if not channel or not external_id:
            raise InvalidChannelOrderError("channel and external_id must not be empty")
        if not reasons:
            raise InvalidChannelOrderError("a hold needs a reason")
        return cls._create(
            cls.Held,
            id=order_id_for(channel, external_id),
            channel=channel,
            external_id=external_id,
            reasons=reasons,
            payload=payload,
            draft=draft,
        )

    @event(Received)
    def __init__(
        self,
        order_id: UUID | None = None,
        channel: str = "",
        external_id: str = "",
        customer: Customer | None = None,
        shipping_address: Address | None = None,
        lines: list[OrderLine] | None = None,
        currency: str | None = None,
        refs: ChannelRefs | None = None,
        payment_state: str | None = None,
        channel_order_number: str | None = None,
        billing_address: Address | None = None,
        note: str | None = None,
        shipping_lines: list[ShippingLine] | None = None,
        totals: OrderTotals | None = None,
        taxes_included: bool | None = None,
    ) -> None:
        # Defaults only serve the Held event, whose apply() then sets the held state.
        self.channel = channel
        self.external_id = external_id
        self.status = ChannelOrderStatus.ACCEPTED
        # A held order keeps what could be translated, so these may be drafts.
        self.customer: Customer | DraftCustomer = customer or {}
        self.shipping_address: Address | DraftAddress = shipping_address or {}
        self.lines: list[OrderLine] | list[DraftLine] = lines or []
        self.currency: str | None = currency
        self.refs: ChannelRefs = refs or {}
        self.payment_state: str | None = payment_state
        # The number the buyer knows the order by (named in the shipping e-mail); the rest of
        # the order's own facts ride along in the public event only.
        self.channel_order_number: str | None = channel_order_number
        self.hold_reasons: list[str] = []
        self.payload: RawPayload | None = None
        self.shipments: list[Shipment] = []
        self.cancellation: Cancellation | None = None
        self.refunds: list[Refund] = []
        self.refund_due = False
        self.revision = 0  # edits of the order's lines the OMS made, counted
        self.edits: list[dict[str, Any]] = []
        self.cancel_requests: list[str] = []  # the buyer's cancellation requests, by reference
        self.cancel_answers: list[str] = []  # those the OMS answered
        self.channel_ship_to: Address | None = None  # the channel changed it after intake
        self.channel_units: dict[str, int] = {}  # line id -> units the channel cut it to
        # Shipment id -> tracking number the channel's logistics gave it.
        self.arranged: dict[str, str] = {}
        # Shipment id -> the carrier's latest word on its parcel.
        self.tracking: dict[str, Tracking] = {}

    @staticmethod
    def create_id(order_id: UUID, **_: Any) -> UUID:
        """The id is chosen outside (derived from channel + external id)."""
        return order_id

    @property
    def refunded_total(self) -> Decimal:
        """Money refunded so far."""
        return sum((Decimal(r["amount"]) for r in self.refunds), Decimal(0))

    @property
    def fully_shipped(self) -> bool:
        """Every ordered unit has left in some shipment (per SKU: a SKU may be on several lines)."""
        shipped = _units([line for s in self.shipments for line in s["lines"]])
        ordered = _units(self.lines)
        return all(shipped.get(sku, 0) >= quantity for sku, quantity in ordered.items())

    def units_before(self, action: str, ref: str) -> dict[str, int]:
        """Units per SKU the shipments (or refunds) recorded before the one named `ref` told of,
        so news of later units goes to the channel lines not yet told of (channels.http)."""
        if action == "shipment":
            earlier = _before(self.shipments, "shipment_id", ref)
        elif action == "refund":
            earlier = _before(self.refunds, "refund_id", ref)
        else:
            return {}
        return _units([line for news in earlier for line in news.get("lines") or []])

    def ensure_held(self) -> None:
        """Raise OrderNotHeldError unless the order is held (only then can it be released)."""
        if self.status != ChannelOrderStatus.HELD:
            raise OrderNotHeldError(f"order {self.id} is {self.status}, not held")

    def release(
        self,
        customer: Customer,
        shipping_address: Address,
        lines: list[OrderLine],
        currency: str,
        refs: ChannelRefs | None = None,
        payment_state: str | None = None,
        channel_order_number: str | None = None,
        billing_address: Address | None = None,
        note: str | None = None,
        shipping_lines: list[ShippingLine] | None = None,
        totals: OrderTotals | None = None,
        taxes_included: bool | None = None,
    ) -> None:
        """Let a held order proceed, now that it translates into a complete canonical order."""
        self.ensure_held()
        _check_order(self.channel, self.external_id, lines)
        if self.payment_state is not None:
            # News that came while the order was held is newer than its first payload.
            payment_state = self.payment_state
        if self.channel_ship_to is not None:
            shipping_address = self.channel_ship_to  # likewise
        self._released(
            channel=self.channel,
            external_id=self.external_id,
            customer=customer,
            shipping_address=shipping_address,
            lines=lines,
            currency=currency,
            refs=refs or {},
            payment_state=payment_state,
            channel_order_number=channel_order_number,
            billing_address=billing_address,
            note=note,
            shipping_lines=shipping_lines,
            totals=totals,
            taxes_included=taxes_included,
        )

    @event(Released)
    def _released(
        self,
        channel: str,
        external_id: str,
        customer: Customer,
        shipping_address: Address,
        lines: list[OrderLine],
        currency: str,
        refs: ChannelRefs,
        payment_state: str | None = None,
        channel_order_number: str | None = None,
        billing_address: Address | None = None,
        note: str | None = None,
        shipping_lines: list[ShippingLine] | None = None,
        totals: OrderTotals | None = None,
        taxes_included: bool | None = None,
    ) -> None:
        self.customer = customer
        self.shipping_address = shipping_address
        self.lines = lines
        self.currency = currency
        self.refs = refs
        self.payment_state = payment_state
        self.channel_order_number = channel_order_number
        self.hold_reasons = []
        self.status = ChannelOrderStatus.ACCEPTED

    def change_payment(self, payment_state: str, reference: str | None) -> bool:
        """The channel's news of the payment; the state it already has is not news."""
        if payment_state == self.payment_state:
            return False
        self._payment_changed(
            channel=self.channel,
            external_id=self.external_id,
            payment_state=payment_state,
            reference=reference,
            placed=self.status != ChannelOrderStatus.HELD,
        )
        return True

    @event(PaymentChanged)
    def _payment_changed(
        self,
        channel: str,
        external_id: str,
        payment_state: str,
        reference: str | None,
        placed: bool,
    ) -> None:
        self.payment_state = payment_state

    def record_shipment(
        self,
        shipment_id: str,
        carrier: str,
        tracking_number: str,
        location_id: str,
        lines: list[ShippedLine],
        shipped_at: str,
        service: str | None = None,
        packages: list[Package] | None = None,
        tracking_shared: bool = True,
        tracking_url: str | None = None,
    ) -> bool:
        """A shipment left with a carrier and tracking number; each shipment counts once.
        `tracking_shared` false: its numbers are the merchant's own, told to nobody."""
        if any(s["shipment_id"] == shipment_id for s in self.shipments):
            return False
        self._shipment_recorded(
            shipment={
                "shipment_id": shipment_id,
                "carrier": carrier,
                "tracking_number": tracking_number,
                "location_id": location_id,
                "lines": lines,
                "shipped_at": shipped_at,
                "service": service,
                "packages": packages or [],
                "tracking_shared": tracking_shared,
                "tracking_url": tracking_url,
            }
        )
        return True

    @event(ShipmentRecorded)
    def _shipment_recorded(self, shipment: Shipment) -> None:
        self.shipments = [*self.shipments, shipment]

    def record_cancellation(
        self, reason: str, cancelled_at: str, payment_state: str | None = None
    ) -> bool:
        """The OMS cancelled the order; a second notice changes nothing. `payment_state` is the
        order's when it was cancelled (absent: the last the channel told of here)."""
        if self.status == ChannelOrderStatus.CANCELLED:
            return False
        self._cancelled(
            reason=reason,
            cancelled_at=cancelled_at,
            payment_state=payment_state or self.payment_state,
        )
        return True

    @event(Cancelled)
    def _cancelled(self, reason: str, cancelled_at: str, payment_state: str | None = None) -> None:
        self.cancellation = {"reason": reason, "cancelled_at": cancelled_at}
        if payment_state is not None:
            self.cancellation["payment_state"] = payment_state
        self.status = ChannelOrderStatus.CANCELLED

    @property
    def refund_on_cancel(self) -> bool:
        """The OMS cancelled the order after the buyer's money was taken: it must go back."""
        if self.cancellation is None or "payment_state" not in self.cancellation:
            return False
        return money_taken(self.cancellation["payment_state"])

    def paid_for_lines(self) -> Decimal | None:
        """What was paid for the order's lines less the refunds recorded (None: not known)."""
        total = Decimal(0)
        lines: Sequence[Mapping[str, Any]] = self.lines
        for line in lines:
            if line.get("paid") is not None:
                total += Decimal(str(line["paid"]))
            elif line.get("unit_price") is not None:
                total += Decimal(str(line["unit_price"])) * int(line["quantity"])
            else:
                return None
        return max(total - self.refunded_total, Decimal(0))

    def record_refund_due(self, due_at: str) -> bool:
        """A paid order cancelled in the OMS that no channel API refunds: the merchant must (told
        once, to the order's timeline)."""
        if self.refund_due or not self.refund_on_cancel or self.cancellation is None:
            return False
        amount = self.paid_for_lines()
        self._refund_due_recorded(
            channel=self.channel,
            external_id=self.external_id,
            reason=f"order cancelled: {self.cancellation['reason']}",
            payment_state=str(self.cancellation.get("payment_state")),
            amount=None if amount is None else format(amount, "f"),
            currency=self.currency,
            due_at=due_at,
        )
        return True

    @event(RefundDue)
    def _refund_due_recorded(
        self,
        channel: str,
        external_id: str,
        reason: str,
        payment_state: str,
        amount: str | None,
        currency: str | None,
        due_at: str,
    ) -> None:
        self.refund_due = True

    def cancel_at_channel(self, reason: str, reference: str | None, cancelled_at: str) -> bool:
        """The channel cancelled the order; an order cancelled already changes nothing (so the
        OMS's own cancel that follows is not sent back to the channel)."""
        if self.status == ChannelOrderStatus.CANCELLED:
            return False
        self._cancelled_at_channel(
            channel=self.channel,
            external_id=self.external_id,
            reason=reason,
            reference=reference,
            cancelled_at=cancelled_at,
            placed=self.status != ChannelOrderStatus.HELD,
        )
        return True

    @event(CancelledAtChannel)
    def _cancelled_at_channel(
        self,
        channel: str,
        external_id: str,
        reason: str,
        reference: str | None,
        cancelled_at: str,
        placed: bool,
    ) -> None:
        self.cancellation = {"reason": f"at the channel: {reason}", "cancelled_at": cancelled_at}
        self.status = ChannelOrderStatus.CANCELLED

    def refund_at_channel(
        self,
        refund_id: str,
        amount: Decimal,
        currency: str,
        refunded_at: str,
        lines: list[RefundLine],
        note: str | None = None,
    ) -> bool:
        """Money went back at the channel itself; each refund counts once (ours, sent to the
        channel and told back, are recorded already under our id)."""
        if any(r["refund_id"] == refund_id for r in self.refunds):
            return False
        refund: Refund = {
            "refund_id": refund_id,
            "amount": format(amount, "f"),
            "currency": currency,
            "refunded_at": refunded_at,
            "lines": lines,
            "reason": "channel",
            "refund_kind": "units" if lines else "amount",
        }
        self._refunded_at_channel(
            channel=self.channel,
            external_id=self.external_id,
            refund=refund,
            note=note,
            placed=self.status != ChannelOrderStatus.HELD,
        )
        return True

    @event(RefundedAtChannel)
    def _refunded_at_channel(
        self, channel: str, external_id: str, refund: Refund, note: str | None, placed: bool
    ) -> None:
        self.refunds = [*self.refunds, refund]

    def sku_of_line(self, line_id: str) -> str | None:
        """Our SKU of the channel's line id (None: no line of the order has it)."""
        lines: Sequence[Mapping[str, Any]] = self.lines
        for line in lines:
            if line.get("line_id") is not None and str(line["line_id"]) == line_id:
                return str(line["sku"]) if line.get("sku") else None
        for ref in self.refs.get("lines") or []:
            if str(ref.get("line_id")) == line_id and ref.get("sku"):
                return str(ref["sku"])
        return None

    def request_cancel(self, reason: str, reference: str, requested_at: str) -> bool:
        """The buyer asked the channel to cancel; recorded once per request, never for an order
        cancelled already. Whether it was news."""
        if self.status == ChannelOrderStatus.CANCELLED or reference in self.cancel_requests:
            return False
        if any(r not in self.cancel_answers for r in self.cancel_requests):
            return False  # one open at a time: the push and the poll see the same request
        self._cancel_requested(
            channel=self.channel,
            external_id=self.external_id,
            reason=reason,
            reference=reference,
            requested_at=requested_at,
            placed=self.status != ChannelOrderStatus.HELD,
        )
        return True

    @event(CancelRequested)
    def _cancel_requested(
        self,
        channel: str,
        external_id: str,
        reason: str,
        reference: str,
        requested_at: str,
        placed: bool,
    ) -> None:
        self.cancel_requests = [*self.cancel_requests, reference]

    def answer_cancel_request(
        self, accepted: bool, why: str, reference: str, answered_at: str
    ) -> bool:
        """The OMS's answer to a buyer's request, recorded once; whether it was news."""
        if reference in self.cancel_answers:
            return False
        self._cancel_request_answered(
            accepted=accepted, why=why, reference=reference, answered_at=answered_at
        )
        return True

    @event(CancelRequestAnswered)
    def _cancel_request_answered(
        self, accepted: bool, why: str, reference: str, answered_at: str
    ) -> None:
        self.cancel_answers = [*self.cancel_answers, reference]
        if accepted and self.status != ChannelOrderStatus.CANCELLED:
            self.cancellation = {"reason": f"buyer's request: {why}", "cancelled_at": answered_at}
            self.status = ChannelOrderStatus.CANCELLED

    def record_shipping_arranged(self, arrangement: ShippingArrangement) -> bool:
        """The channel's logistics took a shipment; recorded once per shipment."""
        if arrangement["shipment_id"] in self.arranged:
            return False
        self._shipping_arranged(
            channel=self.channel, external_id=self.external_id, arrangement=arrangement
        )
        return True

    @event(ShippingArranged)
    def _shipping_arranged(
        self, channel: str, external_id: str, arrangement: ShippingArrangement
    ) -> None:
        shipment_id = arrangement["shipment_id"]
        self.arranged = {**self.arranged, shipment_id: arrangement["tracking_number"]}

    def record_tracking(self, tracking: Tracking) -> bool:
        """The carrier's news of a shipment's parcel; whether it was news: a repeat (a webhook
        sent twice), the same status again or news older than the latest change nothing."""
        latest = self.tracking.get(tracking["shipment_id"])
        if latest is not None and (
            latest["status"] == tracking["status"]
            or _moment(tracking["happened_at"]) <= _moment(latest["happened_at"])
        ):
            return False
        self._shipment_tracked(tracking=tracking)
        return True

    @event(ShipmentTracked)
    def _shipment_tracked(self, tracking: Tracking) -> None:
        self.tracking = {**self.tracking, tracking["shipment_id"]: tracking}

    @property
    def tracking_status(self) -> str | None:
        """The carrier's latest word on any of the order's parcels (None before the first)."""
        if not self.tracking:
            return None
        return max(self.tracking.values(), key=lambda t: _moment(t["happened_at"]))["status"]

    def shipment(self, shipment_id: str) -> Shipment | None:
        """One of the order's shipments that left, by its id."""
        return next((s for s in self.shipments if s["shipment_id"] == shipment_id), None)

    @property
    def in_oms(self) -> bool:
        """Whether the OMS has the order: received, or held and released since."""
        return not self.hold_reasons

    def take_news(self, news: ChannelNews) -> bool:
        """Apply one piece of the channel's news (payment, ship-to or cancellation); whether it
        was news. Payment news that would move the payment back (a late retry of an older update)
        and the ship-to the order has are not."""
        reference, kind = news["reference"], news["kind"]
        if kind == ChangeKind.PAYMENT and "payment_state" in news:
            state = news["payment_state"]
            return moves_on(self.payment_state, state) and self.change_payment(state, reference)
        if kind == ChangeKind.SHIP_TO and "shipping_address" in news:
            return self.change_ship_to_at_channel(news["shipping_address"], reference)
        if kind == ChangeKind.CANCELLATION:
            reason = news.get("reason") or "cancelled at the channel"
            return self.cancel_at_channel(reason, reference, news["received_at"])
        if kind == ChangeKind.LINES and "quantities" in news:
            return self.cut_lines_at_channel(news["quantities"], reference)
        return False

    def cut_lines_at_channel(self, quantities: dict[str, int], reference: str | None) -> bool:
        """The channel's order has fewer units of some lines now (an edit there; a line it no
        longer lists has none): told to the OMS once per cut, whatever the order's state (the
        order service decides whether it still can). Lines added at the channel are not taken."""
        cuts: list[LineCutAtChannel] = []
        told = dict(self.channel_units)
        for line in self.lines:
            line_id, sku = line.get("line_id"), line["sku"]
            if not line_id or not sku:
                continue  # a line an edit in the OMS added: the channel never had it
            ours = min(int(line["quantity"]), told.get(str(line_id), int(line["quantity"])))
            theirs = quantities.get(str(line_id), 0)
            if theirs < ours:
                cuts.append({"line_id": str(line_id), "sku": sku, "quantity": ours - theirs})
                told[str(line_id)] = theirs
        if not cuts or self.status == ChannelOrderStatus.CANCELLED:
            return False
        self._lines_cut_at_channel(
            channel=self.channel,
            external_id=self.external_id,
            cuts=cuts,
            told=told,
            reference=reference,
            placed=self.in_oms,
        )
        return True

    @event(LinesCutAtChannel)
    def _lines_cut_at_channel(
        self,
        channel: str,
        external_id: str,
        cuts: list[LineCutAtChannel],
        told: dict[str, int],
        reference: str | None,
        placed: bool,
    ) -> None:
        self.channel_units = dict(told)

    def change_ship_to_at_channel(self, address: Address, reference: str | None) -> bool:
        """The channel's order ships elsewhere now; the address it has is not news. Told to the
        OMS whatever the order's state: the order service decides whether it still can."""
        if address == self.shipping_address:
            return False
        self._ship_to_changed_at_channel(
            channel=self.channel,
            external_id=self.external_id,
            shipping_address=address,
            reference=reference,
            placed=self.in_oms,
        )
        return True

    def update_refs(self, refs: ChannelRefs) -> bool:
        """Merge newer refs into the order's (those it has already are not news)."""
        merged = {**self.refs, **refs}
        if merged == self.refs:
            return False
        self._refs_updated(refs=merged)
        return True

    @event(RefsUpdated)
    def _refs_updated(self, refs: ChannelRefs) -> None:
        self.refs = refs

    @event(ShipToChangedAtChannel)
    def _ship_to_changed_at_channel(
        self,
        channel: str,
        external_id: str,
        shipping_address: Address,
        reference: str | None,
        placed: bool,
    ) -> None:
        self.shipping_address = shipping_address
        self.channel_ship_to = shipping_address

    def record_refund(
        self,
        refund_id: str,
        amount: Decimal,
        currency: str,
        refunded_at: str,
        lines: list[RefundLine] | None = None,
        reason: str | None = None,
        refund_kind: str | None = None,
    ) -> bool:
        """Money went back to the customer; each refund counts once."""
        if any(r["refund_id"] == refund_id for r in self.refunds):
            return False
        refund: Refund = {
            "refund_id": refund_id,
            "amount": format(amount, "f"),  # exact, and never 1E+3
            "currency": currency,
            "refunded_at": refunded_at,
            "lines": lines or [],
        }
        if reason is not None:
            refund["reason"] = reason
        if refund_kind is not None:
            refund["refund_kind"] = refund_kind
        self._refund_recorded(refund=refund)
        return True

    @event(RefundRecorded)
    def _refund_recorded(self, refund: Refund) -> None:
        self.refunds = [*self.refunds, refund]

    def record_lines_changed(
        self,
        revision: int,
        lines: list[OrderLine],
        cancelled: Sequence[Mapping[str, Any]],
        added: list[OrderLine],
        reason: str,
        source: str,
        changed_at: str,
        told: str,
    ) -> bool:
        """The OMS edited the order's lines; each revision counts once, an older one is old news.

        `cancelled` names lines by their number (1-based) in the order before the edit; the
        channel lines those were follow them (refs keep each channel line's quantity, so later
        shipments and refunds spread over the channel's lines as they are after the edit).
        """
        if revision <= self.revision:
            return False
        changed = self._changed_lines(cancelled)
        additions = [_added_line(revision, n, line, self.refs) for n, line in enumerate(added, 1)]
        self._lines_changed(
            revision=revision,
            lines=lines,
            refs=_refs_after(self.refs, len(self.lines), changed, additions),
            changed=changed,
            added=additions,
            reason=reason,
            source=source,
            changed_at=changed_at,
            told=told,
        )
        return True

    def _changed_lines(self, cancelled: Sequence[Mapping[str, Any]]) -> list[EditedLine]:
        """Per line that lost units: its channel line id and its quantity after the edit."""
        taken: dict[int, int] = {}
        for each in cancelled:
            taken[int(each["line"])] = taken.get(int(each["line"]), 0) + int(each["quantity"])
        line_refs = self.refs.get("lines") or []
        changed: list[EditedLine] = []
        for number, units in sorted(taken.items()):
            if not 1 <= number <= len(self.lines):
                continue  # not a line the gateway knows: nothing a channel could be told
            line: Mapping[str, Any] = self.lines[number - 1]
            ref = line_refs[number - 1] if len(line_refs) == len(self.lines) else {}
            line_id = line.get("line_id") or ref.get("line_id")
            changed.append(
                {
                    "line": number,
                    "line_id": None if line_id is None else str(line_id),
                    "sku": str(line["sku"]),
                    "quantity": max(int(line["quantity"]) - units, 0),
                    "title": line.get("title") or ref.get("title"),
                }
            )
        return changed

    @event(LinesChanged)
    def _lines_changed(
        self,
        revision: int,
        lines: list[OrderLine],
        refs: ChannelRefs,
        changed: list[EditedLine],
        added: list[AddedLine],
        reason: str,
        source: str,
        changed_at: str,
        told: str,
    ) -> None:
        self.revision = revision
        self.lines = lines
        self.refs = refs
        self.edits = [
            *self.edits,
            {
                "revision": revision,
                "reason": reason,
                "source": source,
                "changed_at": changed_at,
                "changed": changed,
                "added": added,
                "told": told,
            },
        ]


def _added_line(
    revision: int, number: int, line: Mapping[str, Any], refs: ChannelRefs
) -> AddedLine:
    """A line an edit added, with the channel's product ids where the order has the SKU."""
    added: AddedLine = {
        "key": f"{revision}:{number}",
        "sku": str(line["sku"]),
        "quantity": int(line["quantity"]),
        "unit_price": str(line["unit_price"]),
        "discount": str(line.get("discount") or "0"),
        "title": str(line.get("title") or line["sku"]),
    }
    for ref in refs.get("lines") or []:
        product = {
            k: ref[k] for k in ("variant_id", "product_id") if ref.get(k) not in (None, 0, "")
        }
        if ref.get("sku") == line["sku"] and product:
            added["product"] = product
            break
    return added


def _refs_after(
    refs: ChannelRefs, old_lines: int, changed: list[EditedLine], added: list[AddedLine]
) -> ChannelRefs:
    """The order's channel refs after an edit: each channel line with its units left (a line
    left with none is gone), then a ref per added line (no channel line id yet)."""
    line_refs = [dict(ref) for ref in refs.get("lines") or []]
    if len(line_refs) == old_lines:  # one ref per line: their quantities follow the edit
        for line in changed:
            line_refs[line["line"] - 1]["quantity"] = line["quantity"]
        line_refs = [ref for ref in line_refs if ref.get("quantity") != 0]
    for new in added:
        line_refs.append(
            {
                "sku": new["sku"],
                "quantity": new["quantity"],
                "title": new["title"],
                "key": new["key"],
                **new.get("product", {}),
            }
        )
    return {**refs, "lines": line_refs}


def _check_order(channel: str, external_id: str, lines: list[OrderLine]) -> None:
    if not channel or not external_id:
        raise InvalidChannelOrderError("channel and external_id must not be empty")
    if not lines:
        raise InvalidChannelOrderError("an order needs at least one line")
    for line in lines:  # a SKU may be on several lines: lines are never merged
        if line["quantity"] <= 0:
            raise InvalidChannelOrderError(f"quantity of SKU {line['sku']} must be positive")


def _units(lines: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Units per SKU of lines, a SKU on several lines added up."""
    units: dict[str, int] = {}
    for line in lines:
        sku = line["sku"] or ""
        units[sku] = units.get(sku, 0) + int(line["quantity"])
    return units


def _before(news: Sequence[Mapping[str, Any]], key: str, ref: str) -> Sequence[Mapping[str, Any]]:
    """The news recorded before the one whose `key` is `ref` (all of it when there is none)."""
    for index, each in enumerate(news):
        if str(each[key]) == ref:
            return news[:index]
    return news


def _moment(stamp: str) -> datetime:
    """An RFC 3339 time (a trailing Z too) as an aware datetime, to compare carriers' times."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
