"""Use cases of channel orders: intake (alone or in batches), holds, releases, OMS news."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from psycopg.sql import SQL, Identifier

from services.channel_gateway.domain import (
    ChannelOrder,
    ChannelOrderError,
    ChannelOrderNotFoundError,
    order_id_for,
)
from shared.runtime.application import UnitOfWork, retry_on_conflict
from shared.runtime.tracing import Trace, current_trace, traced


class Intake(NamedTuple):
    """What became of an order handed to the gateway."""

    order_id: UUID
    status: str
    created: bool


@dataclass(frozen=True)
class IntakeCommand:
    """A translated channel order: the canonical order to place, or why it must be held."""

    channel: str
    external_id: str
    order: dict[str, Any] | None = None  # customer, shipping_address, lines, currency, refs
    reasons: list[str] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    draft: dict[str, Any] = field(default_factory=dict)
    # The request that brought the order: its id becomes the correlation id of the events,
    # also when the order is committed later by the intake thread (group commit).
    trace: Trace = field(default_factory=current_trace)


class OrderCases:
    """Channel order use cases (mixed into the gateway application)."""

    def receive_order(
        self,
        channel: str,
        external_id: str,
        customer: dict[str, Any],
        shipping_address: dict[str, Any],
        lines: list[dict[str, Any]],
        currency: str,
        refs: dict[str, Any] | None = None,
        uow: UnitOfWork | None = None,
    ) -> Intake:
        """Take in a canonical order; the same order again changes nothing and says so."""
        command = IntakeCommand(
            channel,
            external_id,
            order={
                "customer": customer,
                "shipping_address": shipping_address,
                "lines": lines,
                "currency": currency,
                "refs": refs,
            },
        )
        with self.unit_of_work(uow) as work:  # type: ignore[attr-defined]
            return self.take_in_one(command, work)

    def take_in_one(self, command: IntakeCommand, uow: UnitOfWork, new: bool = False) -> Intake:
        """Receive or hold one translated order inside the caller's unit of work.

        `new` says the caller already knows the order is not stored yet (saves a read).
        """
        order_id = order_id_for(command.channel, command.external_id)
        existing = None if new else uow.find(order_id, ChannelOrder)
        if existing is not None:
            return Intake(existing.id, existing.status, created=False)
        if command.order is not None:
            order = ChannelOrder.receive(
                channel=command.channel, external_id=command.external_id, **command.order
            )
        else:
            order = ChannelOrder.hold(
                command.channel,
                command.external_id,
                command.reasons,
                command.payload,
                command.draft,
            )
        uow.add(order)
        with traced(command.trace.correlation_id, command.trace.causation_id):
            uow.stamp_pending()
        return Intake(order.id, order.status, created=True)

    def take_in(
        self, commands: list[IntakeCommand], cursor: tuple[str, str] | None = None
    ) -> list[Intake | Exception]:
        """Many orders in one transaction (group commit); per order its intake or its error.

        With a cursor (channel id, position), the poll position is saved in the same transaction,
        so a poller that restarts neither misses nor repeats an order.
        """
        try:
            return self._take_in_together(commands, cursor)
        except IntegrityError:
            pass  # another writer took one of these ids first: take them one at a time
        results = [self._take_in_alone(command) for command in commands]
        if cursor is not None:
            retry_on_conflict(self.advance_cursor, *cursor)  # type: ignore[attr-defined]
        return results

    def _take_in_together(
        self, commands: list[IntakeCommand], cursor: tuple[str, str] | None
    ) -> list[Intake | Exception]:
        uow = UnitOfWork(self)  # type: ignore[arg-type]
        ids = [order_id_for(c.channel, c.external_id) for c in commands]
        stored = self._stored_ids(ids)
        seen: set[UUID] = set()
        results: list[Intake | Exception] = []
        for order_id, command in zip(ids, commands, strict=True):
            new = stored is not None and order_id not in stored and order_id not in seen
            seen.add(order_id)
            try:
                results.append(self.take_in_one(command, uow, new=new))
            except ChannelOrderError as error:
                results.append(error)
        if cursor is not None:
            self.advance_cursor(*cursor, uow=uow)  # type: ignore[attr-defined]
        uow.commit()
        return results

    def _stored_ids(self, ids: list[UUID]) -> set[UUID] | None:
        """Which of these ids have events, in one query; None where the store cannot say.

        Why: reading each new order's (empty) history one by one cost more than its insert.
        """
        recorder: Any = self.recorder  # type: ignore[attr-defined]
        datastore = getattr(recorder, "datastore", None)
        table = getattr(recorder, "events_table_name", None)
        schema = getattr(datastore, "schema", None)
        if datastore is None or table is None or schema is None:
            return None  # the in-memory store of unit tests
        query = SQL("SELECT DISTINCT originator_id FROM {}.{} WHERE originator_id = ANY(%s)")
        with datastore.transaction(commit=False) as curs:
            curs.execute(query.format(Identifier(schema), Identifier(table)), (ids,))
            return {row["originator_id"] for row in curs.fetchall()}

    def _take_in_alone(self, command: IntakeCommand) -> Intake | Exception:
        try:
            return retry_on_conflict(self._take_in_own_unit, command)
        except ChannelOrderError as error:
            return error

    def _take_in_own_unit(self, command: IntakeCommand) -> Intake:
        with self.unit_of_work() as uow:  # type: ignore[attr-defined]
            return self.take_in_one(command, uow)

    def knows_order(self, channel: str, external_id: str) -> bool:
        """Whether this channel order was taken in before (received or held)."""
        try:
            self.repository.get(order_id_for(channel, external_id))  # type: ignore[attr-defined]
        except AggregateNotFoundError:
            return False
        return True

    def release_order(self, order_id: UUID, order: dict[str, Any]) -> Intake:
        """A held order now translates completely: let it proceed."""
        with self.unit_of_work() as uow:  # type: ignore[attr-defined]
            held = uow.find(order_id, ChannelOrder)
            if held is None:
                raise ChannelOrderNotFoundError(f"no channel order {order_id}")
            held.release(**order)
            return Intake(held.id, held.status, created=False)

    def record_shipment(
        self, order_id: UUID, shipment: dict[str, Any], uow: UnitOfWork | None = None
    ) -> ChannelOrder | None:
        """A shipment of this order left; the order when it is news, else None."""
        with self.unit_of_work(uow) as work:  # type: ignore[attr-defined]
            order = work.find(order_id, ChannelOrder)
            return order if order is not None and order.record_shipment(**shipment) else None

    def record_cancellation(
        self, order_id: UUID, reason: str, cancelled_at: str, uow: UnitOfWork | None = None
    ) -> ChannelOrder | None:
        """The OMS cancelled this order; the order when it is news, else None."""
        with self.unit_of_work(uow) as work:  # type: ignore[attr-defined]
            order = work.find(order_id, ChannelOrder)
            news = order is not None and order.record_cancellation(reason, cancelled_at)
            return order if news else None

    def record_refund(
        self,
        order_id: UUID,
        refund_id: str,
        amount: Decimal,
        currency: str,
        refunded_at: str,
        uow: UnitOfWork | None = None,
        lines: list[dict[str, Any]] | None = None,
    ) -> ChannelOrder | None:
        """Money went back for this order; the order when it is news, else None."""
        with self.unit_of_work(uow) as work:  # type: ignore[attr-defined]
            order = work.find(order_id, ChannelOrder)
            news = order is not None and order.record_refund(
                refund_id, amount, currency, refunded_at, lines
            )
            return order if news else None

    def get_order(self, order_id: UUID) -> ChannelOrder:
        """The channel order as its events say it is now."""
        try:
            order: Any = self.repository.get(order_id)  # type: ignore[attr-defined]
        except AggregateNotFoundError:
            raise ChannelOrderNotFoundError(f"no channel order {order_id}") from None
        if not isinstance(order, ChannelOrder):
            raise ChannelOrderNotFoundError(f"no channel order {order_id}")
        return order
