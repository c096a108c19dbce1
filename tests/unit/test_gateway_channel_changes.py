"""A channel's news of its orders: kept when the order was never taken in (one record per order,
applied when it comes, or dismissed), and ship-to changes of orders taken in."""

from __future__ import annotations

from typing import Any

import pytest

from services.channel_gateway.application import ChannelOrders, NewsStatus, Translation
from services.channel_gateway.application import intake as intake_module
from services.channel_gateway.bootstrap import events
from services.channel_gateway.domain import (
    ChangeAppliedError,
    ChannelChange,
    ChannelChangeStatus,
    ChannelNews,
    ChannelOrder,
    ChannelOrderStatus,
    change_id_for,
    order_id_for,
)
from shared import events as ev
from tests import factories
from tests.factories_channel_gateway import canonical_order

EVENTS = events()
MOVED = factories.address(line1="Oranienstraße 7", postal_code="10997")


def news(kind: str, reference: str = "evt-1", **says: Any) -> ChannelNews:
    return {"kind": kind, "reference": reference, "received_at": "2026-12-06T10:00:00Z", **says}


def kept(*items: ChannelNews) -> ChannelChange:
    return ChannelChange.keep("shopify", "5829104713893", list(items))


# -- ChannelChange: one record per channel order -------------------------------------------------


def test_news_of_an_order_never_taken_in_is_kept_once_per_kind_and_repeats_record_nothing():
    change = kept(news("payment", payment_state="pending"))

    assert change.id == change_id_for("shopify", "5829104713893")
    assert change.order_id == order_id_for("shopify", "5829104713893")
    assert (change.status, change.reason) == (ChannelChangeStatus.KEPT, "order not taken in")
    assert not change.add([news("payment", "evt-2", payment_state="pending")])  # the same
    assert not change.add([news("payment", "evt-3", payment_state="pending")])
    assert change.add([news("payment", "evt-4", payment_state="paid")])  # moves on
    assert not change.add([news("payment", "evt-5", payment_state="pending")])  # a late retry
    assert change.add([news("ship_to", "evt-6", shipping_address=MOVED)])
    assert not change.add([news("ship_to", "evt-7", shipping_address=MOVED)])
    assert change.add([news("cancellation", "evt-8", reason="customer")])
    assert not change.add([news("cancellation", "evt-9", reason="customer")])  # told once

    assert sorted(change.news) == ["cancellation", "payment", "ship_to"]  # bounded per order
    assert change.news["payment"]["reference"] == "evt-4"
    assert len(change.collect_events()) == 4


def test_kept_news_is_applied_payment_first_cancellation_last_and_no_ship_to_with_a_cancel():
    change = kept(
        news("cancellation", reason="customer"),
        news("ship_to", shipping_address=MOVED),
        news("payment", payment_state="voided"),
    )

    assert [n["kind"] for n in change.to_apply()] == ["payment", "cancellation"]
    change.mark_applied(["payment", "cancellation"], "2026-12-06T10:05:00Z")
    assert change.status == ChannelChangeStatus.APPLIED
    assert change.to_apply() == []
    assert not change.add([news("payment", "evt-2", payment_state="refunded")])  # the order's


def test_ops_dismiss_kept_news_once_and_cannot_dismiss_applied_news():
    change = kept(news("payment", payment_state="paid"))

    assert change.dismiss("archived before the channel was connected", "2026-12-06T11:00:00Z")
    assert not change.dismiss("again", "2026-12-06T11:01:00Z")
    assert change.status == ChannelChangeStatus.DISMISSED
    assert [n["kind"] for n in change.to_apply()] == ["payment"]  # should its order come after all

    change.mark_applied(["payment"], "2026-12-06T12:00:00Z")
    with pytest.raises(ChangeAppliedError):
        change.dismiss("too late", "2026-12-06T12:01:00Z")


# -- ChannelOrder: the channel's news of an order taken in -------------------------------------


def received() -> ChannelOrder:
    order = canonical_order()
    del order["channel"], order["external_id"]
    return ChannelOrder.receive("shopify", "5829104713893", **order)


def test_another_ship_to_from_the_channel_is_published_once_and_the_same_one_is_not_news():
    order = received()
    order.collect_events()

    assert order.take_news(news("ship_to", "evt-1", shipping_address=MOVED))
    assert not order.take_news(news("ship_to", "evt-2", shipping_address=dict(MOVED)))

    [changed] = order.collect_events()
    public = EVENTS.to_integration(changed)
    assert isinstance(public, ev.ChannelShipToChanged)
    assert (public.shipping_address.line1, public.reference) == ("Oranienstraße 7", "evt-1")
    assert order.shipping_address == MOVED


def test_a_held_order_takes_the_channel_s_new_ship_to_when_released_and_publishes_none_before():
    draft: dict[str, Any] = {"customer": factories.customer(), "shipping_address": {}}
    held = ChannelOrder.hold("shopify", "5829104713894", ["unknown SKU X"], {}, draft)
    assert held.take_news(news("ship_to", shipping_address=MOVED))
    lines = [{"sku": "TEE-BLK-M", "quantity": 1, "unit_price": "24.90"}]

    held.release(factories.customer(), factories.address(), lines, "EUR")

    changed, released = held.collect_events()[1:]
    assert EVENTS.to_integration(changed) is None  # the OMS does not know the order yet
    assert isinstance(released, ChannelOrder.Released)
    assert released.shipping_address == MOVED  # the retranslated payload was older


# -- intake: kept, then applied right after the order is taken in --------------------------------


def whole_order(address: dict[str, Any] | None = None, state: str = "paid") -> Translation:
    order = canonical_order()
    del order["channel"], order["external_id"]
    order["shipping_address"] = address or order["shipping_address"]
    order["payment_state"] = state
    return Translation("shopify", "5829104713893", order=order)


def test_a_cancel_before_the_create_is_kept_then_cancels_the_order_taken_in():
    app = ChannelOrders()
    cancel = app.intake.take_in_news(whole_order(), "evt-1", cancelled="customer")
    assert (cancel.status, cancel.change_id) == (
        NewsStatus.KEPT,
        change_id_for("shopify", "5829104713893"),
    )
    assert app.repository.get(cancel.change_id).status == ChannelChangeStatus.KEPT

    result = app.intake.take_in([whole_order(state="pending")])[0]

    assert not isinstance(result, Exception)
    assert result.status == ChannelOrderStatus.CANCELLED
    order = app.orders.get(result.order_id)
    assert order.cancellation is not None and "customer" in order.cancellation["reason"]
    change = app.repository.get(cancel.change_id)
    assert change.status == ChannelChangeStatus.APPLIED


def test_news_of_an_order_taken_in_is_recorded_and_the_same_news_again_is_unchanged():
    app = ChannelOrders()
    app.intake.take_in_one(whole_order(state="pending"))

    paid = app.intake.take_in_news(whole_order(state="paid"), "evt-1")
    moved = app.intake.take_in_news(whole_order(MOVED, state="paid"), "evt-2")
    again = app.intake.take_in_news(whole_order(MOVED, state="paid"), "evt-3")
    stale = app.intake.take_in_news(whole_order(MOVED, state="pending"), "evt-4")

    assert [r.status for r in (paid, moved, again, stale)] == [
        NewsStatus.PAYMENT_RECORDED,
        NewsStatus.SHIP_TO_CHANGED,
        NewsStatus.UNCHANGED,
        NewsStatus.UNCHANGED,
    ]
    assert paid.change_id is None


def test_news_kept_while_its_order_is_taken_in_is_applied_by_whichever_side_commits_last(
    monkeypatch: pytest.MonkeyPatch,
):
    # Intake looked for kept news before the cancel was stored (the group commit's one query),
    # so its own transaction does not apply it; it looks again after its commit.
    app = ChannelOrders()
    cancel = app.intake.take_in_news(whole_order(), "evt-1", cancelled="customer")
    result = app.intake.take_in_one(whole_order(), new=True, kept=False)
    assert result.order_id == cancel.order_id
    assert app.orders.get(result.order_id).status == ChannelOrderStatus.CANCELLED
    assert app.repository.get(cancel.change_id).status == ChannelChangeStatus.APPLIED

    # The news side: the order is taken in while the news is being kept, unseen by either
    # transaction; the news side looks again after its commit.
    other = ChannelOrders()
    keep = intake_module._keep

    def crossing(work: Any, channel: str, external_id: str, items: Any) -> Any:
        kept = keep(work, channel, external_id, items)
        other.intake.take_in_one(whole_order(), kept=False)  # commits before the news does
        return kept

    monkeypatch.setattr(intake_module, "_keep", crossing)
    late = other.intake.take_in_news(whole_order(), "evt-2", cancelled="customer")
    assert other.orders.get(late.order_id).status == ChannelOrderStatus.CANCELLED
    assert other.repository.get(late.change_id).status == ChannelChangeStatus.APPLIED


def with_channel_lines() -> ChannelOrder:
    """Two tees on channel line 11, a mug on line 12, and a cap an edit in the OMS added."""
    order = canonical_order(
        lines=[
            {"sku": "TEE", "quantity": 2, "unit_price": "24.90", "line_id": "11"},
            {"sku": "MUG", "quantity": 1, "unit_price": "14.50", "line_id": "12"},
            {"sku": "CAP", "quantity": 1, "unit_price": "9.00"},
        ]
    )
    del order["channel"], order["external_id"]
    return ChannelOrder.receive("shopify", "5829104713894", **order)


def test_units_cut_at_the_channel_are_published_once_and_a_line_it_no_longer_lists_has_none():
    order = with_channel_lines()
    order.collect_events()

    assert order.take_news(news("lines", "evt-1", quantities={"11": 1}))
    assert not order.take_news(news("lines", "evt-2", quantities={"11": 1}))
    assert order.take_news(news("lines", "evt-3", quantities={"11": 0}))

    first, second = (EVENTS.to_integration(e) for e in order.collect_events())
    assert isinstance(first, ev.ChannelLinesCut) and isinstance(second, ev.ChannelLinesCut)
    # The mug's line is not listed: none of it is left; the OMS's own cap line is not the channel's.
    assert [(c.line_id, c.sku, c.quantity) for c in first.lines] == [
        ("11", "TEE", 1),
        ("12", "MUG", 1),
    ]
    assert [(c.line_id, c.quantity) for c in second.lines] == [("11", 1)]
    assert first.reference == "evt-1"


def test_more_units_at_the_channel_are_not_news():
    order = with_channel_lines()
    order.collect_events()

    assert not order.take_news(news("lines", "evt-1", quantities={"11": 2, "12": 3}))
