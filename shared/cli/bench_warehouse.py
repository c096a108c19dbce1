"""`make bench-warehouse`: a 500-line pick list built and rendered, labels per second (PDF, ZPL).

Starts PostgreSQL (or uses --postgres-url), a broker and the fulfillment service alone, feeds it
bins and confirmed orders through its topics, then drives the warehouse over HTTP: one pick list
of 50 shipments x 10 SKUs (500 lines), every line confirmed, 500 packages packed and shipped with
the rate-table carrier, and the labels printed as PDF and as ZPL, in one job and one by one.
Figures are printed, never asserted; /livez requests per second are the raw HTTP figure of the
same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from aiokafka import AIOKafkaProducer
from rich.console import Console
from rich.table import Table

from shared.cli.client import auth_headers, session_token
from shared.cli.supervisor import ChildSpec, Supervisor
from shared.events import models as ev
from shared.events import now_utc, topics
from shared.events.codec import encode
from shared.runtime.embedded import (
    EmbeddedBroker,
    EmbeddedPostgres,
    drop_database,
    ensure_database,
    free_port,
)
from shared.runtime.kafka_admin import ensure_topics
from shared.runtime.settings import DEFAULT_TOPIC_PARTITIONS

console = Console()
LOCATION = "WH-BENCH"
SERVICE = "fulfillment_service"
ADDRESS = {
    "name": "Grace Hopper",
    "line1": "1 Compiler Street",
    "city": "Arlington",
    "postal_code": "22201",
    "country": "US",
}
AIMS = {"pdf_labels_per_s": ">= 200", "zpl_labels_per_s": ">= 5000", "pick_list_500_s": "< 1.0"}


def bench_warehouse(
    shipments: Annotated[int, typer.Option(help="Shipments on the pick list (slots).")] = 50,
    lines: Annotated[int, typer.Option(help="Distinct SKUs per shipment.")] = 10,
    concurrency: Annotated[int, typer.Option(help="Concurrent HTTP clients.")] = 8,
    postgres_url: Annotated[
        str | None, typer.Option(envvar="OMS_POSTGRES_URL", help="Use this PostgreSQL server.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the figures as JSON.")] = Path(
        "var/bench/warehouse.json"
    ),
) -> None:
    """Start the fulfillment service alone, run the warehouse through it, print the figures."""
    with FulfillmentUnderTest(postgres_url) as service:
        figures = asyncio.run(_run(service, shipments, lines, concurrency))
    _print(figures)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    console.print(f"Figures written to {out}")


class FulfillmentUnderTest:
    """PostgreSQL, a broker and one fulfillment process on free ports, stopped on exit."""

    def __init__(self, postgres_url: str | None) -> None:
        self.var_dir = Path(tempfile.mkdtemp(prefix="oms-bench-warehouse-"))
        self.external_postgres = postgres_url
        self.postgres: EmbeddedPostgres | None = None
        self.broker = EmbeddedBroker(free_port(), log_path=self.var_dir / "broker.log")
        self.port = free_port()
        self.dbname = f"benchwh{int(time.time())}_fulfillment"
        self.server_url = ""
        self.supervisor: Supervisor | None = None

    @property
    def base_url(self) -> str:
        """The fulfillment API."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FulfillmentUnderTest:
        with console.status("starting PostgreSQL, a broker and the fulfillment service..."):
            try:
                self._start()
            except BaseException:
                self.__exit__()
                raise
        return self

    def _start(self) -> None:
        if self.external_postgres:
            self.server_url = self.external_postgres
        else:
            self.postgres = EmbeddedPostgres(self.var_dir / "postgres")
            self.postgres.start()
            self.server_url = self.postgres.url("postgres")
        self.broker.start()
        asyncio.run(
            ensure_topics(self.broker.bootstrap, topics.ALL_TOPICS, DEFAULT_TOPIC_PARTITIONS)
        )
        database_url = ensure_database(self.server_url, self.dbname)
        env = {
            "OMS_FULFILLMENT_DATABASE_URL": database_url,
            "OMS_FULFILLMENT_KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "OMS_FULFILLMENT_HTTP_PORT": str(self.port),
            "OMS_FULFILLMENT_ACCESS_BOOTSTRAP_TOKEN": session_token(),
            "OMS_FULFILLMENT_TOPIC_PARTITIONS": str(DEFAULT_TOPIC_PARTITIONS),
            "OMS_FULFILLMENT_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(
                p
                for p in (str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH"))
                if p
            ),
        }
        command = [sys.executable, "-m", f"services.{SERVICE}"]
        self.supervisor = Supervisor([ChildSpec(SERVICE, command, env)], self.var_dir / "logs")
        self.supervisor.start()
        _wait_ready(f"{self.base_url}/readyz")

    def __exit__(self, *exc_info: object) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        self.broker.stop()
        if self.server_url:
            drop_database(self.server_url, self.dbname)
        if self.postgres is not None:
            self.postgres.stop()


def _wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the fulfillment service did not become ready at {url}")


async def _run(
    service: FulfillmentUnderTest, shipments: int, lines: int, concurrency: int
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=concurrency * 2)
    headers = auth_headers(session_token())
    async with httpx.AsyncClient(
        base_url=service.base_url, timeout=120, limits=limits, headers=headers
    ) as http:
        figures: dict[str, Any] = {
            "raw_http_livez_per_s": await _rate(
                [partial(http.get, "/livez") for _ in range(2000)], concurrency
            ),
            "shipments": shipments,
            "pick_list_lines": shipments * lines,
        }
        with console.status("feeding bins and orders through the topics..."):
            skus = await _feed(service.broker.bootstrap, shipments, lines)
            await _until(http, f"/v1/locations/{LOCATION}/bins", len(skus))
            await _until(http, f"/v1/shipments?location_id={LOCATION}&status=open", shipments)
        with console.status("the 500-line pick list..."):
            pick_list = await _pick_list(http, shipments, figures)
        with console.status("packing and shipping..."):
            packages = await _pack_and_ship(http, pick_list, concurrency, figures)
        with console.status("printing labels..."):
            await _labels(http, pick_list["pick_list_id"], packages, concurrency, figures)
    return figures


async def _feed(bootstrap: str, shipments: int, lines: int) -> list[str]:
    """Bins for every SKU in shuffled order, then the orders: as inventory and orders publish."""
    skus = [f"BENCH-{n:04d}" for n in range(shipments * lines)]
    bins = [
        f"{aisle}-{bay}-{level}"
        for aisle in "ABCDEFGH"
        for bay in range(1, 26)
        for level in (1, 2, 3)
    ]
    shuffled = random.Random(7).sample(bins, len(skus))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for position, (sku, bin) in enumerate(zip(skus, shuffled, strict=True), start=1):
            event = ev.BinAssigned(sku=sku, location_id=LOCATION, bin=bin, assigned_at=now_utc())
            await _send(producer, event, "inventory_service", position)
        position = 0
        for n in range(shipments):
            order_id = uuid.uuid4()
            order_lines = [
                {"sku": sku, "quantity": 1, "unit_price": "9.90"}
                for sku in skus[n * lines : (n + 1) * lines]
            ]
            for event in _order_events(order_id, n, order_lines):
                position += 1
                await _send(producer, event, "order_service", position)
        await producer.flush()
    finally:
        await producer.stop()
    return skus


def _order_events(order_id: uuid.UUID, n: int, lines: list[dict[str, Any]]) -> list[Any]:
    customer = {"name": ADDRESS["name"], "email": "grace@example.com"}
    return [
        ev.OrderConfirmed(
            order_id=order_id,
            customer=customer,
            shipping_address=ADDRESS,
            lines=lines,
            allocations=[
                {"sku": line["sku"], "location_id": LOCATION, "quantity": 1} for line in lines
            ],
            confirmed_at=now_utc(),
            channel="bench",
            external_id=f"B-{n:05d}",
            placed_at=now_utc(),
        ),
    ]


async def _send(producer: AIOKafkaProducer, event: Any, service: str, position: int) -> None:
    message = encode(event, event_id=str(uuid.uuid4()), service=service, position=position)
    await producer.send(event.topic, message.value, key=message.key, headers=message.headers)


async def _until(http: httpx.AsyncClient, path: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (await http.get(path, params={"limit": 1})).json()["count"] < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not reach {count} within {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def _pick_list(
    http: httpx.AsyncClient, shipments: int, figures: dict[str, Any]
) -> dict[str, Any]:
    started = time.perf_counter()
    created = await http.post(
        "/v1/pick-lists", json={"location_id": LOCATION, "max_shipments": shipments}
    )
    created.raise_for_status()
    built = time.perf_counter()
    pick_list = created.json()
    pdf = await http.get(f"/v1/pick-lists/{pick_list['pick_list_id']}/document.pdf")
    pdf.raise_for_status()
    rendered = time.perf_counter()
    figures["pick_list_build_s"] = round(built - started, 3)
    figures["pick_list_render_s"] = round(rendered - built, 3)
    figures["pick_list_500_s"] = round(rendered - started, 3)
    figures["pick_list_pdf_bytes"] = len(pdf.content)
    picks = [{"sku": line["sku"], "picked": line["quantity"]} for line in pick_list["lines"]]
    started = time.perf_counter()
    confirmed = await http.post(
        f"/v1/pick-lists/{pick_list['pick_list_id']}/confirm", json={"lines": picks}
    )
    confirmed.raise_for_status()
    figures["pick_list_confirm_s"] = round(time.perf_counter() - started, 3)
    return confirmed.json()


async def _pack_and_ship(
    http: httpx.AsyncClient, pick_list: dict[str, Any], concurrency: int, figures: dict[str, Any]
) -> list[str]:
    """One package per line of every shipment, then each shipment ships with the rate table."""
    by_shipment: dict[str, list[str]] = {}
    for line in pick_list["lines"]:
        for slot in line["slots"]:
            by_shipment.setdefault(slot["shipment_id"], []).append(line["sku"])
    packages: list[str] = []

    async def pack(shipment_id: str, skus: list[str]) -> None:
        for sku in skus:
            body = {
                "items": [{"sku": sku, "quantity": 1}],
                "weight_grams": 450,
                "dimensions_mm": {"length": 250, "width": 180, "height": 90},
            }
            response = await http.post(f"/v1/shipments/{shipment_id}/packages", json=body)
            response.raise_for_status()
            packages.append(response.json()["package_id"])

    started = time.perf_counter()
    await _gather([partial(pack, s, k) for s, k in by_shipment.items()], concurrency)
    figures["packages_per_s"] = round(len(packages) / (time.perf_counter() - started), 1)
    started = time.perf_counter()

    async def ship(shipment_id: str) -> None:
        await _ok(http.post(f"/v1/shipments/{shipment_id}/ship", json={"carrier": "oms-parcel"}))

    await _gather([partial(ship, s) for s in by_shipment], concurrency)
    figures["shipments_shipped_per_s"] = round(
        len(by_shipment) / (time.perf_counter() - started), 1
    )
    figures["labels"] = len(packages)
    return packages


async def _labels(
    http: httpx.AsyncClient,
    pick_list_id: str,
    packages: list[str],
    concurrency: int,
    figures: dict[str, Any],
) -> None:
    """All labels of the wave in one job (best of 3), then one request per label."""
    for fmt in ("pdf", "zpl"):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            await _ok(http.get(f"/v1/pick-lists/{pick_list_id}/labels.{fmt}"))
            times.append(time.perf_counter() - started)
        figures[f"{fmt}_labels_per_s"] = round(len(packages) / min(times), 1)
        figures[f"{fmt}_labels_per_s_median"] = round(len(packages) / statistics.median(times), 1)
        calls = [partial(http.get, f"/v1/packages/{p}/label.{fmt}") for p in packages]
        figures[f"{fmt}_labels_per_s_one_request_each"] = await _rate(calls, concurrency)


async def _ok(request: Awaitable[httpx.Response]) -> httpx.Response:
    response = await request
    response.raise_for_status()
    return response


async def _gather(calls: Sequence[Callable[[], Awaitable[Any]]], concurrency: int) -> None:
    """Run the calls with at most `concurrency` in flight."""
    queue = list(reversed(calls))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _rate(
    calls: Sequence[Callable[[], Awaitable[httpx.Response]]], concurrency: int
) -> float:
    """Completed requests per second."""

    async def checked(call: Callable[[], Awaitable[httpx.Response]]) -> None:
        await _ok(call())

    started = time.perf_counter()
    await _gather([partial(checked, c) for c in calls], concurrency)
    return round(len(calls) / (time.perf_counter() - started), 1)


def _print(figures: dict[str, Any]) -> None:
    table = Table(title="Warehouse benchmark (fulfillment service alone)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("aim", justify="right")
    for name, value in figures.items():
        table.add_row(name, str(value), AIMS.get(name, ""))
    console.print(table)


if __name__ == "__main__":
    typer.run(bench_warehouse)
