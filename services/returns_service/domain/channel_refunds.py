"""EarlyChannelRefunds: refunds made at the channel before the order shipped, kept until it does."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.returns_service.domain.values import Amount, RefundLine

EARLY_REFUNDS_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/returns/early-channel-refunds")


def early_channel_refunds_id_for(order_id: UUID) -> UUID:
    """The id of an order's early channel refunds: one per order."""
    return uuid5(EARLY_REFUNDS_NAMESPACE, str(order_id))


class EarlyChannelRefunds(Aggregate):
    """Refunds the channel made of an order not shipped yet: counted when it ships (the order's
    ShippedOrder, which bounds every refund, exists only from then)."""

    class Started(Aggregate.Created):
        """The first refund at the channel of an order not shipped yet."""

        order_id: UUID

    class Kept(Aggregate.Event):
        """A refund at the channel, kept until the order ships."""

        refund_id: str
        lines: list[RefundLine]
        amount: Amount

    @event(Started)
    def __init__(self, order_id: UUID) -> None:
        self.order_id = order_id
        self.refunds: list[tuple[str, list[RefundLine], str]] = []

    @staticmethod
    def create_id(order_id: UUID, **_: object) -> UUID:
        """Derived from the order id."""
        return early_channel_refunds_id_for(order_id)

    def keep(self, refund_id: str, lines: list[RefundLine], amount: Amount) -> bool:
        """Keep a refund (each once); whether it was news."""
        if any(kept[0] == refund_id for kept in self.refunds):
            return False
        self._kept(refund_id=refund_id, lines=lines, amount=amount)
        return True

    @event(Kept)
    def _kept(self, refund_id: str, lines: list[RefundLine], amount: Amount) -> None:
        self.refunds = [*self.refunds, (refund_id, lines, amount)]
