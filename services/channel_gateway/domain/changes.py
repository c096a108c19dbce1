"""The ChannelChange aggregate: a channel's news of an order the gateway never took in, kept.

Channels send news of orders the gateway does not have (webhooks out of order: cancelled before
created; updates of orders from before the channel was connected). Such news is never dropped:
one record per channel order keeps the latest of each kind, and is applied when the order is
taken in, or dismissed by ops.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.channel_gateway.domain.orders import order_id_for
from services.channel_gateway.domain.values import ChangeKind, ChannelNews
from shared.payments import moves_on

CHANGE_NAMESPACE = uuid5(NAMESPACE_URL, "https://oms.example/channel-changes")
NOT_TAKEN_IN = "order not taken in"


# The order kept news is applied in: a cancellation last, and a ship-to not at all with it.
APPLYING_ORDER = (ChangeKind.PAYMENT, ChangeKind.SHIP_TO, ChangeKind.CANCELLATION)


class ChannelChangeStatus(StrEnum):
    """Where kept news stands: waiting for its order, applied to it, or dismissed by ops."""

    KEPT = "kept"
    APPLIED = "applied"
    DISMISSED = "dismissed"


class ChannelChangeError(Exception):
    """Base of kept channel news errors."""


class ChannelChangeNotFoundError(ChannelChangeError):
    """No kept channel news has this id."""


class ChangeAppliedError(ChannelChangeError):
    """Kept news applied to its order can no longer be dismissed."""


def change_id_for(channel: str, external_id: str) -> UUID:
    """The id of the news kept for one channel order (one record per order, however much)."""
    return uuid5(CHANGE_NAMESPACE, f"{channel}:{external_id}")


def is_news(kept: ChannelNews | None, news: ChannelNews) -> bool:
    """Whether `news` says more than what is kept of its kind: a first one, a payment that moves
    on, another ship-to (a cancellation is told once)."""
    if kept is None:
        return True
    if news["kind"] == ChangeKind.PAYMENT:
        return moves_on(kept.get("payment_state"), news.get("payment_state") or "")
    if news["kind"] == ChangeKind.SHIP_TO:
        return kept.get("shipping_address") != news.get("shipping_address")
    return False


class ChannelChange(Aggregate):
    """The news a channel sent of one order the gateway never took in: the latest of each kind."""

    class Kept(Aggregate.Created):
        """The first news of an order not taken in, and why it is kept rather than applied."""

        change_id: UUID
        order_id: UUID  # the id the order gets when it is taken in
        channel: str
        external_id: str
        reason: str
        news: list[ChannelNews]

    class NewsKept(Aggregate.Event):
        """More news of the same order; each replaces the kept one of its kind."""

        news: list[ChannelNews]

    class Applied(Aggregate.Event):
        """The order was taken in and the kept news applied to it (the kinds that were news)."""

        kinds: list[str]
        applied_at: str

    class Dismissed(Aggregate.Event):
        """Ops looked at it and decided it needs nothing (e.g. an order from before the channel
        was connected)."""

        reason: str
        dismissed_at: str

    @classmethod
    def keep(cls, channel: str, external_id: str, news: list[ChannelNews]) -> ChannelChange:
        """Keep the first news of an order never taken in."""
        return cls(
            change_id=change_id_for(channel, external_id),
            order_id=order_id_for(channel, external_id),
            channel=channel,
            external_id=external_id,
            reason=NOT_TAKEN_IN,
            news=_latest(news),
        )

    @event(Kept)
    def __init__(
        self,
        change_id: UUID,
        order_id: UUID,
        channel: str,
        external_id: str,
        reason: str,
        news: list[ChannelNews],
    ) -> None:
        self.order_id = order_id
        self.channel = channel
        self.external_id = external_id
        self.reason = reason
        self.status = ChannelChangeStatus.KEPT
        self.news: dict[str, ChannelNews] = {n["kind"]: n for n in news}

    @staticmethod
    def create_id(change_id: UUID, **_: Any) -> UUID:
        """The id is derived from channel + external id."""
        return change_id

    def add(self, news: list[ChannelNews]) -> bool:
        """Keep what of `news` is news (repeated news records nothing); whether anything was."""
        fresh = [n for n in _latest(news) if is_news(self.news.get(n["kind"]), n)]
        if not fresh or self.status == ChannelChangeStatus.APPLIED:
            return False  # applied: the order has it (news after that goes to the order itself)
        self._news_kept(news=fresh)
        return True

    @event(NewsKept)
    def _news_kept(self, news: list[ChannelNews]) -> None:
        self.news = {**self.news, **{n["kind"]: n for n in news}}

    def to_apply(self) -> list[ChannelNews]:
        """The kept news in the order it is applied; none once applied. Dismissed news is still
        applied should its order come after all: it is the channel's word on its own order."""
        if self.status == ChannelChangeStatus.APPLIED:
            return []
        cancelled = ChangeKind.CANCELLATION in self.news
        kinds = [k for k in APPLYING_ORDER if k in self.news]
        return [self.news[k] for k in kinds if not (cancelled and k == ChangeKind.SHIP_TO)]

    def mark_applied(self, kinds: list[str], applied_at: str) -> None:
        """The order was taken in and the news applied (`kinds`: those that changed it)."""
        if self.status != ChannelChangeStatus.APPLIED:
            self._applied(kinds=kinds, applied_at=applied_at)

    @event(Applied)
    def _applied(self, kinds: list[str], applied_at: str) -> None:
        self.status = ChannelChangeStatus.APPLIED

    def dismiss(self, reason: str, dismissed_at: str) -> bool:
        """Ops set the news aside; dismissed already records nothing, applied cannot be."""
        if self.status == ChannelChangeStatus.APPLIED:
            raise ChangeAppliedError(f"the news kept as {self.id} was applied to its order")
        if self.status == ChannelChangeStatus.DISMISSED:
            return False
        self._dismissed(reason=reason, dismissed_at=dismissed_at)
        return True

    @event(Dismissed)
    def _dismissed(self, reason: str, dismissed_at: str) -> None:
        self.status = ChannelChangeStatus.DISMISSED


def _latest(news: list[ChannelNews]) -> list[ChannelNews]:
    """One news per kind, the last given."""
    return list({n["kind"]: n for n in news}.values())
