"""`make bench-channels`: signed webhooks accepted per second and intake latency at the gateway.

Starts PostgreSQL (or uses OMS_POSTGRES_URL), a broker and one channel gateway process, connects
a Shopify channel, then posts signed orders/create webhooks (each a new order) over HTTP with
many concurrent clients. Prints throughput, latency percentiles and the raw PostgreSQL commit
rate measured in the same run; it asserts nothing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.cli.bench_probes import postgres_commit_rate
from shared.cli.client import auth_headers, session_token
from shared.cli.loadgen import post_all
from shared.cli.secrets import new_key
from shared.runtime.embedded import (
    EmbeddedBroker,
    EmbeddedPostgres,
    database_url,
    drop_database,
    ensure_database,
    free_port,
)

console = Console()
SECRET = "bench-webhook-secret"
SKUS = {f"SHOP-SKU-{i}": f"SKU-{i}" for i in range(20)}


def bench_channels(
    webhooks: Annotated[int, typer.Option(help="Webhooks to post (each a new order).")] = 5000,
    concurrency: Annotated[int, typer.Option(help="Concurrent HTTP clients.")] = 64,
    instances: Annotated[
        int, typer.Option(help="Gateway processes taking webhooks (the first also leads).")
    ] = 1,
    split: Annotated[
        bool,
        typer.Option(
            help="Run relay, projection and workers in a process of their own, so the "
            "processes taking webhooks are API only."
        ),
    ] = False,
    postgres_url: Annotated[
        str | None, typer.Option(envvar="OMS_POSTGRES_URL", help="Use this PostgreSQL server.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the figures as JSON.")] = Path(
        "var/bench/channels.json"
    ),
) -> None:
    """Measure webhook intake with signature checks on; print the figures."""
    with infrastructure(postgres_url) as (server_url, bootstrap):
        with _gateways(server_url, bootstrap, instances, split) as urls:
            figures = asyncio.run(_run(urls, webhooks, concurrency))
            figures["split"] = split
        figures["raw"] = {"postgres_commits_per_s_1_client": postgres_commit_rate(server_url)}
    figures["ratio_webhooks_per_pg_commit"] = round(
        figures["accepted_per_s"] / figures["raw"]["postgres_commits_per_s_1_client"], 3
    )
    _print(figures)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    console.print(f"Figures written to {out}")


@contextmanager
def infrastructure(
    postgres_url: str | None, prefix: str = "oms-bench-channels-"
) -> Iterator[tuple[str, str]]:
    """PostgreSQL (the given server, else an embedded one) and a fresh broker, for a bench."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    postgres = None
    if postgres_url is None:
        postgres = EmbeddedPostgres(scratch / "pg")
        with console.status("starting PostgreSQL..."):
            postgres.start()
        postgres_url = postgres.url("postgres")
    broker = EmbeddedBroker(free_port(), log_path=scratch / "broker.log")
    broker.start()
    try:
        yield postgres_url, broker.bootstrap
    finally:
        broker.stop()
        if postgres is not None:
            postgres.stop()


@contextmanager
def _gateways(server_url: str, bootstrap: str, instances: int, split: bool) -> Iterator[list[str]]:
    """Gateway processes on one database; one of them leads (relay, projection, workers)."""
    name = f"bench_channels_{int(time.time())}"
    ensure_database(server_url, name)
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    # (serves HTTP, runs workers); one at a time, since the first creates the tables.
    roles = [(True, not split and index == 0) for index in range(instances)]
    roles += [(False, True)] if split else []
    key = new_key()  # the database is new: so is its key
    try:
        for index, (api, workers) in enumerate(roles):
            port = free_port()
            env = {
                **os.environ,
                "OMS_GATEWAY_DATABASE_URL": database_url(server_url, name),
                "OMS_GATEWAY_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "OMS_GATEWAY_HTTP_PORT": str(port),
                "OMS_GATEWAY_ACCESS_BOOTSTRAP_TOKEN": session_token(),
                "OMS_GATEWAY_SECRETS_KEYS": key,
                # The worker process says "leading" at INFO: that is how readiness is seen.
                "OMS_GATEWAY_LOG_LEVEL": "WARNING" if api else "INFO",
                "OMS_GATEWAY_RUN_API": str(api).lower(),
                "OMS_GATEWAY_RUN_WORKERS": str(workers).lower(),
                "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            }
            log = Path(tempfile.gettempdir()) / f"{name}_{index}.log"
            with log.open("wb") as sink:
                command = [sys.executable, "-m", "services.channel_gateway"]
                processes.append(subprocess.Popen(command, env=env, stdout=sink, stderr=sink))
            if not api:
                _wait_leading(log, processes[-1])  # no HTTP to ask: its log says when
                continue
            urls.append(f"http://127.0.0.1:{port}")
            with console.status(f"starting channel gateway {index + 1} of {len(roles)}..."):
                wait_ready(urls[-1], processes[-1], log)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        drop_database(server_url, name)


def _wait_leading(log: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited; see {log}")
        if b'"leading"' in log.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"the gateway did not start leading; see {log}")


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait (up to a minute) until a started service answers /readyz with 200."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the service did not get ready; see {log}")


def shopify_webhook(number: int) -> tuple[bytes, dict[str, str]]:
    """A signed orders/create webhook of a new order, as Shopify sends it."""
    order_id = 6_000_000_000 + number
    body = json.dumps(
        {
            "id": order_id,
            "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "email": f"buyer{number}@example.de",
            "currency": "EUR",
            "customer": {"first_name": "Bench", "last_name": f"Buyer {number}"},
            "shipping_address": {
                "name": f"Bench Buyer {number}",
                "address1": "Bergmannstraße 42",
                "city": "Berlin",
                "zip": "10961",
                "country_code": "DE",
            },
            "line_items": [
                {
                    "id": number * 10 + i,
                    "sku": f"SHOP-SKU-{(number + i) % 20}",
                    "quantity": 1 + i,
                    "price": "19.90",
                }
                for i in range(3)
            ],
        },
        separators=(",", ":"),
    ).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": signature.decode(),
        "X-Shopify-Event-Id": f"bench-{number}",
    }


async def _run(urls: list[str], count: int, concurrency: int) -> dict[str, Any]:
    headers = auth_headers(session_token())
    async with httpx.AsyncClient(base_url=urls[0], timeout=60, headers=headers) as http:
        registered = await http.post(
            "/v1/channels",
            json={
                "channel_id": "bench-shopify",
                "kind": "shopify",
                "shop_domain": "bench.myshopify.com",
                "access_token": "unused",
                "webhook_secret": SECRET,
                "sku_mapping": SKUS,
            },
        )
        registered.raise_for_status()
    ports = [int(url.rsplit(":", 1)[1]) for url in urls]
    warmup = max(200, count // 20)
    await _post_all(ports, range(warmup), concurrency)
    started = time.perf_counter()
    latencies, statuses = await _post_all(ports, range(warmup, warmup + count), concurrency)
    elapsed = time.perf_counter() - started
    dup_started = time.perf_counter()
    dup_latencies, _ = await _post_all(ports, range(warmup, warmup + count // 5), concurrency)
    dup_elapsed = time.perf_counter() - dup_started
    accepted = statuses.count(200)
    return {
        "webhooks": count,
        "concurrency": concurrency,
        "instances": len(urls),
        "accepted": accepted,
        "refused": count - accepted,
        "accepted_per_s": round(accepted / elapsed, 1),
        "latency_ms": _percentiles(latencies),
        "duplicates_per_s": round(len(dup_latencies) / dup_elapsed, 1),
        "duplicate_latency_ms": _percentiles(dup_latencies),
        "cpus": os.cpu_count(),
    }


async def _post_all(
    ports: list[int], numbers: range, concurrency: int
) -> tuple[list[float], list[int]]:
    """Post the webhooks over keep-alive connections, one per client."""
    replies = await post_all(
        ports, "/v1/webhooks/shopify/bench-shopify", map(shopify_webhook, numbers), concurrency
    )
    return [r.seconds for r in replies], [r.status for r in replies]


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    cuts = statistics.quantiles(ms, n=100)
    return {
        "p50": round(cuts[49], 1),
        "p90": round(cuts[89], 1),
        "p99": round(cuts[98], 1),
        "max": round(ms[-1], 1),
    }


def _print(figures: dict[str, Any]) -> None:
    table = Table(title="Channel gateway webhook intake (signature checks on)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("webhooks posted", str(figures["webhooks"]))
    table.add_row("concurrent clients", str(figures["concurrency"]))
    table.add_row("gateway processes taking webhooks", str(figures["instances"]))
    table.add_row("relay/projection/workers", "own process" if figures["split"] else "shared")
    table.add_row("accepted (200)", str(figures["accepted"]))
    table.add_row("[bold]accepted per second[/]", f"[bold]{figures['accepted_per_s']}[/]")
    for name, value in figures["latency_ms"].items():
        table.add_row(f"intake latency {name} (ms)", str(value))
    table.add_row("duplicate webhooks per second", str(figures["duplicates_per_s"]))
    table.add_row("duplicate latency p99 (ms)", str(figures["duplicate_latency_ms"]["p99"]))
    table.add_row(
        "raw: PostgreSQL commits/s (1 client)",
        str(figures["raw"]["postgres_commits_per_s_1_client"]),
    )
    table.add_row("webhooks per raw commit", str(figures["ratio_webhooks_per_pg_commit"]))
    table.add_row("CPUs (load generator shares them)", str(figures["cpus"]))
    console.print(table)


def main() -> None:
    """Entry point of `python -m shared.cli.bench_channels`."""
    typer.run(bench_channels)


if __name__ == "__main__":
    main()
