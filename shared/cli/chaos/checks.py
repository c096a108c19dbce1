"""What must hold once the faults stop and the system is quiet: every order where its story
leads, stock conserved, nothing done twice, the channel told exactly once, nothing parked."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from shared.cli.chaos.store import StoreLedger
from shared.cli.chaos.traffic import Api, Order, Traffic
from shared.cli.system import SERVICES

T = TypeVar("T")
SHOWN = 5  # failures listed per check; the count says how many in all


@dataclass
class Check:
    """One property checked: how many cases, and the ones that failed."""

    name: str
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def passed(self) -> bool:
        """True when no case failed."""
        return not self.failures

    def expect(self, ok: bool, failure: str) -> None:
        """Count a case; keep its failure."""
        self.cases += 1
        if not ok:
            self.failures.append(failure)


@dataclass
class Snapshot:
    """What the services say, read over their HTTP APIs."""

    orders: dict[str, dict[str, Any]]
    reservations: dict[str, dict[str, Any] | None]
    shipments: list[dict[str, Any]]
    returns: list[dict[str, Any]]
    refunds: list[dict[str, Any]]
    stock: dict[str, dict[str, Any]]
    deliveries: list[dict[str, Any]]
    parked: dict[str, list[dict[str, Any]]]
    ready: dict[str, str]


async def snapshot(api: Api, traffic: Traffic, skus: Iterable[str], deadline: float) -> Snapshot:
    """Read everything the checks need."""
    ids = [o.order_id for o in traffic.orders if o.order_id is not None]

    async def order(order_id: str) -> dict[str, Any]:
        return dict(await api.get("order_service", f"/orders/{order_id}", deadline=deadline))

    async def reservation(order_id: str) -> dict[str, Any] | None:
        response = await api.call(
            "inventory_service",
            "GET",
            f"/reservations/{order_id}",
            deadline=deadline,
            done=frozenset({200}),
            final=frozenset({404}),
        )
        return dict(response.json()) if response.status_code == 200 else None

    async def stock(sku: str) -> dict[str, Any]:
        return dict(await api.get("inventory_service", f"/stock/{sku}", deadline=deadline))

    orders = dict(zip(ids, await _bounded([order(i) for i in ids]), strict=True))
    reservations = dict(zip(ids, await _bounded([reservation(i) for i in ids]), strict=True))
    sku_list = sorted(skus)
    stocks = dict(zip(sku_list, await _bounded([stock(s) for s in sku_list]), strict=True))
    parked = {
        s.name: await api.pages(s.name, "/dlq", deadline=deadline, status="parked")
        for s in SERVICES
    }
    return Snapshot(
        orders=orders,
        reservations=reservations,
        shipments=await api.pages("fulfillment_service", "/shipments", deadline=deadline),
        returns=await api.pages("returns_service", "/returns", deadline=deadline),
        refunds=await api.pages("returns_service", "/refunds", deadline=deadline),
        stock=stocks,
        deliveries=await api.pages("channel_gateway", "/deliveries", deadline=deadline),
        parked=parked,
        ready={s.name: await api.readiness(s.name) for s in SERVICES},
    )


async def _bounded(calls: list[Awaitable[T]], limit: int = 24) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(c) for c in calls)))


def run_checks(traffic: Traffic, store: StoreLedger, seen: Snapshot) -> list[Check]:
    """Every check on one snapshot."""
    return [
        _accepted(traffic.orders),
        _final_states(traffic.orders, seen),
        _agreement(traffic.orders, seen),
        _timelines(seen),
        _stock(traffic, seen),
        _quarantine(seen),
        _reserved(seen),
        _fulfilments(traffic, store, seen),
        _refunds(traffic, store, seen),
        _deliveries(seen),
        _dead_letters(seen),
        _ready(seen),
    ]


def _accepted(orders: list[Order]) -> Check:
    check = Check("every order accepted by the gateway")
    for order in orders:
        check.expect(order.accepted, f"order #{order.n}: never accepted ({order.last_error})")
    return check


def expected_status(
    order: Order, seen: dict[str, Any], available: Callable[[str], int]
) -> set[str]:
    """The statuses that follow from what the harness did to the order."""
    if order.plan == "cancel":
        if order.cancel_answer == 202:
            return {"cancelled"}
        return {"(cancel never answered)"}
    if order.plan == "ship":
        return {"shipped"}
    if order.plan == "return":
        if not order.return_received:
            return {"(return never received)"}
        shipped: Counter[str] = Counter()
        for shipment in seen["shipments"]:
            for line in shipment["lines"]:
                shipped[line["sku"]] += line["quantity"]
        return {"returned"} if order.returned == shipped else {"partially_returned"}
    # Left alone: confirmed, or waiting for stock that really is not there.
    waiting_for_nothing = all(
        available(line["sku"]) >= line["quantity"] for line in order.body["lines"]
    )
    return {"confirmed"} if waiting_for_nothing else {"confirmed", "backordered"}


def _final_states(orders: list[Order], seen: Snapshot) -> Check:
    check = Check("every order ends where its story leads, none stranded")

    def available(sku: str) -> int:
        return int(seen.stock.get(sku, {}).get("total", {}).get("available", 0))

    refunds: dict[str, Decimal] = {}
    for refund in seen.refunds:
        order_id = str(refund["order_id"])
        refunds[order_id] = refunds.get(order_id, Decimal(0)) + Decimal(str(refund["amount"]))
    for order in orders:
        if order.order_id is None:
            continue
        current = seen.orders[order.order_id]
        wanted = expected_status(order, current, available)
        check.expect(
            current["status"] in wanted,
            f"#{order.n} ({order.plan}/{order.mode}) is {current['status']}, expected "
            f"{' or '.join(sorted(wanted))}"
            + (f"; harness: {order.last_error}" if order.last_error else ""),
        )
        if order.plan == "return" and order.return_received:
            check.expect(
                Counter(current["returned"]) == order.returned,
                f"#{order.n}: returned {current['returned']}, sent back {dict(order.returned)}",
            )
            check.expect(
                Decimal(str(current["refunded_total"])) == refunds.get(order.order_id, 0),
                f"#{order.n}: order says {current['refunded_total']} refunded, "
                f"returns paid {refunds.get(order.order_id, 0)}",
            )
    return check


# What the other services hold for an order, by the order's status.
SHIPMENTS_OF = {
    "cancelled": {"cancelled"},
    "shipped": {"shipped"},
    "partially_returned": {"shipped"},
    "returned": {"shipped"},
    "confirmed": {"open", "picking", "picked", "packed"},
}
RESERVATION_OF = {
    "cancelled": {"released", "cancelled"},
    "shipped": {"consumed"},
    "partially_returned": {"consumed"},
    "returned": {"consumed"},
    "confirmed": {"reserved"},
    "backordered": {"backordered"},
}


def _agreement(orders: list[Order], seen: Snapshot) -> Check:
    check = Check("fulfillment and inventory agree with each order's status")
    shipments: dict[str, list[dict[str, Any]]] = {}
    for shipment in seen.shipments:
        shipments.setdefault(str(shipment["order_id"]), []).append(shipment)
    for order in orders:
        if order.order_id is None:
            continue
        status = seen.orders[order.order_id]["status"]
        mine = shipments.get(order.order_id, [])
        wanted = SHIPMENTS_OF.get(status)
        if wanted is not None:
            odd = sorted({s["status"] for s in mine} - wanted)
            check.expect(not odd, f"#{order.n} is {status}, its shipments are {odd}")
        if status in ("confirmed", "shipped", "partially_returned", "returned"):
            allocated = {a["location_id"] for a in seen.orders[order.order_id]["allocations"]}
            check.expect(
                allocated <= {s["location_id"] for s in mine},
                f"#{order.n} is {status} with stock at {sorted(allocated)}, "
                f"shipments at {sorted(s['location_id'] for s in mine)}",
            )
        elif status == "backordered":
            check.expect(not mine, f"#{order.n} is backordered but has {len(mine)} shipments")
        reservation = seen.reservations.get(order.order_id)
        held = (reservation or {}).get("status")
        wanted = RESERVATION_OF.get(status)
        if wanted is not None:
            check.expect(held in wanted, f"#{order.n} is {status}, its reservation is {held}")
    return check


def _timelines(seen: Snapshot) -> Check:
    check = Check("no event twice in any order's timeline")
    for order_id, order in seen.orders.items():
        entries = Counter(
            (e["event"], json.dumps(e["detail"], sort_keys=True)) for e in order["timeline"]
        )
        twice = [f"{event} x{n}" for (event, _), n in entries.items() if n > 1]
        check.expect(not twice, f"order {order_id[:8]}: {', '.join(twice)}")
    return check


def _stock(traffic: Traffic, seen: Snapshot) -> Check:
    check = Check("stock conserved: on hand = received - shipped + restocked +/- adjusted")
    expected: Counter[tuple[str, str]] = Counter()
    expected.update(traffic.ledger.received)
    expected.update(traffic.ledger.adjusted)
    for shipment in seen.shipments:
        if shipment["status"] == "shipped":
            for line in shipment["lines"]:
                expected[(line["sku"], shipment["location_id"])] -= line["quantity"]
    expected.update(_returned(seen, "sellable"))
    _expect_levels(check, seen, expected, "on_hand", "the movements")
    return check


def _quarantine(seen: Snapshot) -> Check:
    # Damaged returns are not on hand (so the conservation above leaves them out): they wait
    # in quarantine, and the harness never releases or scraps any.
    check = Check("damaged returns conserved: quarantined = damaged returned")
    expected = _returned(seen, "damaged")
    _expect_levels(check, seen, expected, "quarantined", "damaged returns")
    return check


def _expect_levels(
    check: Check, seen: Snapshot, expected: Counter[tuple[str, str]], field: str, source: str
) -> None:
    """Each (sku, location) level's field is what the source counts (0 where it counts none)."""
    for sku, stock in sorted(seen.stock.items()):
        levels = {level["location_id"]: level for level in stock["locations"]}
        for key in sorted({k for k in expected if k[0] == sku} | {(sku, loc) for loc in levels}):
            value = int(levels.get(key[1], {}).get(field, 0))
            check.expect(
                value == expected[key],
                f"{sku} at {key[1]}: {field.replace('_', ' ')} {value}, {source} say"
                f" {expected[key]}",
            )


def _returned(seen: Snapshot, condition: str) -> Counter[tuple[str, str]]:
    """Units received back in this condition, per (sku, location)."""
    units: Counter[tuple[str, str]] = Counter()
    for rma in seen.returns:
        for receipt in rma["receipts"]:
            for line in receipt["lines"]:
                if line["condition"] == condition:
                    units[(line["sku"], line["location_id"])] += line["quantity"]
    return units


def _reserved(seen: Snapshot) -> Check:
    check = Check("reserved = the sum of open reservations, per SKU and location")
    held: Counter[tuple[str, str]] = Counter()
    for reservation in seen.reservations.values():
        for allocation in (reservation or {}).get("allocations") or []:
            held[(allocation["sku"], allocation["location_id"])] += allocation["quantity"]
    for sku, stock in sorted(seen.stock.items()):
        for level in stock["locations"]:
            key = (sku, level["location_id"])
            check.expect(
                int(level["reserved"]) == held[key],
                f"{sku} at {key[1]}: reserved {level['reserved']}, reservations hold {held[key]}",
            )
    return check


def _fulfilments(traffic: Traffic, store: StoreLedger, seen: Snapshot) -> Check:
    check = Check("each Shipped gives exactly one fulfilment at the channel")
    posts = store.tracking_posts()
    expected: set[tuple[int, str]] = set()
    for shipment in seen.shipments:
        order = traffic.by_id.get(str(shipment["order_id"]))
        if shipment["status"] != "shipped" or order is None:
            continue
        numbers = [p["tracking_number"] for p in shipment["packages"] if p.get("tracking_number")]
        for number in numbers or [shipment["tracking_number"]]:
            key = (order.woo_id, str(number))
            expected.add(key)
            check.expect(
                posts[key] == 1,
                f"order {order.woo_id} tracking {number}: {posts[key]} fulfilments at the channel",
            )
    for key, count in posts.items():
        if key not in expected:
            check.expect(
                False, f"order {key[0]} tracking {key[1]}: {count} at the channel, never shipped"
            )
    return check


def _refunds(traffic: Traffic, store: StoreLedger, seen: Snapshot) -> Check:
    check = Check("each Refunded gives exactly one refund at the channel")
    posts = store.refund_posts()
    expected: set[tuple[int, str]] = set()
    for refund in seen.refunds:
        order = traffic.by_id.get(str(refund["order_id"]))
        if order is None:
            continue
        key = (order.woo_id, f"OMS refund {refund['refund_id']}")
        expected.add(key)
        check.expect(posts[key] == 1, f"refund {refund['refund_id']}: {posts[key]} at the channel")
    for key, count in posts.items():
        if key not in expected:
            check.expect(False, f"order {key[0]}: {count} refunds '{key[1]}' never made")
    return check


def _deliveries(seen: Snapshot) -> Check:
    check = Check("every delivery to the channel delivered (none pending, failed, skipped)")
    for delivery in seen.deliveries:
        check.expect(
            delivery["status"] == "delivered",
            f"{delivery['action']} of order {delivery['external_id']}: {delivery['status']} "
            f"after {delivery['attempts']} attempts ({delivery['last_error']})",
        )
    return check


def _dead_letters(seen: Snapshot) -> Check:
    check = Check("the DLQ is empty on every service")
    for service, rows in seen.parked.items():
        check.cases += 1
        for row in rows:
            check.failures.append(f"{service}: {row.get('topic')} {row.get('reason', '')[:160]}")
    return check


def _ready(seen: Snapshot) -> Check:
    check = Check("every service ready at the end")
    for service, answer in seen.ready.items():
        check.expect(answer == "ready", f"{service}: {answer}")
    return check


def ledger(orders: Iterable[Order], seen: Snapshot) -> dict[str, Any]:
    """What a run booked, keyed by what the harness sent (external ids, SKUs, locations), not
    by the ids the system made up: two runs of the same orders compare equal when they booked
    the same orders, reservations, stock and shipments."""
    external = {o.order_id: o.body["external_id"] for o in orders if o.order_id is not None}
    shipments: dict[str, list[Any]] = {ext: [] for ext in external.values()}
    for shipment in seen.shipments:
        lines = sorted((line["sku"], line["quantity"]) for line in shipment["lines"])
        shipments[external[str(shipment["order_id"])]].append(
            (shipment["location_id"], shipment["status"], lines)
        )

    def reserved(order_id: str) -> tuple[Any, ...]:
        reservation = seen.reservations.get(order_id) or {}
        held = reservation.get("allocations") or []
        lines = sorted((a["sku"], a["location_id"], a["quantity"]) for a in held)
        return reservation.get("status"), lines

    return {
        "orders": {
            ext: (seen.orders[order_id]["status"], reserved(order_id), sorted(shipments[ext]))
            for order_id, ext in sorted(external.items(), key=lambda item: item[1])
        },
        "stock": {
            (sku, level["location_id"]): (int(level["on_hand"]), int(level["reserved"]))
            for sku, stock in sorted(seen.stock.items())
            for level in stock["locations"]
        },
    }
