"""What the stream jobs read from the topics and what they publish (no broker)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from aiokafka.errors import KafkaError

from services.stream_jobs import domain, integration
from services.stream_jobs.agents import publish_changed
from shared.events import models as ev
from shared.events.base import IntegrationEvent
from shared.events.codec import DecodeError, decode, encode
from tests import factories

T0 = datetime(2026, 11, 29, 9, 41, tzinfo=UTC)


def _read(event: IntegrationEvent, handled=integration.ORDER_EVENTS):
    message = encode(event, event_id="e-1", service="order_service", position=7)
    return integration.read(message.headers, message.key, message.value, handled)


def test_the_events_the_jobs_do_not_read_are_passed_over_without_decoding():
    assert _read(factories.order_confirmed()) is None
    assert _read(factories.order_placed()) is not None


def test_a_record_that_is_no_cloudevent_is_refused_with_a_reason():
    with pytest.raises(DecodeError):
        integration.read([], b"k", b"garbage", integration.ORDER_EVENTS)


def test_revenue_of_a_placed_order_is_its_total_paid_when_it_has_one():
    placed = factories.order_placed(
        lines=factories.lines({"TEE": 2}, "24.90"),
        currency="EUR",
        placed_at=T0,
        totals={"items": "49.80", "discounts": "5.00", "tax": "0", "shipping": "4.90",
                "paid": "49.70"},
    )  # fmt: skip
    order_id, update = integration.order_update(placed)
    facts = update({})
    assert order_id == str(placed.order_id)
    assert (facts["revenue"], facts["units"], facts["currency"]) == ("49.70", 2, "EUR")
    assert domain.bucket_of(facts) == ("web", datetime(2026, 11, 29, 9, tzinfo=UTC))


def test_an_order_in_a_currency_that_is_no_iso_code_is_refused_not_counted():
    placed = factories.order_placed(currency="XYZ")
    with pytest.raises(ValueError, match="ISO 4217"):
        integration.order_update(placed)


def test_a_shipped_order_counts_its_short_units_apart():
    shipped = factories.order_shipped(uuid4(), {"TEE": 2}, shipped_at=T0).model_copy(
        update={"short_lines": [ev.ShortLine(sku="TEE", quantity=1, paid="24.90")]}
    )
    _, update = integration.order_update(shipped)
    facts = update({"channel": "web", "placed_at": T0.isoformat()})
    assert (facts["shipped_units"], facts["short_units"]) == (2, 1)


def test_a_reservation_becomes_one_entry_per_sku_and_location_of_the_order():
    order_id = uuid4()
    reserved = ev.StockReserved(
        order_id=order_id,
        allocations=[
            {"sku": "TEE", "location_id": "WH-1", "quantity": 2},
            {"sku": "TEE", "location_id": "WH-1", "quantity": 1},
            {"sku": "TEE", "location_id": "WH-2", "quantity": 4},
        ],
        reserved_at=T0,
        request_id="short-1",
    )
    moves = integration.stock_moves(reserved)
    assert [(m["location_id"], m["units"]) for m in moves] == [("WH-1", 3), ("WH-2", 4)]
    assert {m["reservation"] for m in moves} == {f"{order_id}/short-1"}


def _kpis() -> domain.ChannelHourKpis:
    facts = domain.placed(
        {}, channel="web", placed_at=T0, currency="KWD", units=2, revenue=Decimal("2.470")
    )
    return domain.channel_hour_kpis("web", domain.hour_of(T0), [facts])


def test_kpis_go_out_with_revenue_in_three_decimals_and_in_minor_units():
    event = integration.kpis_event(_kpis(), T0)
    (revenue,) = event.revenue
    assert (revenue.currency, format(revenue.amount, "f"), revenue.minor_units) == (
        "KWD",
        "2.470",
        2470,
    )
    assert event.to_data()["revenue"][0]["amount"] == "2.470"


def test_the_same_kpis_sent_again_carry_the_same_id_and_the_contract_holds():
    first = integration.wire(integration.kpis_event(_kpis(), T0), T0)
    later = T0 + timedelta(minutes=5)
    again = integration.wire(integration.kpis_event(_kpis(), later), later)
    assert dict(first.headers)["ce_id"] == dict(again.headers)["ce_id"]
    envelope = decode(again.headers, again.key, again.value)
    assert envelope.source_service == "stream_jobs"
    assert envelope.event.partition_key == "web"


def test_a_location_going_low_gets_an_alert_and_a_suggestion():
    policy = domain.ReorderPolicy(lead_time_days=Decimal(7), demand_window_days=7)
    assessment = domain.assess(available=1, demand=Decimal(2), policy=policy)
    events = integration.low_stock_events(integration.Place("TEE", "WH-1"), assessment, policy, T0)
    assert [type(e) for e in events] == [ev.LowStockAlerted, ev.ReorderSuggested]
    assert events[1].model_dump()["quantity"] == 13


def test_an_hour_whose_kpis_fail_to_go_out_is_published_at_the_next_tick() -> None:
    changed = {"b", "a", "c"}
    sent: list[str] = []

    async def publish(bucket: str) -> None:
        if bucket == "b" and "b" not in sent:
            sent.append("b")
            raise KafkaError("broker away")
        sent.append(bucket)

    with pytest.raises(KafkaError):
        asyncio.run(publish_changed(changed, publish))
    assert changed == {"b", "c"}  # a went out; b failed; c was not tried
    asyncio.run(publish_changed(changed, publish))
    assert changed == set() and sent == ["a", "b", "b", "c"]
