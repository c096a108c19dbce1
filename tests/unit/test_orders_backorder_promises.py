"""A backordered order shows the promise date inventory publishes (in-memory store)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.order_service.application import Orders
from services.order_service.domain import Order
from services.order_service.integration import CONSUMES
from shared import events as ev
from tests import factories
from tests.factories_order_service import place_order, stored_events
from tests.kit import apply

MONDAY = datetime(2026, 12, 14, 9, tzinfo=UTC)


def promised(order_id: UUID, date: datetime | None, revision: int = 0) -> ev.BackorderPromised:
    return ev.BackorderPromised(
        order_id=order_id, promise_date=date, promised_at=ev.now_utc(), revision=revision
    )


def backordered(app: Orders) -> UUID:
    order_id = place_order(app)
    app.backorder_order(order_id, [{"sku": "TEE", "requested": 2, "available": 0}])
    return order_id


def promises(app: Orders) -> list[datetime | None]:
    return [e.promise_date for e in stored_events(app) if isinstance(e, Order.BackorderPromised)]


def test_a_backordered_order_keeps_the_latest_promise_and_a_repeat_changes_nothing() -> None:
    app = Orders()
    order_id = backordered(app)
    apply(app, CONSUMES, promised(order_id, MONDAY))
    apply(app, CONSUMES, promised(order_id, MONDAY))  # redelivered, or the same date again
    apply(app, CONSUMES, promised(order_id, None))  # inventory no longer knows when
    order = app.repository.get(order_id)
    assert isinstance(order, Order) and order.promised is None
    assert promises(app) == [MONDAY, None]


def test_a_promise_for_an_order_not_waiting_is_ignored_and_the_next_wait_starts_fresh() -> None:
    app = Orders()
    confirmed = place_order(app)
    app.confirm_order(confirmed, factories.allocations({"TEE": 2}, "WH"))
    apply(app, CONSUMES, promised(confirmed, MONDAY))
    waiting = backordered(app)
    apply(app, CONSUMES, promised(waiting, MONDAY))
    assert promises(app) == [MONDAY]
    order = app.repository.get(waiting)
    assert isinstance(order, Order) and order.promised == MONDAY
