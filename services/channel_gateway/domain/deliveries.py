"""The Delivery aggregate: one piece of news pushed to a channel (or a customer), with retries."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NotRequired, TypedDict
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.channel_gateway.domain.chat import ChatMessage
from services.channel_gateway.domain.values import (
    CancelAnswer,
    Cancellation,
    ChannelRefs,
    Customer,
    DraftCustomer,
    DraftLine,
    LinesEdit,
    OrderLine,
    Refund,
    Shipment,
    ShippingToArrange,
    Tracking,
)

DELIVERY_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/channel-deliveries")


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"


class DeliveryAction(StrEnum):
    """What news a delivery carries."""

    SHIPMENT = "shipment"
    CANCELLATION = "cancellation"
    REFUND = "refund"
    EDIT = "edit"  # the order's lines were edited in the OMS
    CANCEL_REQUEST = "cancel_request"  # the answer to a buyer's cancellation request
    # A shipment to hand to the channel's own logistics (Shopee: ship_order, airway bill).
    ARRANGE_SHIPPING = "arrange_shipping"
    MESSAGE = "message"  # a message to the customer in their chat (or by e-mail)
    TRACKING = "tracking"  # the carrier's news of a shipped parcel (Shopify: a fulfillment event)


DeliveryDetails = (
    Shipment
    | Cancellation
    | Refund
    | LinesEdit
    | CancelAnswer
    | ShippingToArrange
    | ChatMessage
    | Tracking
)
"""The news itself: a shipment, a cancellation, a refund, an edit of the order's lines, the
answer to a buyer's cancellation request, a shipment for the channel's logistics to take, a
message to the customer, or the carrier's news of a parcel."""


class OrderSnapshot(TypedDict):
    """The order as the gateway knew it when the news was scheduled (all a channel call needs)."""

    customer: Customer | DraftCustomer
    lines: list[OrderLine] | list[DraftLine]
    currency: str | None
    refs: ChannelRefs
    fully_shipped: bool
    # Units per SKU earlier shipments (or refunds) told the channel of; absent on older ones.
    units_before: NotRequired[dict[str, int]]
    # The number the customer knows the order by (Shopify #1001); absent on older ones.
    channel_order_number: NotRequired[str | None]


class DeliveryError(Exception):
    """Base of delivery errors."""


class DeliveryNotFoundError(DeliveryError):
    """No delivery has this id."""


class DeliveryNotRetryableError(DeliveryError):
    """Only failed or skipped deliveries can be retried by hand."""


class DeliveryNotDueError(DeliveryError):
    """An attempt can only start on a pending delivery whose time has come and that no
    attempt holds."""


def delivery_id_for(order_id: UUID, action: str, ref: str) -> UUID:
    """The delivery id derived from what is delivered, so scheduling twice finds the first."""
    return uuid5(DELIVERY_NAMESPACE, f"{order_id}:{action}:{ref}")


class Delivery(Aggregate):
    """News for a channel: tracking, a cancellation or a refund, delivered at most once there."""

    class Scheduled(Aggregate.Created):
        """News to deliver; it carries all the worker needs (the refs and the customer too)."""

        delivery_id: UUID
        order_id: UUID
        channel: str
        external_id: str
        action: str
        details: DeliveryDetails
        order: OrderSnapshot
        due_at: str

    class AttemptStarted(Aggregate.Event):
        """An attempt holds the delivery until it ends or its lease runs out (recorded before
        the channel is called: of two workers, the one whose event is stored first attempts)."""

        attempt_id: str
        started_at: str
        lease_until: str

    class Delivered(Aggregate.Event):
        """The channel has the news."""

        outcome: str
        delivered_at: str
        attempt_id: str | None = None  # None in events stored before attempts were claimed

    class AttemptFailed(Aggregate.Event):
        """An attempt failed; without a retry time the delivery has failed for good."""

        error: str
        failed_at: str
        retry_at: str | None
        attempt_id: str | None = None  # None in events stored before attempts were claimed

    class Skipped(Aggregate.Event):
        """Nothing could be delivered, for a reason ops can fix."""

        reason: str
        skipped_at: str

    class Retried(Aggregate.Event):
        """Ops asked for another round of attempts."""

        requested_at: str

    @event(Scheduled)
    def __init__(
        self,
        delivery_id: UUID,
        order_id: UUID,
        channel: str,
        external_id: str,
        action: str,
        details: DeliveryDetails,
        order: OrderSnapshot,
        due_at: str,
    ) -> None:
        self.order_id = order_id
        self.channel = channel
        self.external_id = external_id
        self.action = DeliveryAction(action)
        self.details = details
        self.order = order
        self.status = DeliveryStatus.PENDING
        self.due_at: str | None = due_at
        self.attempts = 0
        self.round_attempts = 0
        self.last_error: str | None = None
        self.outcome: str | None = None
        self.attempt_id: str | None = None  # the attempt under way, if any
        self.lease_until: str | None = None  # no other attempt starts before this

    @staticmethod
    def create_id(delivery_id: UUID, **_: Any) -> UUID:
        """The id is derived outside from order, action and reference."""
        return delivery_id

    def is_due(self, now: str) -> bool:
        """Pending, its next attempt time has come, and no attempt holds it."""
        return (
            self.status == DeliveryStatus.PENDING
            and (self.due_at is None or self.due_at <= now)
            and not self.in_flight(now)
        )

    def in_flight(self, now: str) -> bool:
        """An attempt holds the delivery and its lease has not run out."""
        return self.lease_until is not None and self.lease_until > now

    def start_attempt(self, attempt_id: str, at: str, lease_until: str) -> None:
        """Claim the delivery for one attempt until `lease_until` (before calling the channel)."""
        if not self.is_due(at):
            raise DeliveryNotDueError(f"delivery {self.id} is {self.status}, not due at {at}")
        self._attempt_started(attempt_id=attempt_id, started_at=at, lease_until=lease_until)

    @event(AttemptStarted)
    def _attempt_started(self, attempt_id: str, started_at: str, lease_until: str) -> None:
        self.attempts += 1
        self.round_attempts += 1
        self.attempt_id = attempt_id
        self.lease_until = lease_until

    def _ends(self, attempt_id: str | None) -> bool:
        """Whether an outcome of this attempt (None: not claimed) may change the delivery.

        An attempt whose lease ran out and that another attempt took over says nothing more:
        the later attempt records its own outcome.
        """
        return self.status == DeliveryStatus.PENDING and (
            attempt_id is None or attempt_id == self.attempt_id
        )

    def _count_attempt(self, attempt_id: str | None) -> None:
        """Count an attempt that was not counted when it started (events of before claims)."""
        if attempt_id is None:
            self.attempts += 1
            self.round_attempts += 1
        self.attempt_id = None
        self.lease_until = None

    def succeed(self, outcome: str, at: str, attempt_id: str | None = None) -> None:
        """The channel has the news (or already had it), whichever attempt got it there."""
        if self.status != DeliveryStatus.PENDING:
            return  # a lapsed attempt that got through after all still counts (it started)
        self._delivered(outcome=outcome[:500], delivered_at=at, attempt_id=attempt_id)

    @event(Delivered)
    def _delivered(self, outcome: str, delivered_at: str, attempt_id: str | None = None) -> None:
        self._count_attempt(attempt_id)
        self.status = DeliveryStatus.DELIVERED
        self.outcome = outcome
        self.due_at = None

    def fail(
        self, error: str, at: str, retry_at: str | None, attempt_id: str | None = None
    ) -> None:
        """An attempt failed; without a retry time the delivery has failed for good."""
        if not self._ends(attempt_id):
            return
        self._attempt_failed(
            error=error[:1000], failed_at=at, retry_at=retry_at, attempt_id=attempt_id
        )

    @event(AttemptFailed)
    def _attempt_failed(
        self, error: str, failed_at: str, retry_at: str | None, attempt_id: str | None = None
    ) -> None:
        self._count_attempt(attempt_id)
        self.last_error = error
        self.due_at = retry_at
        self.status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED

    def skip(self, reason: str, at: str, attempt_id: str | None = None) -> None:
        """Nothing can be delivered (no connection, no SMTP server); visible, retryable."""
        if not self._ends(attempt_id):
            return
        self._skipped(reason=reason[:500], skipped_at=at)

    @event(Skipped)
    def _skipped(self, reason: str, skipped_at: str) -> None:
        self.status = DeliveryStatus.SKIPPED
        self.last_error = reason
        self.due_at = None
        self.attempt_id = None
        self.lease_until = None

    def retry(self, at: str) -> None:
        """Ops ask for another round of attempts after a failure or a skip."""
        if self.status not in (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED):
            raise DeliveryNotRetryableError(f"delivery {self.id} is {self.status}")
        self._retried(requested_at=at)

    @event(Retried)
    def _retried(self, requested_at: str) -> None:
        self.status = DeliveryStatus.PENDING
        self.due_at = requested_at
        self.round_attempts = 0
