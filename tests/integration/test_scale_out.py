"""Scale-out proven: every service run as three processes in one consumer group, one of them
killed mid-run, books the same orders, reservations, stock and shipments as one process each.

Both systems are started the way `oms up --instances N` starts them, each on its own embedded
PostgreSQL (three instances of five services need more connections than a shared server has).
The chaos harness drives them, checks its invariants on each, and gives the ledgers compared.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from shared.cli.chaos.checks import ledger, run_checks, snapshot
from shared.cli.chaos.faults import kill
from shared.cli.chaos.store import StoreLedger
from shared.cli.chaos.traffic import Api, Order, Traffic
from shared.cli.samples import LOCATIONS, SampleOrders, units_needed
from shared.cli.system import EmbeddedSystem, ports_spanned
from shared.runtime.embedded import free_port, free_port_block

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ORDERS = 300
IN_FLIGHT = 32  # orders posted at once, spread over the gateway instances
KILLED_AFTER = ORDERS // 3  # orders accepted before one order service process is killed


def test_three_instances_with_one_killed_book_what_one_instance_books(tmp_path: Path) -> None:
    one, _ = asyncio.run(_run(tmp_path / "one", instances=1, victim="order_service"))
    three, applied = asyncio.run(_run(tmp_path / "three", instances=3, victim="order_service-1"))

    assert len(one["orders"]) == ORDERS
    assert {status for status, _, _ in one["orders"].values()} == {"confirmed"}
    assert three == one
    # The load was shared: every instance's consumer applied messages of its partitions.
    for service in ("inventory_service", "fulfillment_service"):
        assert all(applied[service]), f"{service} instances applied {applied[service]}"


async def _run(
    var_dir: Path, *, instances: int, victim: str
) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """Start a system of `instances` per service, drive the sample orders, kill `victim` on
    the way; the ledger once every chaos check passes, and the messages each instance of each
    service applied."""
    system = EmbeddedSystem(
        var_dir,
        kafka_port=free_port(),
        base_http_port=free_port_block(ports_spanned(instances)),
        db_prefix="scale",
        stream_jobs=False,
        instances=instances,
    )
    await asyncio.to_thread(system.start)
    api = Api(system.instance_urls(), token=system.admin_token)
    try:
        booked = await _drive(system, api, victim)
        return booked, {
            service: [await _applied(api, url) for url in urls]
            for service, urls in system.instance_urls().items()
        }
    finally:
        await api.close()
        await asyncio.to_thread(system.stop)


async def _drive(system: EmbeddedSystem, api: Api, victim: str) -> dict[str, Any]:
    sample = SampleOrders(seed=13, prefix="scale").orders(ORDERS)
    orders = [Order(n, "leave", "simple", body, woo_id=n) for n, body in enumerate(sample)]
    traffic = Traffic(api, orders, tag="scale", seed=13)
    traffic.deadline = deadline = time.monotonic() + 150
    await traffic.register_locations(LOCATIONS, deadline)
    needed = units_needed(sample)
    for sku, units in sorted(needed.items()):
        # Twice what is ordered, at one location: every order's outcome is the same whatever
        # the order in which the instances happen to reserve.
        await traffic.receive(sku, LOCATIONS[0]["location_id"], units * 2, deadline)

    gate = asyncio.Semaphore(IN_FLIGHT)
    killed_at = asyncio.Event()

    async def place(order: Order) -> None:
        async with gate:
            await traffic.run_order(order)
        if sum(o.accepted for o in orders) >= KILLED_AFTER:
            killed_at.set()

    placing = asyncio.gather(*(place(order) for order in orders))
    mid_run = asyncio.ensure_future(killed_at.wait())
    await asyncio.wait([placing, mid_run], return_when=asyncio.FIRST_COMPLETED)
    assert killed_at.is_set(), "too few orders were accepted to kill mid-run"
    await kill(system, victim)
    await placing

    while (await _shipments(api, deadline)) < ORDERS:  # one each: all stock at one location
        assert time.monotonic() < deadline, f"shipments missing; logs in {system.log_dir}"
        await asyncio.sleep(0.5)
    while True:
        seen = await snapshot(api, traffic, needed, deadline)
        checks = run_checks(traffic, StoreLedger(), seen)
        failed = {c.name: c.failures[:3] for c in checks if not c.passed}
        if not failed:
            return ledger(orders, seen)
        assert time.monotonic() < deadline, f"{failed}; logs in {system.log_dir}"
        await asyncio.sleep(1.0)


async def _shipments(api: Api, deadline: float) -> int:
    """How many shipments fulfillment has created."""
    page = await api.get(
        "fulfillment_service", "/shipments", deadline=deadline, params={"limit": 1}
    )
    return int(page["count"])


async def _applied(api: Api, url: str) -> int:
    """Messages one instance's consumer applied (its `oms_consumed_total`)."""
    metrics = (await api.http.get(f"{url}/metrics")).text
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in metrics.splitlines()
        if line.startswith("oms_consumed_total{") and 'outcome="applied"' in line
    )
