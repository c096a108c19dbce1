"""Use cases of intake: take a translated order in, alone or many in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from psycopg.sql import SQL, Identifier

from services.channel_gateway.application.deliveries import utc_stamp
from services.channel_gateway.domain import (
    Address,
    CanonicalOrder,
    ChannelOrder,
    ChannelOrderError,
    ChannelOrderStatus,
    ChannelRefs,
    Customer,
    DraftOrder,
    OrderLine,
    RawPayload,
    RefundLine,
    order_id_for,
)
from shared.payments import ASSUMED, moves_on
from shared.runtime.application import UnitOfWork, UseCases, use_case
from shared.runtime.tracing import Trace, current_trace, traced

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders


@dataclass
class Translation:
    """A channel order translated for intake: the canonical order to place, or why it is held.

    The channel adapters produce it, intake stores it: received when `order` is there, else
    held with its reasons, everything the channel sent, and the draft translated so far.
    """

    channel: str
    external_id: str
    payload: RawPayload = field(default_factory=dict)
    order: CanonicalOrder | None = None
    reasons: list[str] = field(default_factory=list)
    draft: DraftOrder = field(default_factory=DraftOrder)
    # The request that brought the order: its id becomes the correlation id of the events,
    # also when the order is committed later by the intake thread (group commit).
    trace: Trace = field(default_factory=current_trace)

    @property
    def held(self) -> bool:
        """The order cannot be placed yet."""
        return self.order is None


@dataclass(frozen=True)
class ChannelRefund:
    """A refund made at the channel, as its adapter read it: money and units per channel line.

    `ours` is our own refund id when the refund is one the OMS sent (told back by the channel).
    """

    channel: str
    external_id: str
    refund_id: str
    amount: Decimal
    currency: str | None
    refunded_at: str
    lines: list[tuple[str, int, Decimal]] = field(default_factory=list)  # line id, units, money
    note: str | None = None
    ours: str | None = None


class IntakeResult(NamedTuple):
    """What became of an order handed to the gateway."""

    order_id: UUID
    status: ChannelOrderStatus
    created: bool


class Intake(UseCases["ChannelOrders"]):
    """Orders in from every channel: received whole, or held with the reasons."""

    app: ChannelOrders  # the application composing this group (for the type checker)

    @use_case
    def receive_order(
        self,
        channel: str,
        external_id: str,
        customer: Customer,
        shipping_address: Address,
        lines: list[OrderLine],
        currency: str,
        refs: ChannelRefs | None = None,
        uow: UnitOfWork | None = None,
    ) -> IntakeResult:
        """Take in a canonical order; the same order again changes nothing and says so."""
        order: CanonicalOrder = {
            "customer": customer,
            "shipping_address": shipping_address,
            "lines": lines,
            "currency": currency,
        }
        if refs is not None:
            order["refs"] = refs
        return self.take_in_one(Translation(channel, external_id, order=order), uow=uow)

    @use_case
    def take_in_one(
        self, translation: Translation, new: bool = False, uow: UnitOfWork | None = None
    ) -> IntakeResult:
        """Receive or hold one translated order.

        `new` says the caller already knows the order is not stored yet (saves a read).
        """
        with self.app.unit_of_work(uow) as work:
            order_id = order_id_for(translation.channel, translation.external_id)
            existing = None if new else work.find(order_id, ChannelOrder)
            if existing is not None:
                return IntakeResult(existing.id, existing.status, created=False)
            if translation.order is not None:
                order = ChannelOrder.receive(
                    channel=translation.channel,
                    external_id=translation.external_id,
                    **translation.order,
                )
            else:
                order = ChannelOrder.hold(
                    translation.channel,
                    translation.external_id,
                    translation.reasons,
                    translation.payload,
                    translation.draft,
                )
            work.add(order)
            with traced(translation.trace.correlation_id, translation.trace.causation_id):
                work.stamp_pending()
            return IntakeResult(order.id, order.status, created=True)

    @use_case
    def take_in_payment(
        self, translation: Translation, reference: str | None, uow: UnitOfWork | None = None
    ) -> IntakeResult | None:
        """A channel's news that an order's payment moved on (it sends the whole order).

        An order taken in before records the new state, which the order service then acts on;
        news that would move it back (a late retry of an older update) is older than what we
        know and is not recorded. News of an order never taken in is not an order: update
        webhooks come for any edit of any order, shipped and archived ones too, so taking those
        in would ship them again; None then. `created` says whether anything was recorded.
        """
        with self.app.unit_of_work(uow) as work:
            order_id = order_id_for(translation.channel, translation.external_id)
            existing = work.find(order_id, ChannelOrder)
            if existing is None:
                return None
            state = str((translation.order or translation.draft).get("payment_state", ASSUMED))
            if not moves_on(existing.payment_state, state):
                return IntakeResult(existing.id, existing.status, created=False)
            changed = existing.change_payment(state, reference)
            with traced(translation.trace.correlation_id, translation.trace.causation_id):
                work.stamp_pending()
            return IntakeResult(existing.id, existing.status, created=changed)

    @use_case
    def take_in_cancellation(
        self,
        channel: str,
        external_id: str,
        reason: str,
        reference: str | None,
        uow: UnitOfWork | None = None,
    ) -> IntakeResult | None:
        """The channel cancelled an order: recorded once, and the OMS is told; None when the order
        was never taken in (there is nothing of ours to cancel)."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id_for(channel, external_id), ChannelOrder)
            if order is None:
                return None
            news = order.cancel_at_channel(reason, reference, utc_stamp())
            return IntakeResult(order.id, order.status, created=news)

    @use_case
    def take_in_refund(
        self, refund: ChannelRefund, uow: UnitOfWork | None = None
    ) -> IntakeResult | None:
        """A refund made at the channel: recorded once and the OMS told; one of our own refunds
        told back is recorded already (nothing twice). None for an order never taken in."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id_for(refund.channel, refund.external_id), ChannelOrder)
            if order is None:
                return None
            if refund.ours is not None:
                return IntakeResult(order.id, order.status, created=False)
            lines: list[RefundLine] = []
            for line_id, quantity, amount in refund.lines:
                sku = order.sku_of_line(line_id)
                if sku is not None and quantity > 0:  # a line not ours still counts as money
                    lines.append({"sku": sku, "quantity": quantity, "amount": format(amount, "f")})
            news = order.refund_at_channel(
                refund.refund_id,
                refund.amount,
                refund.currency or order.currency or "",
                refund.refunded_at,
                lines,
                refund.note,
            )
            return IntakeResult(order.id, order.status, created=news)

    @use_case
    def take_in_cancel_request(
        self,
        channel: str,
        external_id: str,
        reason: str,
        reference: str,
        uow: UnitOfWork | None = None,
    ) -> IntakeResult | None:
        """The buyer asked the channel to cancel an order: recorded once per request, and the OMS
        decides; None when the order was never taken in (nothing of ours to answer for)."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id_for(channel, external_id), ChannelOrder)
            if order is None:
                return None
            news = order.request_cancel(reason, reference, utc_stamp())
            return IntakeResult(order.id, order.status, created=news)

    def take_in(
        self, translations: list[Translation], cursor: tuple[str, str] | None = None
    ) -> list[IntakeResult | Exception]:
        """Many orders in one transaction (group commit); per order its result or its error.

        With a cursor (channel id, position), the poll position is saved in the same transaction,
        so a poller that restarts neither misses nor repeats an order. Not a @use_case on
        purpose: losing a conflict here means another writer took one of these ids first, and
        the answer is to take them one at a time, each its own use case (and so retried).
        """
        try:
            return self._take_in_together(translations, cursor)
        except IntegrityError:
            pass  # another writer took one of these ids first: take them one at a time
        results = [self._take_in_alone(translation) for translation in translations]
        if cursor is not None:
            self.app.connections.advance_cursor(*cursor)
        return results

    def knows_order(self, channel: str, external_id: str) -> bool:
        """Whether this channel order was taken in before (received or held)."""
        try:
            self.app.repository.get(order_id_for(channel, external_id))
        except AggregateNotFoundError:
            return False
        return True

    def _take_in_together(
        self, translations: list[Translation], cursor: tuple[str, str] | None
    ) -> list[IntakeResult | Exception]:
        uow = UnitOfWork(self.app)
        ids = [order_id_for(t.channel, t.external_id) for t in translations]
        stored = self._stored_ids(ids)
        seen: set[UUID] = set()
        results: list[IntakeResult | Exception] = []
        for order_id, translation in zip(ids, translations, strict=True):
            new = stored is not None and order_id not in stored and order_id not in seen
            seen.add(order_id)
            try:
                results.append(self.take_in_one(translation, new, uow=uow))
            except ChannelOrderError as error:
                results.append(error)
        if cursor is not None:
            self.app.connections.advance_cursor(*cursor, uow=uow)
        uow.commit()
        return results

    def _stored_ids(self, ids: list[UUID]) -> set[UUID] | None:
        """Which of these ids have events, in one query; None where the store cannot say.

        Why: reading each new order's (empty) history one by one cost more than its insert.
        """
        recorder: Any = self.app.recorder
        datastore = getattr(recorder, "datastore", None)
        table = getattr(recorder, "events_table_name", None)
        schema = getattr(datastore, "schema", None)
        if datastore is None or table is None or schema is None:
            return None  # the in-memory store of unit tests
        query = SQL("SELECT DISTINCT originator_id FROM {}.{} WHERE originator_id = ANY(%s)")
        with datastore.transaction(commit=False) as curs:
            curs.execute(query.format(Identifier(schema), Identifier(table)), (ids,))
            return {row["originator_id"] for row in curs.fetchall()}

    def _take_in_alone(self, translation: Translation) -> IntakeResult | Exception:
        try:
            return self.take_in_one(translation)
        except ChannelOrderError as error:
            return error
