"""`oms bench`: orders per second from intake to shipment created, next to raw infrastructure."""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from shared.cli.bench_baseline import RUNNER, run_baseline
from shared.cli.bench_probes import (
    EventClock,
    ResourceSampler,
    broker_produce_rate,
    postgres_commit_rate,
)
from shared.cli.bench_profile import Profiler
from shared.cli.client import OmsClient, auth_headers
from shared.cli.loadgen import Reply, post_all, post_at_rate
from shared.cli.samples import LOCATIONS, SampleOrders, units_needed
from shared.cli.system import SERVICES

console = Console()
# Processes `oms up` starts that are not the OMS's own (their memory is reported apart).
_INFRASTRUCTURE = {"broker", "postgresql", "s3"}
JSON = {"Content-Type": "application/json"}
HOPS = (
    ("intake (HTTP -> gateway stored)", "posted", "oms.ChannelOrderReceived.v1"),
    ("gateway -> orders", "oms.ChannelOrderReceived.v1", "oms.OrderPlaced.v1"),
    ("orders -> inventory reserved", "oms.OrderPlaced.v1", "oms.StockReserved.v1"),
    ("inventory -> orders confirmed", "oms.StockReserved.v1", "oms.OrderConfirmed.v1"),
    ("orders -> shipment created", "oms.OrderConfirmed.v1", "oms.ShipmentCreated.v1"),
    ("end to end", "posted", "oms.ShipmentCreated.v1"),
)


def register(app: typer.Typer) -> None:
    """Add the bench command to the `oms` app."""
    app.command("bench")(bench)


def bench(
    orders: Annotated[int, typer.Option(help="Orders to push through the system.")] = 2000,
    concurrency: Annotated[int, typer.Option(help="Concurrent HTTP clients.")] = 32,
    base_port: Annotated[int, typer.Option(help="Gateway port of the bench system.")] = 18000,
    kafka_port: Annotated[int, typer.Option(help="Broker port of the bench system.")] = 19092,
    postgres_url: Annotated[
        str | None, typer.Option(envvar="OMS_POSTGRES_URL", help="Use this PostgreSQL server.")
    ] = None,
    broker_storage: Annotated[
        str, typer.Option(help="Where the embedded broker keeps its log: memory or s3.")
    ] = "memory",
    s3_port: Annotated[int, typer.Option(help="First S3 store port (with s3 storage).")] = 18333,
    out: Annotated[Path, typer.Option(help="Where to write the figures as JSON.")] = Path(
        "var/bench/last.json"
    ),
    stream_jobs: Annotated[
        bool,
        typer.Option(
            "--stream-jobs/--no-stream-jobs",
            help="Run the stream jobs beside the services (they share the machine's cores).",
        ),
    ] = True,
    rates: Annotated[
        str,
        typer.Option(help="Open-loop rates (orders/s) run after the burst, comma-separated."),
    ] = "10,50,100,200",
    rate_seconds: Annotated[
        float, typer.Option(help="How long each open-loop rate sends orders.")
    ] = 10.0,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile/--no-profile",
            help="Sample every service with py-spy during the burst and print its hot spots"
            " (the sampling costs some CPU: compare throughput without it).",
        ),
    ] = False,
    baseline: Annotated[
        bool,
        typer.Option(
            "--baseline/--no-baseline",
            help="After the burst, run the same orders through the eventsourcing library's own "
            "System on the same PostgreSQL server: the same-run baseline.",
        ),
    ] = True,
    instances: Annotated[
        int, typer.Option(min=1, help="Processes per service; orders are posted to every gateway.")
    ] = 1,
) -> None:
    """Start a fresh system, push orders through it, print throughput, latencies and memory."""
    from shared.cli.system import EmbeddedSystem

    var_dir = Path(tempfile.mkdtemp(prefix="oms-bench-"))
    system = EmbeddedSystem(
        var_dir,
        postgres_url=postgres_url,
        kafka_port=kafka_port,
        base_http_port=base_port,
        db_prefix=f"bench{int(time.time())}",
        broker_storage=broker_storage,
        s3_port=s3_port,
        stream_jobs=stream_jobs,
        instances=instances,
    )
    with console.status(f"starting a fresh OMS for the benchmark (broker: {broker_storage})..."):
        system.start()
    try:
        profiler = _profiler(system, var_dir) if profile else None
        figures = asyncio.run(
            _run(
                system,
                orders,
                concurrency,
                _rates(rates),
                rate_seconds,
                profiler,
                baseline=baseline,
            )
        )
    finally:
        with console.status("stopping..."):
            system.stop()
    _print(figures)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    console.print(f"Figures written to {out}")


def _rates(text: str) -> list[float]:
    """The open-loop rates from `--rates` ("" runs none)."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise typer.BadParameter(f"--rates: {error}") from error


def _profiler(system: Any, var_dir: Path) -> Profiler:
    """A py-spy profiler of every service process (not the broker or PostgreSQL)."""
    if not Profiler.available():
        raise typer.BadParameter("--profile needs py-spy (pip install py-spy)")
    python = {service.name for service in SERVICES} | {"stream_jobs"}
    services = {
        name: pid
        for name, pid in system.pids().items()
        if pid and any(name.startswith(each) for each in python)  # instances too
    }
    return Profiler(services, var_dir / "profile")


async def _run(
    system: Any,
    count: int,
    concurrency: int,
    rates: list[float],
    rate_seconds: float,
    profiler: Profiler | None = None,
    *,
    baseline: bool = True,
) -> dict[str, Any]:
    raw = {
        "postgres_commits_per_s_1_client": await asyncio.to_thread(
            postgres_commit_rate, system.postgres_server_url
        ),
        "broker_produce_msgs_per_s": await broker_produce_rate(system.bootstrap),
    }
    client = OmsClient(system.urls(), token=system.admin_token)
    run_id = int(time.time())
    sample = SampleOrders(seed=11, prefix=f"bench{run_id}").orders(count)
    paced = {
        rate: SampleOrders(seed=12 + i, prefix=f"rate{i}x{run_id}").orders(
            max(2, int(rate * rate_seconds))
        )
        for i, rate in enumerate(rates)
    }
    clock = EventClock(system.bootstrap)
    sampler = ResourceSampler(_component_pids(system), system.urls())
    try:
        await stock_up(client, [*sample, *(order for orders in paced.values() for order in orders)])
        await clock.start()
        sampler.start()
        if profiler is not None:
            profiler.start()
        gateways = system.instance_urls()["channel_gateway"]
        posted = await _post_orders(gateways, sample, concurrency, system.admin_token)
        done = await _wait_for_shipments(clock, set(posted))
        figures = _figures(posted, clock, done)
        if profiler is not None:
            profiler.stop()
        burst_cpu = sampler.cpu_used()  # the open loop below runs at rates, not flat out
        open_loop = [
            await _open_loop(
                system.urls()["channel_gateway"], clock, rate, orders, system.admin_token
            )
            for rate, orders in paced.items()
        ]
    finally:
        await sampler.stop()
        await clock.stop()
        await client.close()
    ours = figures["orders_per_s"]
    compared = await _baseline(system.postgres_server_url, sample, ours) if baseline else {}
    return {
        "orders": count,
        "broker_storage": system.broker_storage,
        **figures,
        "open_loop": open_loop,
        "hot_spots": {} if profiler is None else profiler.summary(),
        "raw": raw,
        "ratio_orders_per_pg_commit": round(
            figures["orders_per_s"] / raw["postgres_commits_per_s_1_client"], 4
        ),
        "peak_rss_mb": sampler.peak_rss_mb,
        "max_projection_lag": sampler.max_projection_lag,
        "cpu_ms_per_order": {
            name: round(seconds * 1000 / max(1, figures["completed"]), 2)
            for name, seconds in burst_cpu.items()
        },
        **compared,
    }


async def _baseline(
    postgres_server_url: str, sample: list[dict[str, Any]], ours: float
) -> dict[str, Any]:
    """The same orders on the eventsourcing library's own System, and our ratio to it."""
    with console.status(f"baseline: the same orders on eventsourcing's System ({RUNNER.__name__})"):
        figures = await asyncio.to_thread(run_baseline, postgres_server_url, sample)
    theirs = figures["orders_per_s"]
    return {
        "baseline": {"runner": RUNNER.__name__, **figures},
        "baseline_orders_per_s": theirs,
        "ratio_to_baseline": round(ours / theirs, 2) if theirs else None,
    }


def _component_pids(system: Any) -> dict[str, int | None]:
    """Services, broker and PostgreSQL: whose CPU and memory the benchmark reports."""
    return dict(system.pids())


async def stock_up(client: OmsClient, sample: list[dict[str, Any]]) -> None:
    """Create the sample's locations and receive twice the units its orders need."""
    for location in LOCATIONS:
        await client.create_location(location)
    for sku, units in units_needed(sample).items():
        await client.receive_stock(LOCATIONS[0]["location_id"], sku, units * 2, f"bench-{sku}")


async def _post_orders(
    gateway_urls: list[str], sample: list[dict[str, Any]], concurrency: int, token: str
) -> dict[str, float]:
    """Post every order to the gateways, with a progress bar."""
    with Progress(console=console) as progress:
        task = progress.add_task("Posting orders to the gateway", total=len(sample))
        return await post_orders(
            gateway_urls, sample, concurrency, token, lambda _: progress.advance(task)
        )


async def post_orders(
    gateway_urls: list[str],
    sample: list[dict[str, Any]],
    concurrency: int,
    token: str,
    on_reply: Callable[[Reply], None] | None = None,
) -> dict[str, float]:
    """Post every order, spread over the gateways; returns order id -> when it was sent."""
    ports = [int(url.rsplit(":", 1)[1]) for url in gateway_urls]
    headers = {**JSON, **auth_headers(token)}
    requests = [(json.dumps(order).encode(), headers) for order in sample]
    replies = await post_all(ports, "/v1/orders", requests, concurrency, on_reply)
    refused = [r for r in replies if r.status not in (200, 202)]
    if refused:
        raise RuntimeError(f"{len(refused)} orders refused, first: {refused[0].body[:300]!r}")
    return {json.loads(r.body)["order_id"]: r.sent_at for r in replies}


async def _open_loop(
    gateway_url: str, clock: EventClock, rate: float, sample: list[dict[str, Any]], token: str
) -> dict[str, Any]:
    """Send orders at a fixed rate; latency of intake, of every hop and of the whole flow."""
    port = int(gateway_url.rsplit(":", 1)[1])
    replies: list[Reply] = []
    with Progress(console=console) as progress:
        task = progress.add_task(f"Sending {rate:g} orders/s (open loop)", total=len(sample))

        def on_reply(reply: Reply) -> None:
            replies.append(reply)
            progress.advance(task)

        headers = {**JSON, **auth_headers(token)}
        requests = [(json.dumps(order).encode(), headers) for order in sample]
        await post_at_rate(port, "/v1/orders", requests, rate, on_reply)
    refused = [r for r in replies if r.status not in (200, 202)]
    if refused:
        raise RuntimeError(f"{len(refused)} orders refused, first: {refused[0].body[:300]!r}")
    posted = {json.loads(r.body)["order_id"]: r.sent_at for r in replies}
    done = await _wait_for_shipments(clock, set(posted))
    confirmed = [
        t - posted[order_id]
        for order_id in posted
        if (t := clock.last(order_id, "oms.OrderConfirmed.v1")) is not None
    ]
    return {
        "rate": rate,
        "orders": len(posted),
        "completed": len(done),
        "intake_http_ms": _percentiles([r.seconds for r in replies]),
        "send_to_confirmed_ms": _percentiles(confirmed),
        "send_to_shipment_ms": _percentiles([done[o] - posted[o] for o in done]),
        "latency_ms": _hop_latencies(posted, clock, done),
    }


async def _wait_for_shipments(clock: EventClock, order_ids: set[str]) -> dict[str, float]:
    with Progress(console=console) as progress:
        task = progress.add_task("Waiting for shipments to be created", total=len(order_ids))
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = clock.fully_shipped(order_ids)
            progress.update(task, completed=len(done))
            if len(done) == len(order_ids):
                return done
            await asyncio.sleep(0.25)
    return clock.fully_shipped(order_ids)


def _figures(posted: dict[str, float], clock: EventClock, done: dict[str, float]) -> dict[str, Any]:
    first = min(posted.values())
    last = max(done.values()) if done else time.time()
    return {
        "completed": len(done),
        "seconds": round(last - first, 2),
        "orders_per_s": round(len(done) / (last - first), 1),
        "intake_orders_per_s": round(len(posted) / (max(posted.values()) - first + 1e-9), 1),
        "latency_ms": _hop_latencies(posted, clock, done),
    }


def _hop_latencies(
    posted: dict[str, float], clock: EventClock, done: dict[str, float]
) -> dict[str, dict[str, float]]:
    """Percentiles of every hop, over the orders that completed."""
    hops: dict[str, dict[str, float]] = {}
    for name, start, end in HOPS:
        samples = [
            t_end - t_start
            for order_id in done
            if (t_start := posted[order_id] if start == "posted" else clock.first(order_id, start))
            and (t_end := clock.last(order_id, end))
        ]
        hops[name] = _percentiles(samples)
    return hops


def _percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    cuts = statistics.quantiles(samples, n=100)
    return {
        "p50": round(cuts[49] * 1000, 1),
        "p95": round(cuts[94] * 1000, 1),
        "p99": round(cuts[98] * 1000, 1),
    }


def _print(figures: dict[str, Any]) -> None:
    summary = Table(title=f"OMS benchmark: {figures['orders']} orders")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    summary.add_row("orders completed (shipment created)", str(figures["completed"]))
    summary.add_row("end-to-end orders/s", str(figures["orders_per_s"]))
    summary.add_row("intake orders/s (HTTP accepted)", str(figures["intake_orders_per_s"]))
    summary.add_row(
        "raw PostgreSQL commits/s (1 client)",
        str(figures["raw"]["postgres_commits_per_s_1_client"]),
    )
    summary.add_row("raw broker produce msgs/s", str(figures["raw"]["broker_produce_msgs_per_s"]))
    summary.add_row("orders per raw commit", str(figures["ratio_orders_per_pg_commit"]))
    if "baseline_orders_per_s" in figures:
        summary.add_row(
            f"baseline orders/s (eventsourcing System, {figures['baseline']['runner']})",
            str(figures["baseline_orders_per_s"]),
        )
        summary.add_row("ratio to baseline (ours / baseline)", str(figures["ratio_to_baseline"]))
    for name, lag in figures["max_projection_lag"].items():
        summary.add_row(f"max projection lag {name} (events)", str(lag))
    for name, ms in figures["cpu_ms_per_order"].items():
        summary.add_row(f"CPU per order {name} (ms)", str(ms))
    for name, mb in figures["peak_rss_mb"].items():
        summary.add_row(f"peak memory {name} (MB RSS)", str(mb))
    ours = [mb for name, mb in figures["peak_rss_mb"].items() if name not in _INFRASTRUCTURE]
    summary.add_row("peak memory of the OMS's own processes (MB RSS; goal 600)", f"{sum(ours):.1f}")
    console.print(summary)
    hops = Table(title="Latency per hop (ms)")
    for column in ("hop", "p50", "p95", "p99"):
        hops.add_column(column, justify="right" if column != "hop" else "left")
    for name, cut in figures["latency_ms"].items():
        hops.add_row(name, str(cut["p50"]), str(cut["p95"]), str(cut["p99"]))
    console.print(hops)
    if figures["open_loop"]:
        console.print(_open_loop_table(figures["open_loop"]))
    for name, spots in figures["hot_spots"].items():
        table = Table(title=f"Where {name}'s CPU went in the burst (py-spy samples)")
        table.add_column("own function (with what it called)")
        table.add_column("% of samples", justify="right")
        for frame, share in spots:
            table.add_row(frame, str(share))
        console.print(table)


def _open_loop_table(runs: list[dict[str, Any]]) -> Table:
    """One row per open-loop rate: intake, send -> Confirmed, send -> shipment, every hop."""
    table = Table(title="Open loop: latency at a fixed send rate (ms, p50/p99)")
    table.add_column("rate/s", justify="right")
    table.add_column("done", justify="right")
    keys = {"intake HTTP": "intake_http_ms", "->Confirmed": "send_to_confirmed_ms"}
    keys["->shipment"] = "send_to_shipment_ms"
    hops = {"hop " + str(n): name for n, (name, _, _) in enumerate(HOPS[1:-1], start=1)}
    for title in [*keys, *hops]:
        table.add_column(title, justify="right")
    for run in runs:
        cells = [_p50_p99(run[key]) for key in keys.values()]
        cells += [_p50_p99(run["latency_ms"][name]) for name in hops.values()]
        table.add_row(f"{run['rate']:g}", f"{run['completed']}/{run['orders']}", *cells)
    table.caption = "; ".join(f"{short}: {name}" for short, name in hops.items())
    return table


def _p50_p99(cut: dict[str, float]) -> str:
    return f"{cut['p50']:.0f}/{cut['p99']:.0f}"
