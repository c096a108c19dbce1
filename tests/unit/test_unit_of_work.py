"""A unit of work: many changes, one transaction, each event traced to what caused it."""

from __future__ import annotations

from services.order_service.application import Orders
from services.order_service.domain import order_id_for
from shared.runtime.application import UnitOfWork
from shared.runtime.tracing import traced
from tests import factories
from tests.factories_order_service import place_order


def place(app: Orders, uow: UnitOfWork, external_id: str) -> None:
    place_order(app, external_id, lines=factories.lines({"TEE": 1}, "9.90"), uow=uow)


def test_each_event_of_a_batch_carries_the_trace_of_the_message_that_caused_it():
    app = Orders()
    uow = UnitOfWork(app)
    for n, request in enumerate(("req-1", "req-2", "req-3")):
        with traced(request, f"msg-{n}"):
            place(app, uow, f"o{n}")
            if n == 2:  # a second change to an earlier order, under the third message
                app.cancel_order(order_id_for("web", "o0"), "duplicate", uow)
            uow.stamp_pending()
    uow.commit()
    stored = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 10)]
    traces = [(type(e).__name__, e.correlation_id, e.causation_id) for e in stored]
    assert traces == [
        ("Placed", "req-1", "msg-0"),
        ("Cancelled", "req-3", "msg-2"),
        ("Placed", "req-2", "msg-1"),
        ("Placed", "req-3", "msg-2"),
    ]


def test_nothing_is_recorded_when_a_command_fails_inside_its_unit_of_work():
    app = Orders()
    try:
        with app.unit_of_work() as uow:
            place(app, uow, "x1")
            raise RuntimeError("validation failed after the change")
    except RuntimeError:
        pass
    assert app.recorder.max_notification_id() is None
