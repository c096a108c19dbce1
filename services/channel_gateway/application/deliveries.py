"""Use cases of deliveries: schedule news, claim and record each attempt, retry by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.channel_gateway.domain import (
    ChannelOrder,
    Delivery,
    DeliveryAction,
    DeliveryDetails,
    DeliveryNotFoundError,
    ShippingArrangement,
    delivery_id_for,
)
from shared.runtime.application import UnitOfWork, UseCases, use_case

if TYPE_CHECKING:
    from services.channel_gateway.application import ChannelOrders


def utc_stamp(moment: datetime | None = None) -> str:
    """A UTC time as a fixed-width string, so stamps compare correctly as text."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Deliveries(UseCases["ChannelOrders"]):
    """News for the channels: scheduled once, attempted by the worker, retried by ops."""

    app: ChannelOrders  # the application composing this group (for the type checker)

    @use_case
    def schedule(
        self,
        order: ChannelOrder,
        action: DeliveryAction,
        ref: str,
        details: DeliveryDetails,
        due_at: str,
        uow: UnitOfWork,
    ) -> Delivery | None:
        """Schedule news for the order's channel; the same news twice is scheduled once."""
        delivery_id = delivery_id_for(order.id, action, ref)
        if uow.find(delivery_id, Delivery) is not None:
            return None
        delivery = Delivery(
            delivery_id=delivery_id,
            order_id=order.id,
            channel=order.channel,
            external_id=order.external_id,
            action=action,
            details=details,
            order={
                "customer": order.customer,
                "lines": order.lines,
                "currency": order.currency,
                "refs": order.refs,
                "fully_shipped": order.fully_shipped,
                "units_before": order.units_before(action, ref),
                "channel_order_number": order.channel_order_number,
            },
            due_at=due_at,
        )
        uow.add(delivery)
        return delivery

    def get(self, delivery_id: UUID) -> Delivery:
        """The delivery as its events say it is now."""
        try:
            delivery: object = self.app.repository.get(delivery_id)
        except AggregateNotFoundError:
            raise DeliveryNotFoundError(f"no delivery {delivery_id}") from None
        if not isinstance(delivery, Delivery):
            raise DeliveryNotFoundError(f"no delivery {delivery_id}")
        return delivery

    @use_case
    def claim(
        self, delivery_id: UUID, attempt_id: str, at: str, lease_until: str
    ) -> Delivery | None:
        """Start an attempt, held until it ends or `lease_until`; None when the delivery is not
        due or another attempt holds it. Recorded before the channel is called: when two
        workers claim at once, the version conflict lets one win; the other re-reads and
        finds it held."""
        with self.app.unit_of_work() as uow:
            delivery = uow.find(delivery_id, Delivery)
            if delivery is None:
                raise DeliveryNotFoundError(f"no delivery {delivery_id}")
            if not delivery.is_due(at):
                return None
            delivery.start_attempt(attempt_id, at, lease_until)
            return delivery

    @use_case
    def succeeded(
        self, delivery_id: UUID, outcome: str, at: str, attempt_id: str | None = None
    ) -> None:
        """The channel has the news."""
        self._change(delivery_id, lambda d: d.succeed(outcome, at, attempt_id))

    @use_case
    def arranged(
        self,
        delivery_id: UUID,
        arrangement: ShippingArrangement,
        outcome: str,
        at: str,
        attempt_id: str | None = None,
    ) -> None:
        """The channel's logistics took the shipment: its arrangement is recorded on the order
        (and so published) in the same transaction as the delivery's success."""
        with self.app.unit_of_work() as uow:
            delivery = uow.find(delivery_id, Delivery)
            if delivery is None:
                raise DeliveryNotFoundError(f"no delivery {delivery_id}")
            order = uow.find(delivery.order_id, ChannelOrder)
            if order is not None:
                order.record_shipping_arranged(arrangement)
            delivery.succeed(outcome, at, attempt_id)

    @use_case
    def failed(
        self,
        delivery_id: UUID,
        error: str,
        at: str,
        retry_at: str | None,
        attempt_id: str | None = None,
    ) -> None:
        """An attempt failed; retried at retry_at, or failed for good without one."""
        self._change(delivery_id, lambda d: d.fail(error, at, retry_at, attempt_id))

    @use_case
    def skipped(
        self, delivery_id: UUID, reason: str, at: str, attempt_id: str | None = None
    ) -> None:
        """Nothing could be delivered, for a reason ops can fix."""
        self._change(delivery_id, lambda d: d.skip(reason, at, attempt_id))

    @use_case
    def retry(self, delivery_id: UUID) -> Delivery:
        """Ops ask for a failed or skipped delivery to be tried again, from now."""
        at = utc_stamp()
        return self._change(delivery_id, lambda d: d.retry(at))

    def _change(self, delivery_id: UUID, change: Callable[[Delivery], None]) -> Delivery:
        with self.app.unit_of_work() as uow:
            delivery = uow.find(delivery_id, Delivery)
            if delivery is None:
                raise DeliveryNotFoundError(f"no delivery {delivery_id}")
            change(delivery)
            return delivery
