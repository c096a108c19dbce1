"""Builders only the order service's tests need: orders placed through its use case, what it
publishes, and lines whose two SKUs have different prices (so a cut line shows which it was)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from services.order_service.application import Orders
from services.order_service.bootstrap import service_events
from services.order_service.domain import order_id_for
from shared.events.base import IntegrationEvent
from shared.runtime.application import UnitOfWork
from tests import factories


def tee_and_mug(tees: int = 2) -> list[dict]:
    """`tees` TEE at 24.90 and one MUG at 14.50."""
    return [*factories.lines({"TEE": tees}), *factories.lines({"MUG": 1}, "14.50")]


def place_order(
    app: Orders,
    external_id: str | None = None,
    *,
    channel: str = "web",
    lines: list[dict] | None = None,
    uow: UnitOfWork | None = None,
) -> UUID:
    """Place an order (the factories' customer and address, EUR) and return its id."""
    external_id = external_id or uuid4().hex
    order_id = order_id_for(channel, external_id)
    app.place_order(
        order_id,
        channel,
        external_id,
        factories.customer(),
        factories.address(),
        lines or factories.lines(),
        "EUR",
        uow=uow,
    )
    return order_id


def stored_events(app: Orders) -> list[Any]:
    """The domain events the application stored, in order."""
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 1000)]


def published(app: Orders) -> list[IntegrationEvent | None]:
    """What the relay publishes for each stored event, in order (None: the event is internal)."""
    events = service_events()
    return [events.to_integration(e) for e in stored_events(app)]
