"""Use cases of intake: take a translated order in, alone or many in one transaction."""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from psycopg.sql import SQL, Identifier

from services.channel_gateway.application.canonical import canonical_address
from services.channel_gateway.application.deliveries import utc_stamp
from services.channel_gateway.domain import (
    Address,
    CanonicalOrder,
    ChangeKind,
    ChannelChange,
    ChannelNews,
    ChannelOrder,
    ChannelOrderError,
    ChannelOrderStatus,
    ChannelRefs,
    Customer,
    DraftOrder,
    OrderLine,
    RawPayload,
    RefundLine,
    change_id_for,
    order_id_for,
)
from shared.payments import ASSUMED
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


class NewsStatus(StrEnum):
    """What became of a channel's news of an order (the webhook's answer says it)."""

    CANCELLATION_RECORDED = "cancellation_recorded"
    PAYMENT_RECORDED = "payment_recorded"
    SHIP_TO_CHANGED = "ship_to_changed"
    LINES_CUT = "lines_cut"  # an edit at the channel took units off the order's lines
    UNCHANGED = "unchanged"  # nothing in it was news
    CANCEL_REQUEST_RECORDED = "cancel_request_recorded"  # the buyer asked to cancel (Shopee)
    IGNORED = "ignored"  # nothing the OMS acts on (a status it does not follow)
    KEPT = "kept"  # the order was never taken in: kept for when it is (GET /v1/channel-changes)


class NewsResult(NamedTuple):
    """What became of a channel's news: the order it is of, and, when kept, the record's id."""

    order_id: UUID
    status: NewsStatus
    change_id: UUID | None = None


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
        self,
        translation: Translation,
        new: bool = False,
        uow: UnitOfWork | None = None,
        kept: bool | None = None,
    ) -> IntakeResult:
        """Receive or hold one translated order; news of it kept before it came is applied.

        `new` says the caller already knows the order is not stored yet, `kept` whether news of
        it was kept (None: not known); each saves a read.
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
            if kept is not False:
                _apply_kept(work, order)
            with traced(*astuple(translation.trace)):
                work.stamp_pending()
            result = IntakeResult(order.id, order.status, created=True)
        if uow is None:  # committed here: news kept meanwhile is applied (see _apply_crossed)
            self._apply_crossed([translation])
        return result

    @use_case
    def apply_kept(self, channel: str, external_id: str, uow: UnitOfWork | None = None) -> bool:
        """News kept of an order that was taken in meanwhile is applied to it; whether any was."""
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id_for(channel, external_id), ChannelOrder)
            return order is not None and _apply_kept(work, order)

    def _apply_crossed(self, translations: list[Translation]) -> None:
        """News kept while these orders were taken in, unseen by the intake's transaction (the two
        crossed), is applied now. Each side looks for the other after its own commit (news kept:
        is the order there now?), so of two that cross, one always sees the other."""
        by_change = {change_id_for(t.channel, t.external_id): t for t in translations}
        stored = self._stored_ids(list(by_change))
        for change_id, translation in by_change.items():
            if change_id in stored if stored is not None else self._exists(change_id):
                with traced(*astuple(translation.trace)):
                    self.apply_kept(translation.channel, translation.external_id)

    @use_case
    def take_in_news(
        self,
        translation: Translation,
        reference: str | None,
        cancelled: str | None = None,
        quantities: dict[str, int] | None = None,
        uow: UnitOfWork | None = None,
    ) -> NewsResult:
        """The channel sent an order again after it changed (a webhook carrying the whole order,
        or the reconciliation poll): its cancellation (`cancelled`: the channel's reason), else
        its payment, its ship-to and the units of its lines now (`quantities`, by line id).

        An order taken in records what is news: a payment that moves on (a late retry of an
        older update would move it back: not news), another ship-to (normalised as intake does),
        a cancellation once. An order never taken in is not taken in now (update webhooks come
        for any edit of any order, shipped and archived ones too: taken in, they would ship
        again): its news is kept, one record per channel order, applied when the order comes.
        """
        if cancelled is not None:
            news = [_news(ChangeKind.CANCELLATION, reference, reason=cancelled)]
        else:
            news = whole_order_news(translation, reference, quantities)
        channel, external_id = translation.channel, translation.external_id
        return self._take_news(channel, external_id, news, translation.trace, uow)

    @use_case
    def take_in_cancellation(
        self,
        channel: str,
        external_id: str,
        reason: str,
        reference: str | None,
        uow: UnitOfWork | None = None,
    ) -> NewsResult:
        """The channel cancelled an order (it said only which): recorded once and the OMS told;
        kept for when the order comes if it was never taken in."""
        news = [_news(ChangeKind.CANCELLATION, reference, reason=reason)]
        return self._take_news(channel, external_id, news, current_trace(), uow)

    def _take_news(
        self,
        channel: str,
        external_id: str,
        news: list[ChannelNews],
        trace: Trace,
        uow: UnitOfWork | None,
    ) -> NewsResult:
        with self.app.unit_of_work(uow) as work:
            order = work.find(order_id_for(channel, external_id), ChannelOrder)
            if order is not None:
                taken = [n["kind"] for n in news if order.take_news(n)]
                with traced(*astuple(trace)):
                    work.stamp_pending()
                return NewsResult(order.id, _status(taken))
            result = _keep(work, channel, external_id, news)
        if uow is None and self.knows_order(channel, external_id):
            with traced(*astuple(trace)):  # the order came meanwhile
                self.apply_kept(channel, external_id)
        return result

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
        return self._exists(order_id_for(channel, external_id))

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    def _take_in_together(
        self, translations: list[Translation], cursor: tuple[str, str] | None
    ) -> list[IntakeResult | Exception]:
        uow = UnitOfWork(self.app)
        ids = [order_id_for(t.channel, t.external_id) for t in translations]
        changes = [change_id_for(t.channel, t.external_id) for t in translations]
        stored = self._stored_ids(ids + changes)  # orders, and news kept of them
        seen: set[UUID] = set()
        results: list[IntakeResult | Exception] = []
        unseen: list[Translation] = []  # taken in now, no news kept of them when looked
        for order_id, change_id, translation in zip(ids, changes, translations, strict=True):
            new = stored is not None and order_id not in stored and order_id not in seen
            kept = None if stored is None else change_id in stored
            seen.add(order_id)
            try:
                result = self.take_in_one(translation, new, uow=uow, kept=kept)
            except ChannelOrderError as error:
                results.append(error)
                continue
            results.append(result)
            if result.created and kept is False:
                unseen.append(translation)
        if cursor is not None:
            self.app.connections.advance_cursor(*cursor, uow=uow)
        uow.commit()
        if unseen:
            self._apply_crossed(unseen)
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
        # One statement on an autocommit connection: a transaction rolled back cost a round
        # trip more and made psycopg drop the connection's prepared statements (DEALLOCATE ALL).
        with datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query.format(Identifier(schema), Identifier(table)), (ids,), prepare=True)
            return {row["originator_id"] for row in curs.fetchall()}

    def _take_in_alone(self, translation: Translation) -> IntakeResult | Exception:
        try:
            return self.take_in_one(translation)
        except ChannelOrderError as error:
            return error


def _apply_kept(work: UnitOfWork, order: ChannelOrder) -> bool:
    """News of the order kept before it came (webhooks out of order) is applied to it: a payment
    moves it on, a cancellation cancels it; the kept record says applied. Whether any was."""
    change = work.find(change_id_for(order.channel, order.external_id), ChannelChange)
    news = [] if change is None else change.to_apply()
    if change is None or not news:
        return False
    change.mark_applied([n["kind"] for n in news if order.take_news(n)], utc_stamp())
    return True


def whole_order_news(
    translation: Translation, reference: str | None, quantities: dict[str, int] | None = None
) -> list[ChannelNews]:
    """What a whole order sent again says: its payment state, its ship-to when it is a whole
    postal address (normalised as intake stores it, so the same place compares equal), and the
    units of each of its lines now (an edit at the channel may have cut them)."""
    state = str((translation.order or translation.draft).get("payment_state", ASSUMED))
    news = [_news(ChangeKind.PAYMENT, reference, payment_state=state)]
    if translation.order is not None:
        address: Address | None = translation.order["shipping_address"]
    else:
        address = canonical_address(translation.draft.get("shipping_address") or {})
    if address is not None:
        news.append(_news(ChangeKind.SHIP_TO, reference, shipping_address=address))
    if quantities is not None:
        news.append(_news(ChangeKind.LINES, reference, quantities=quantities))
    return news


def _news(
    kind: ChangeKind,
    reference: str | None,
    *,
    payment_state: str | None = None,
    reason: str | None = None,
    shipping_address: Address | None = None,
    quantities: dict[str, int] | None = None,
) -> ChannelNews:
    """One piece of news, received now, saying only what its kind says."""
    news: ChannelNews = {"kind": kind.value, "reference": reference, "received_at": utc_stamp()}
    if payment_state is not None:
        news["payment_state"] = payment_state
    if reason is not None:
        news["reason"] = reason
    if shipping_address is not None:
        news["shipping_address"] = shipping_address
    if quantities is not None:
        news["quantities"] = quantities
    return news


def _keep(work: UnitOfWork, channel: str, external_id: str, news: list[ChannelNews]) -> NewsResult:
    """News of an order never taken in: kept (what of it is news), one record per order."""
    change_id = change_id_for(channel, external_id)
    change = work.find(change_id, ChannelChange)
    if change is None:
        work.add(ChannelChange.keep(channel, external_id, news))
    else:
        change.add(news)
    return NewsResult(order_id_for(channel, external_id), NewsStatus.KEPT, change_id)


def _status(kinds: list[str]) -> NewsStatus:
    """The answer to news of which these kinds were recorded (a cancellation says the most)."""
    for kind, status in (
        (ChangeKind.CANCELLATION, NewsStatus.CANCELLATION_RECORDED),
        (ChangeKind.PAYMENT, NewsStatus.PAYMENT_RECORDED),
        (ChangeKind.SHIP_TO, NewsStatus.SHIP_TO_CHANGED),
        (ChangeKind.LINES, NewsStatus.LINES_CUT),
    ):
        if kind in kinds:
            return status
    return NewsStatus.UNCHANGED
