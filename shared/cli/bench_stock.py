"""`make bench-stock`: stock-sync lag and ATP reads under load, each beside a same-run baseline.

Starts PostgreSQL (or uses OMS_POSTGRES_URL), a broker, the inventory service and the channel
gateway (one process each, as `oms up` runs them) and a small WooCommerce-shaped channel on
loopback that notes when it is told each figure. Then:

- stock-sync lag: receipts of one unit, spread over SKUs at a steady pace; from the receipt's
  answer to the channel holding the new figure (inventory -> topic -> gateway -> push), beside
  the receipt's own latency (the command that causes it);
- ATP read: `GET /v1/atp/{sku}?channel=` from many concurrent clients, beside `GET /v1/stock/{sku}`
  under the same load.

Prints figures and the raw PostgreSQL commit rate of the run; it asserts nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlparse

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.cli.bench_channels import infrastructure, wait_ready
from shared.cli.bench_probes import postgres_commit_rate
from shared.cli.client import auth_headers, session_token
from shared.cli.secrets import new_key
from shared.runtime.embedded import (
    database_url,
    drop_database,
    ensure_database,
    free_port,
)

console = Console()
CHANNEL = "woo-bench"
PRODUCT = re.compile(r"^/wp-json/wc/v3/products/(\d+)$")


class StockChannel:
    """A WooCommerce-shaped channel: products by SKU, and when each stock figure arrived."""

    def __init__(self, skus: list[str]) -> None:
        self.ids = {sku: 1000 + index for index, sku in enumerate(skus)}
        self.skus = {product_id: sku for sku, product_id in self.ids.items()}
        self.told: dict[str, list[tuple[float, int]]] = {sku: [] for sku in skus}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where the channel answers."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StockChannel:
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()

    def held_since(self, sku: str, at_least: int) -> float | None:
        """When the channel first held at least this figure of the SKU (monotonic), if yet."""
        with self.lock:
            return next((t for t, units in self.told[sku] if units >= at_least), None)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        channel = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                """Quiet."""

            def _answer(self, body: Any, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                sku = parse_qs(url.query).get("sku", [""])[0]
                found = channel.ids.get(sku)
                self._answer([] if found is None else [{"id": found, "sku": sku, "parent_id": 0}])

            def do_PUT(self) -> None:
                matched = PRODUCT.match(urlparse(self.path).path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                sku = channel.skus.get(int(matched.group(1))) if matched else None
                if sku is None:
                    self._answer({"code": "woocommerce_rest_product_invalid_id"}, 404)
                    return
                with channel.lock:
                    channel.told[sku].append((time.monotonic(), int(body["stock_quantity"])))
                self._answer({"id": channel.ids[sku], "stock_quantity": body["stock_quantity"]})

        return Handler


def bench_stock(
    skus: Annotated[int, typer.Option(help="SKUs in stock.")] = 50,
    changes: Annotated[int, typer.Option(help="Stock changes whose sync is timed.")] = 300,
    pace: Annotated[float, typer.Option(help="Stock changes per second.")] = 30.0,
    reads: Annotated[int, typer.Option(help="ATP (and stock) reads under load.")] = 3000,
    concurrency: Annotated[int, typer.Option(help="Concurrent readers.")] = 16,
    rate: Annotated[float, typer.Option(help="OMS_GATEWAY_STOCK_SYNC_RATE of the run.")] = 50.0,
    postgres_url: Annotated[
        str | None, typer.Option(envvar="OMS_POSTGRES_URL", help="Use this PostgreSQL server.")
    ] = None,
) -> None:
    """Time stock sync and ATP reads on a fresh inventory and gateway."""
    names = [f"BENCH-{i}" for i in range(skus)]
    channel = StockChannel(names).start()
    try:
        with infrastructure(postgres_url, "oms-bench-stock-") as (server_url, bootstrap):
            commit_rate = postgres_commit_rate(server_url)
            with _services(server_url, bootstrap, rate) as (inventory, gateway):
                figures = asyncio.run(
                    _run(inventory, gateway, channel, names, changes, pace, reads, concurrency)
                )
    finally:
        channel.stop()
    figures["baseline"] = {"postgres_commits_per_second": round(commit_rate)}
    figures["settings"] = {"rate": rate, "pace": pace, "skus": skus, "concurrency": concurrency}
    _print(figures)


async def _run(
    inventory: str,
    gateway: str,
    channel: StockChannel,
    names: list[str],
    changes: int,
    pace: float,
    reads: int,
    concurrency: int,
) -> dict[str, Any]:
    headers = auth_headers(session_token())
    async with (
        httpx.AsyncClient(base_url=inventory, timeout=60, headers=headers) as inv,
        httpx.AsyncClient(base_url=gateway, timeout=60, headers=headers) as gw,
    ):
        await _setup(inv, gw, channel, names)
        lag, receipt = await _lag(inv, channel, names, changes, pace)
        atp = await _reads(
            inv, [f"/v1/atp/{s}?channel={CHANNEL}" for s in names], reads, concurrency
        )
        stock = await _reads(inv, [f"/v1/stock/{s}" for s in names], reads, concurrency)
    return {
        "stock_sync_lag_ms": _percentiles(lag),
        "receipt_ms": _percentiles(receipt),
        "atp_read_ms": _percentiles(atp),
        "stock_read_ms": _percentiles(stock),
        "synced": len(lag),
        "changes": changes,
    }


async def _setup(
    inv: httpx.AsyncClient, gw: httpx.AsyncClient, channel: StockChannel, names: list[str]
) -> None:
    """A location, ten units of every SKU, and the channel connected and told them all."""
    body = {"location_id": "bench", "name": "Bench", "country": "DE", "priority": 1}
    (await inv.post("/v1/locations", json=body)).raise_for_status()
    connection = {
        "channel_id": CHANNEL,
        "kind": "woocommerce",
        "base_url": channel.url,
        "consumer_key": "ck_bench",
        "consumer_secret": "cs_bench",
        "webhook_secret": "bench",
        "require_sku_mapping": False,
        "reconciliation_poll": False,
    }
    (await gw.post("/v1/channels", json=connection)).raise_for_status()
    for sku in names:
        receipt = {"location_id": "bench", "sku": sku, "quantity": 10}
        (await inv.post("/v1/stock/receipts", json=receipt)).raise_for_status()
    deadline = time.monotonic() + 120
    with console.status("waiting until the channel holds every SKU..."):
        while any(channel.held_since(sku, 10) is None for sku in names):
            if time.monotonic() > deadline:
                raise RuntimeError("the channel was not told every SKU within 120 s")
            await asyncio.sleep(0.2)


async def _lag(
    inv: httpx.AsyncClient, channel: StockChannel, names: list[str], changes: int, pace: float
) -> tuple[list[float], list[float]]:
    """Receipts of one unit at a steady pace; (sync lags, receipt latencies) in seconds."""
    level = dict.fromkeys(names, 10)
    sent: list[tuple[str, int, float]] = []
    receipt_latency: list[float] = []
    with console.status(f"{changes} stock changes at {pace:g}/s..."):
        for index in range(changes):
            sku = names[index % len(names)]
            started = time.monotonic()
            receipt = {"location_id": "bench", "sku": sku, "quantity": 1}
            (await inv.post("/v1/stock/receipts", json=receipt)).raise_for_status()
            answered = time.monotonic()
            receipt_latency.append(answered - started)
            level[sku] += 1
            sent.append((sku, level[sku], answered))
            await asyncio.sleep(max(0.0, 1 / pace - (time.monotonic() - started)))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all(channel.held_since(sku, units) is not None for sku, units, _ in sent):
                break
            await asyncio.sleep(0.2)
    lags = []
    for sku, units, answered in sent:
        held = channel.held_since(sku, units)
        if held is not None:
            lags.append(max(0.0, held - answered))
    return lags, receipt_latency


async def _reads(
    inv: httpx.AsyncClient, paths: list[str], count: int, concurrency: int
) -> list[float]:
    """Latencies of `count` GETs over these paths from `concurrency` clients at once."""
    latencies: list[float] = []
    queue = iter(range(count))

    async def reader() -> None:
        for index in queue:
            started = time.monotonic()
            (await inv.get(paths[index % len(paths)])).raise_for_status()
            latencies.append(time.monotonic() - started)

    with console.status(f"{count} reads of {paths[0].split('/')[2]} by {concurrency} clients..."):
        await asyncio.gather(*(reader() for _ in range(concurrency)))
    return latencies


@contextmanager
def _services(server_url: str, bootstrap: str, rate: float) -> Iterator[tuple[str, str]]:
    """Inventory and gateway processes, each on a database of its own; their URLs."""
    stamp = int(time.time())
    specs = [
        ("inventory_service", "OMS_INVENTORY_", f"bench_stock_inv_{stamp}", {}),
        (
            "channel_gateway",
            "OMS_GATEWAY_",
            f"bench_stock_gw_{stamp}",
            {
                "OMS_GATEWAY_STOCK_SYNC_RATE": str(rate),
                "OMS_GATEWAY_STOCK_SYNC_POLL_INTERVAL": "0.05",
                "OMS_GATEWAY_SECRETS_KEYS": new_key(),  # a new database: a new key
            },
        ),
    ]
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for package, prefix, name, extra in specs:
            ensure_database(server_url, name)
            port = free_port()
            env = {
                **os.environ,
                f"{prefix}DATABASE_URL": database_url(server_url, name),
                f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                f"{prefix}HTTP_PORT": str(port),
                f"{prefix}ACCESS_BOOTSTRAP_TOKEN": session_token(),
                f"{prefix}LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
                **extra,
            }
            log = Path(tempfile.gettempdir()) / f"{name}.log"
            with log.open("wb") as sink:
                command = [sys.executable, "-m", f"services.{package}"]
                processes.append(subprocess.Popen(command, env=env, stdout=sink, stderr=sink))
            urls.append(f"http://127.0.0.1:{port}")
            with console.status(f"starting {package}..."):
                wait_ready(urls[-1], processes[-1], log)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for _, _, name, _ in specs:
            drop_database(server_url, name)


def _percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p99": round(p99 * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


def _print(figures: dict[str, Any]) -> None:
    table = Table("measure", "p50 ms", "p99 ms", "max ms", "baseline (same run)", "p99 ms")
    pairs = (
        (
            "stock-sync lag (receipt answered -> channel holds it)",
            "stock_sync_lag_ms",
            "receipt command",
            "receipt_ms",
        ),
        (
            f"GET /v1/atp/{{sku}}?channel= ({figures['settings']['concurrency']} clients)",
            "atp_read_ms",
            "GET /v1/stock/{sku}",
            "stock_read_ms",
        ),
    )
    for label, key, base_label, base_key in pairs:
        row, base = figures[key], figures[base_key]
        table.add_row(
            label, str(row["p50"]), str(row["p99"]), str(row["max"]), base_label, str(base["p99"])
        )
    console.print(table)
    settings = figures["settings"]
    console.print(
        f"{figures['synced']} of {figures['changes']} changes seen at the channel;"
        f" {settings['skus']} SKUs, {settings['pace']:g} changes/s, push rate"
        f" {settings['rate']:g}/s per channel; PostgreSQL"
        f" {figures['baseline']['postgres_commits_per_second']} commits/s (one client)"
    )


def main() -> None:
    """Entry point of `python -m shared.cli.bench_stock`."""
    typer.run(bench_stock)


if __name__ == "__main__":
    main()
