"""Units an edit cancelled on a paid order are refunded at once, exactly what was paid for them."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from services.returns_service.application import Returns
from services.returns_service.bootstrap import EVENTS
from services.returns_service.integration import CONSUMES
from shared import events as ev
from shared.events.base import now_utc
from tests import factories
from tests.kit import apply


def edited(
    order_id: UUID, payment_state: str, *cancelled: tuple[int, str, int, str], revision: int = 1
) -> ev.OrderLinesChanged:
    """An edit that cancelled (line, sku, quantity, paid) units, in Kuwaiti dinars."""
    return ev.OrderLinesChanged(
        order_id=order_id,
        channel="web",
        external_id="1001",
        revision=revision,
        lines=factories.lines({"TEE": 1}, unit_price="10.000"),
        cancelled=[
            {"line": line, "sku": sku, "quantity": quantity, "paid": paid}
            for line, sku, quantity, paid in cancelled
        ],
        currency="KWD",
        payment_state=payment_state,
        reason="customer asked",
        changed_at=now_utc(),
    )


def refunds(app: Returns) -> list[ev.Refunded]:
    notifications = app.recorder.select_notifications(1, 10_000)
    mapped = [EVENTS.to_integration(app.mapper.to_domain_event(n)) for n in notifications]
    return [e for e in mapped if isinstance(e, ev.Refunded)]


def test_a_paid_orders_cancelled_units_are_refunded_once_per_edit() -> None:
    app = Returns()
    order_id = uuid4()
    edit = edited(order_id, "paid", (1, "TEE", 2, "19.334"), (2, "MUG", 1, "4.500"))

    apply(app, CONSUMES, edit)
    apply(app, CONSUMES, edit)

    (refund,) = refunds(app)
    assert refund.order_id == order_id
    assert refund.reason == "line_cancelled"
    assert refund.amount == Decimal("23.834")  # three decimals kept, never cut to cents
    assert refund.currency == "KWD"
    assert [(line.sku, line.quantity, line.amount) for line in refund.lines] == [
        ("TEE", 2, Decimal("19.334")),
        ("MUG", 1, Decimal("4.500")),
    ]


def test_a_second_edit_is_a_second_refund() -> None:
    app = Returns()
    order_id = uuid4()
    apply(app, CONSUMES, edited(order_id, "paid", (1, "TEE", 1, "9.667")))
    apply(app, CONSUMES, edited(order_id, "paid", (1, "TEE", 1, "9.667"), revision=2))

    assert [r.amount for r in refunds(app)] == [Decimal("9.667"), Decimal("9.667")]


@pytest.mark.parametrize("payment_state", ["authorized", "pending", "cash_on_delivery", "voided"])
def test_nothing_is_refunded_when_no_money_was_taken(payment_state: str) -> None:
    app = Returns()

    apply(app, CONSUMES, edited(uuid4(), payment_state, (1, "TEE", 2, "19.334")))

    assert refunds(app) == []


def test_units_nothing_was_paid_for_are_not_refunded() -> None:
    app = Returns()

    apply(app, CONSUMES, edited(uuid4(), "paid", (1, "GIFT", 1, "0")))

    assert refunds(app) == []


def test_units_cut_in_an_edit_at_the_channel_are_refunded_there_not_here() -> None:
    app = Returns()
    edit = edited(uuid4(), "paid", (1, "TEE", 2, "19.334")).model_copy(update={"source": "channel"})

    apply(app, CONSUMES, edit)

    assert refunds(app) == []
