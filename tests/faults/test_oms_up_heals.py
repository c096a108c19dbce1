"""`oms up` heals its own infrastructure: a killed broker or PostgreSQL comes back by itself, the
services recover, nothing is lost or applied twice, and no process outlives `oms up`.

The system is started the way `oms up` starts it: embedded PostgreSQL, the embedded broker and
the five real services, each its own supervised process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from aiokafka import AIOKafkaConsumer

from shared.cli.system import PORTS, EmbeddedSystem
from shared.events import topics
from shared.runtime.embedded import free_port, free_port_block, port_is_free
from tests.kit import bearer, eventually

pytestmark = pytest.mark.integration
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedSystem]:
    """The whole system with its own embedded PostgreSQL, so the test may kill it."""
    oms = EmbeddedSystem(
        tmp_path_factory.mktemp("heal") / "var",
        kafka_port=free_port(),
        base_http_port=free_port_block(PORTS),
    )
    oms.start()
    yield oms
    oms.stop()


class Shop:
    """Places orders over HTTP and reads back what became of them."""

    def __init__(self, urls: dict[str, str], token: str) -> None:
        self.urls = urls
        self.http = httpx.Client(timeout=15, headers=bearer(token))

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.urls[service]}/v1{path}", **kwargs)

    def order_with_stock(self) -> tuple[str, str]:
        """Stock up a new SKU (5 units) and order 2 of it; returns (order id, sku)."""
        sku = f"HEAL-{uuid.uuid4().hex[:6].upper()}"
        location = {"location_id": "WH-HEAL", "name": "Healing warehouse", "country": "DE"}
        # Right after an outage the first requests may still meet a closed connection.
        eventually(lambda: self._accepted("POST", "/locations", json=location), timeout=30)
        receipt = {"location_id": "WH-HEAL", "sku": sku, "quantity": 5}
        eventually(
            lambda: self._accepted(
                "POST", "/stock/receipts", json=receipt, headers={"Idempotency-Key": sku}
            ),
            timeout=30,
        )
        order = {
            "channel": "web",
            "external_id": f"HEAL-{uuid.uuid4().hex[:10]}",
            "customer": {"name": "Anna Schmidt", "email": "anna@example.com"},
            "shipping_address": {
                "name": "Anna Schmidt",
                "line1": "Torstrasse 101",
                "city": "Berlin",
                "postal_code": "10119",
                "country": "DE",
            },
            "lines": [{"sku": sku, "quantity": 2, "unit_price": "9.90"}],
            "currency": "EUR",
        }
        placed = self.call("channel_gateway", "POST", "/orders", json=order)
        assert placed.status_code == 202, placed.text
        return placed.json()["order_id"], sku

    def _accepted(self, method: str, path: str, **kwargs: Any) -> bool:
        try:
            response = self.call("inventory_service", method, path, **kwargs)
        except httpx.HTTPError:
            return False
        return response.status_code in (200, 201, 202, 409)

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.call("order_service", "GET", f"/orders/{order_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def confirmed(self, order_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """The order once it is confirmed (stock reserved)."""

        def check() -> dict[str, Any]:
            order = self.order(order_id)
            assert order["status"] == "confirmed", order["status"]
            return order

        return eventually(check, timeout=timeout, interval=0.2)

    def assert_applied_once(self, order_id: str, sku: str) -> None:
        """Every effect of the order happened exactly once in every service."""
        order = self.order(order_id)
        assert order["status"] == "confirmed"
        events = [entry["event"] for entry in order["timeline"]]
        assert len(events) == len(set(events)), events
        stock = self.call("inventory_service", "GET", f"/stock/{sku}").json()["total"]
        assert stock == {"on_hand": 5, "reserved": 2, "available": 3}

        def shipments() -> list[dict[str, Any]]:
            path = f"/shipments?order_id={order_id}"
            return self.call("fulfillment_service", "GET", path).json()["data"]

        # Fulfillment makes the shipment once it hears of the confirmation.
        assert len(eventually(shipments, timeout=30, interval=0.2)) == 1


@pytest.fixture(scope="module")
def shop(system: EmbeddedSystem) -> Iterator[Shop]:
    client = Shop(system.urls(), system.admin_token)
    yield client
    client.http.close()


def all_ready(system: EmbeddedSystem) -> bool:
    """True when every service answers /readyz with 200."""
    for url in system.urls().values():
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code != 200:
                return False
        except httpx.HTTPError:
            return False
    return True


def broker_pid(system: EmbeddedSystem) -> int | None:
    """The process listening on the Kafka port, if any."""
    return _listener(system.kafka_port)


def postgres_pid(system: EmbeddedSystem) -> int | None:
    """The running postmaster of the system's data directory, if any."""
    return _postmaster(system.var_dir)


def _listener(port: int) -> int | None:
    """The process listening on a local TCP port, if any."""
    for connection in psutil.net_connections("tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
            return connection.pid
    return None


def _postmaster(var_dir: Path) -> int | None:
    """The running postmaster of the data directory under var_dir, if any."""
    try:
        pid = int((var_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if psutil.pid_exists(pid) else None


def kill_and_wait_for_restart(system: EmbeddedSystem, find: Callable[[], int | None]) -> None:
    """SIGKILL a process; return once another one took its place and every service is ready."""
    pid = find()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    eventually(lambda: find() not in (None, pid), timeout=30, interval=0.1)
    eventually(lambda: all_ready(system), timeout=60, interval=0.2)


def orders_on_the_broker(bootstrap: str) -> set[str]:
    """Keys (order ids) of every message now on the orders topic."""

    async def read() -> set[str]:
        consumer = AIOKafkaConsumer(
            topics.ORDERS, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            keys: set[str] = set()
            while batch := await consumer.getmany(timeout_ms=500):
                keys |= {r.key.decode() for part in batch.values() for r in part if r.key}
            return keys
        finally:
            await consumer.stop()

    return asyncio.run(read())


def test_a_killed_broker_is_restarted_and_orders_before_and_after_are_all_applied_once(
    system: EmbeddedSystem, shop: Shop
) -> None:
    before, before_sku = shop.order_with_stock()
    shop.confirmed(before)

    kill_and_wait_for_restart(system, lambda: broker_pid(system))

    after, after_sku = shop.order_with_stock()
    shop.confirmed(after)
    # The new broker started empty; the relays noticed and published their history again.
    eventually(lambda: before in orders_on_the_broker(system.bootstrap), timeout=30)
    shop.assert_applied_once(before, before_sku)
    shop.assert_applied_once(after, after_sku)
    assert system.supervisor is not None and system.supervisor.restarts()["broker"] >= 1
    log = (system.log_dir / "broker.log").read_text()
    assert "exited with code -9; restart #1" in log and "back after restart #1" in log


def test_a_killed_postgres_is_restarted_and_orders_before_and_after_are_all_applied_once(
    system: EmbeddedSystem, shop: Shop
) -> None:
    before, before_sku = shop.order_with_stock()
    shop.confirmed(before)

    kill_and_wait_for_restart(system, lambda: postgres_pid(system))

    after, after_sku = shop.order_with_stock()
    shop.confirmed(after)
    shop.assert_applied_once(before, before_sku)
    shop.assert_applied_once(after, after_sku)
    assert system.supervisor is not None and system.supervisor.restarts()["postgresql"] >= 1
    log = (system.log_dir / "postgresql.log").read_text()
    assert "exited with code -9; restart #1" in log and "back after restart #1" in log


def oms_up(output: Path, var_dir: Path, kafka_port: int, base_port: int) -> subprocess.Popen[bytes]:
    """`oms up` as its own process, its output to a file."""
    with output.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable, "-m", "shared.cli.main", "up",
                "--var-dir", str(var_dir),
                "--kafka-port", str(kafka_port),
                "--base-port", str(base_port),
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def wait_until_up(process: subprocess.Popen[bytes], output: Path) -> None:
    def up() -> bool:
        assert process.poll() is None, output.read_text()
        return "All services ready" in output.read_text()

    eventually(up, timeout=90, interval=0.2)


def system_processes(oms: subprocess.Popen[bytes], var_dir: Path) -> list[psutil.Process]:
    """Every process `oms up` runs: its descendants, and its PostgreSQL with its backends."""
    processes = {p.pid: p for p in psutil.Process(oms.pid).children(recursive=True)}
    postmaster = _postmaster(var_dir)
    if postmaster is not None:  # a daemon would not be among the descendants
        server = psutil.Process(postmaster)
        processes |= {p.pid: p for p in [server, *server.children(recursive=True)]}
    return list(processes.values())


def test_oms_up_killed_while_it_shuts_down_leaves_no_process_and_starts_again_on_its_ports(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    kafka_port, base_port = free_port(), free_port_block(PORTS)
    first = oms_up(tmp_path / "first.out", var_dir, kafka_port, base_port)
    try:
        wait_until_up(first, tmp_path / "first.out")
        processes = system_processes(first, var_dir)
        assert {p.pid for p in processes} >= {_listener(kafka_port), _postmaster(var_dir)}

        first.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the services are stopping; the broker and PostgreSQL not yet
        first.kill()
        assert first.wait() == -signal.SIGKILL  # killed mid-shutdown, not finished already
        _, left = psutil.wait_procs(processes, timeout=5)
        assert left == []
    finally:
        first.kill()
        first.wait()

    second = oms_up(tmp_path / "second.out", var_dir, kafka_port, base_port)
    try:
        wait_until_up(second, tmp_path / "second.out")
        processes = system_processes(second, var_dir)
    finally:
        second.kill()
        second.wait()
    _, left = psutil.wait_procs(processes, timeout=5)
    assert left == []
    assert port_is_free("127.0.0.1", kafka_port)
