"""Use cases of deliveries: schedule news for a channel, record each attempt, retry by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from services.channel_gateway.domain import (
    ChannelOrder,
    Delivery,
    DeliveryNotFoundError,
    delivery_id_for,
)
from shared.runtime.application import UnitOfWork


def utc_stamp(moment: datetime | None = None) -> str:
    """A UTC time as a fixed-width string, so stamps compare correctly as text."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DeliveryCases:
    """Delivery use cases (mixed into the gateway application)."""

    def schedule_delivery(
        self,
        order: ChannelOrder,
        action: str,
        ref: str,
        details: dict[str, Any],
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
            },
            due_at=due_at,
        )
        uow.add(delivery)
        return delivery

    def get_delivery(self, delivery_id: UUID) -> Delivery:
        """The delivery as its events say it is now."""
        try:
            delivery: Any = self.repository.get(delivery_id)  # type: ignore[attr-defined]
        except AggregateNotFoundError:
            raise DeliveryNotFoundError(f"no delivery {delivery_id}") from None
        if not isinstance(delivery, Delivery):
            raise DeliveryNotFoundError(f"no delivery {delivery_id}")
        return delivery

    def delivery_succeeded(self, delivery_id: UUID, outcome: str, at: str) -> None:
        """The channel has the news."""
        self._change(delivery_id, lambda d: d.succeed(outcome, at))

    def delivery_failed(self, delivery_id: UUID, error: str, at: str, retry_at: str | None) -> None:
        """An attempt failed; retried at retry_at, or failed for good without one."""
        self._change(delivery_id, lambda d: d.fail(error, at, retry_at))

    def delivery_skipped(self, delivery_id: UUID, reason: str, at: str) -> None:
        """Nothing could be delivered, for a reason ops can fix."""
        self._change(delivery_id, lambda d: d.skip(reason, at))

    def retry_delivery(self, delivery_id: UUID, at: str) -> Delivery:
        """Ops ask for a failed or skipped delivery to be tried again."""
        return self._change(delivery_id, lambda d: d.retry(at))

    def _change(self, delivery_id: UUID, change: Any) -> Delivery:
        with self.unit_of_work() as uow:  # type: ignore[attr-defined]
            delivery = uow.find(delivery_id, Delivery)
            if delivery is None:
                raise DeliveryNotFoundError(f"no delivery {delivery_id}")
            change(delivery)
            return delivery
