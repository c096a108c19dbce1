"""An order that shipped one SKU on two lines at different prices (lines are never merged):
its units are returnable over both lines, and refunds never pass what was paid for the SKU."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.returns_service import bootstrap, integration
from services.returns_service.application import Returns
from services.returns_service.domain import ReturnQuantityError
from shared import events as ev
from tests import factories
from tests.kit import apply


def refunds(app: Returns) -> list[str]:
    to_integration = bootstrap.EVENTS.to_integration
    stored = app.recorder.select_notifications(1, 1000)
    published = [to_integration(app.mapper.to_domain_event(n)) for n in stored]
    return [str(e.amount) for e in published if isinstance(e, ev.Refunded)]


def test_a_sku_on_two_lines_is_returned_and_refunded_at_what_was_paid_per_unit_on_average():
    # The tee at 20.00, and twice more at 10.00 with 2.00 off: 38.00 paid for three.
    app = Returns()
    shipped = factories.order_shipped(quantities={"TEE": 3}).model_copy(
        update={
            "lines": [
                ev.OrderLine(sku="TEE", quantity=1, unit_price=Decimal("20.00"), line_id="a"),
                ev.OrderLine(
                    sku="TEE",
                    quantity=2,
                    unit_price=Decimal("10.00"),
                    line_id="b",
                    paid=Decimal("18.00"),
                ),
            ]
        }
    )
    apply(app, integration.CONSUMES, shipped)

    with pytest.raises(ReturnQuantityError):
        app.request_return(shipped.order_id, [{"sku": "TEE", "quantity": 4, "reason": "x"}])
    rma = app.request_return(shipped.order_id, [{"sku": "TEE", "quantity": 3, "reason": "x"}])
    app.receive_return(rma.id, [{"sku": "TEE", "quantity": 1, "condition": "sellable"}])
    app.receive_return(rma.id, [{"sku": "TEE", "quantity": 2, "condition": "sellable"}])

    # One unit: a third of 38.00, cut down (never the dearer line's 20.00); then the rest.
    assert refunds(app) == ["12.66", "25.34"]
