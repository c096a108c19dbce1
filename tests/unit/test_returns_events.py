"""Returns event tables and stored events: complete at start-up, and old records still load."""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from services.returns_service import bootstrap
from services.returns_service.application import Returns
from services.returns_service.domain import (
    AGGREGATES,
    EarlyChannelRefunds,
    RefundWithoutReturn,
    Return,
    ShippedOrder,
    shipped_order_id_for,
)
from shared import events as ev
from shared.runtime.registry import event_classes
from tests.factories_returns_service import MUG, TEE

ORDER_ID = UUID("11111111-1111-1111-1111-111111111111")
RETURN_ID = UUID("53cf0280-0f72-5244-a1ea-497cf35d340f")


def at(micros: str) -> dict:
    return {"_type_": "datetime_iso", "_data_": f"2026-12-06T03:58:54.98{micros}+00:00"}


def uuid_hex(value: UUID) -> dict:
    return {"_type_": "uuid_hex", "_data_": value.hex}


TRACE = {"correlation_id": None, "causation_id": None}
RECEIVED = [{"sku": TEE, "quantity": 1, "condition": "sellable", "location_id": "WH-BER"}]
REFUND_LINES = [{"sku": TEE, "quantity": 1, "amount": "24.90"}]
MONEY = {"amount": "24.90", "full_amount": "24.90", "capped": False, "currency": "EUR"}
# What the returns service stored before its events became explicit classes (same topics).
STORED = [
    (
        "shipped_order:ShippedOrder.Recorded",
        {
            "timestamp": at("1146"),
            "originator_topic": "services.returns_service.domain.shipped_order:ShippedOrder",
            "order_id": uuid_hex(ORDER_ID),
            "currency": "EUR",
            "lines": [
                {"sku": TEE, "quantity": 2, "unit_price": "24.90"},
                {"sku": MUG, "quantity": 1, "unit_price": "14.50"},
            ],
            "shipments": [
                {
                    "shipment_id": "ada251ab-7328-4b62-9cae-cf859a344a41",
                    "location_id": "WH-BER",
                    "carrier": "DHL",
                    "tracking_number": "00340434292135100186",
                    "lines": [{"sku": TEE, "quantity": 2}],
                },
                {
                    "shipment_id": "2977e94f-346d-4e5d-b2e5-07ce147cb962",
                    "location_id": "WH-HAM",
                    "carrier": "DPD",
                    "tracking_number": "01405034987123",
                    "lines": [{"sku": MUG, "quantity": 1}],
                },
            ],
            **TRACE,
        },
    ),
    (
        "shipped_order:ShippedOrder.ReturnAuthorised",
        {"timestamp": at("1654"), "return_id": str(RETURN_ID), "units": {TEE: 2}, **TRACE},
    ),
    (
        "returns:Return.Requested",
        {
            "timestamp": at("1731"),
            "originator_topic": "services.returns_service.domain.returns:Return",
            "return_id": uuid_hex(RETURN_ID),
            "order_id": uuid_hex(ORDER_ID),
            "currency": "EUR",
            "lines": [{"sku": TEE, "quantity": 2, "reason": "does not fit"}],
            "idempotency_key": "k1",
            **TRACE,
        },
    ),
    (
        "shipped_order:ShippedOrder.ReceiptSettled",
        {
            "timestamp": at("2238"),
            "return_id": str(RETURN_ID),
            "sequence": 1,
            "lines": RECEIVED,
            "refund_lines": REFUND_LINES,
            **MONEY,
            **TRACE,
        },
    ),
    (
        "returns:Return.Received",
        {
            "timestamp": at("2339"),
            "sequence": 1,
            "order_id": uuid_hex(ORDER_ID),
            "lines": RECEIVED,
            "idempotency_key": "p1",
            "status": "partially_received",
            **TRACE,
        },
    ),
    (
        "returns:Return.Refunded",
        {
            "timestamp": at("2427"),
            "refund_id": uuid_hex(UUID("3a2054fb-3cd8-53c6-a54e-066268d0dfec")),
            "sequence": 1,
            "order_id": uuid_hex(ORDER_ID),
            **MONEY,
            "lines": REFUND_LINES,
            **TRACE,
        },
    ),
]


def stored_events() -> list[StoredEvent]:
    """The records as the old code wrote them, each at its aggregate's next version."""
    versions: dict[UUID, int] = {}
    records = []
    for topic, state in STORED:
        aggregate_id = RETURN_ID if topic.startswith("returns:") else shipped_order_id_for(ORDER_ID)
        versions[aggregate_id] = versions.get(aggregate_id, 0) + 1
        records.append(
            StoredEvent(
                originator_id=aggregate_id,
                originator_version=versions[aggregate_id],
                topic=f"services.returns_service.domain.{topic}",
                state=json.dumps(state, separators=(",", ":")).encode(),
            )
        )
    return records


def test_the_returns_event_tables_are_complete():
    bootstrap.EVENTS.check()
    recorded = {e for aggregate in AGGREGATES for e in event_classes(aggregate)}
    assert set(AGGREGATES) == {Return, ShippedOrder, RefundWithoutReturn, EarlyChannelRefunds}
    assert recorded == set(bootstrap.integration.PUBLISHES)


def test_events_stored_before_the_typed_core_still_load_and_map():
    app = Returns()
    app.recorder.insert_events(stored_events())

    rma = app.get_return(RETURN_ID)
    assert (rma.order_id, rma.status, rma.idempotency_key) == (ORDER_ID, "partially_received", "k1")
    assert [r["amount"] for r in rma.refunds] == ["24.90"]
    assert rma.receipts[0]["lines"][0]["location_id"] == "WH-BER"
    order = app.get_shipped_order(ORDER_ID)
    assert order.returnable(TEE) == 0
    assert order.refunded == {TEE: Decimal("24.90")}

    events = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(1, 10)]
    published = [bootstrap.EVENTS.to_integration(e) for e in events]
    assert [type(e) for e in published if e is not None] == [
        ev.ReturnRequested,
        ev.ReturnReceived,
        ev.Refunded,
    ]

    rma = app.receive_return(RETURN_ID, [{"sku": TEE, "quantity": 1, "condition": "damaged"}])
    assert (rma.status, rma.refunded_total) == ("received", Decimal("49.80"))
