"""Events per second a restarted consumer applies (`python -m shared.cli.bench_catchup`).

One service is paused (SIGSTOP) while orders pile up on the topics it reads, then killed; the
supervisor starts it again, and the new process is timed until its consumer group's committed
offsets reach the ends those topics had when it died. The rate counts the messages applied
between the first commit after the restart and the catch-up, so start-up is reported apart
(`bench_restart` restarts the whole system after everything settled: nothing is left to apply).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import psutil
import typer
from rich.console import Console
from rich.table import Table

from shared.cli.bench import post_orders, stock_up
from shared.cli.bench_restart import committed_offsets
from shared.cli.client import OmsClient
from shared.cli.samples import SampleOrders
from shared.runtime.embedded import free_port, free_port_block
from shared.runtime.kafka_admin import topic_end_offsets

console = Console()
Offsets = dict[tuple[str, int], int]  # (topic, partition) -> offset
POLL = 0.2  # seconds between two readings of the committed offsets
TIMEOUT = 600.0


async def group_offsets(bootstrap: str, group: str) -> Offsets:
    """The group's committed offsets on every partition it has committed on."""
    found = await committed_offsets(bootstrap, [group])
    return {(topic, partition): offset for (_, topic, partition), offset in found.items()}


async def end_offsets(bootstrap: str, topics: set[str]) -> Offsets:
    """The end offset of every partition of the topics."""
    ends: Offsets = {}
    for topic in sorted(topics):
        for partition, offset in (await topic_end_offsets(bootstrap, topic)).items():
            ends[(topic, partition)] = offset
    return ends


def behind(committed: Offsets, ends: Offsets) -> int:
    """Messages between the committed offsets and the ends."""
    return sum(max(0, end - committed.get(key, 0)) for key, end in ends.items())


async def steady(read: Callable[[], Awaitable[Offsets]], checks: int = 3) -> Offsets:
    """Offsets once some are known and they have not moved for a few readings 0.5 s apart."""
    offsets, quiet = await read(), 0
    while quiet < checks:
        await asyncio.sleep(0.5)
        latest = await read()
        quiet = quiet + 1 if latest and latest == offsets else 0
        offsets = latest
    return offsets


async def consumer_catch_up(
    system: Any, sample: list[dict[str, Any]], service: str = "order_service", concurrency: int = 32
) -> dict[str, float | None]:
    """Pile the sample's orders up behind a paused service, kill it, time its restart's catch-up.

    The service's consumer group is named after it. Returns the backlog, the seconds from the
    new process's start to its first commit and to the catch-up, and the events/s it applied.
    """
    bootstrap, pid = system.bootstrap, system.pids()[service]
    if pid is None:
        raise RuntimeError(f"{service} is not running")
    topics = {topic for topic, _ in await group_offsets(bootstrap, service)}
    os.kill(pid, signal.SIGSTOP)
    try:
        await post_orders(system.urls()["channel_gateway"], sample, concurrency, system.admin_token)
        ends = await steady(lambda: end_offsets(bootstrap, topics), checks=6)  # relays done
        before = await group_offsets(bootstrap, service)
    finally:
        os.kill(pid, signal.SIGKILL)  # never left paused: the supervisor starts it again
    backlog = behind(before, ends)
    if not backlog:
        raise RuntimeError(f"nothing piled up behind {service}: it reads none of {sorted(topics)}")
    started = await _restarted(system, service, pid)
    first_commit, left_at_first, left = 0.0, backlog, backlog
    deadline = time.monotonic() + TIMEOUT
    while left:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service} did not catch up within {TIMEOUT:.0f} s")
        await asyncio.sleep(POLL)
        committed = await group_offsets(bootstrap, service)
        left = behind(committed, ends)
        if not first_commit and committed != before:
            first_commit, left_at_first = time.time(), left
    caught_up = time.time()
    # Applied between two readings; None when the first commit seen was already the last.
    applying = caught_up - first_commit
    return {
        "backlog_events": float(backlog),
        "start_to_first_commit_s": round(first_commit - started, 2),
        "start_to_caught_up_s": round(caught_up - started, 2),
        "events_per_s_applied": round(left_at_first / applying, 1) if left_at_first else None,
        "events_per_s_from_start": round(backlog / (caught_up - started), 1),
    }


async def _restarted(system: Any, service: str, old_pid: int) -> float:
    """When the supervisor's new process of the service started (epoch seconds)."""
    deadline = time.monotonic() + TIMEOUT
    while (pid := system.pids()[service]) in (None, old_pid):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service} was not started again")
        await asyncio.sleep(0.05)
    return float(psutil.Process(pid).create_time())


def bench_catchup(
    orders: Annotated[int, typer.Option(help="Orders piled up behind the paused service.")] = 2000,
    warmup: Annotated[
        int, typer.Option(help="Orders pushed first, so every group has commits.")
    ] = 200,
    service: Annotated[
        str, typer.Option(help="The service to pause and restart.")
    ] = "order_service",
    out: Annotated[Path, typer.Option(help="Where to write the figures as JSON.")] = Path(
        "var/bench/catchup.json"
    ),
) -> None:
    """Start a fresh system, pile orders up behind one service, time its restart's catch-up."""
    from shared.cli.system import PORTS, EmbeddedSystem

    var_dir = Path(tempfile.mkdtemp(prefix="oms-catchup-"))
    system = EmbeddedSystem(
        var_dir,
        kafka_port=free_port(),
        base_http_port=free_port_block(PORTS),
        db_prefix=f"catchup{int(time.time())}",
        stream_jobs=False,
    )
    with console.status("starting a fresh OMS..."):
        system.start()
    try:
        figures = asyncio.run(_run(system, orders, warmup, service))
    finally:
        with console.status("stopping..."):
            system.stop()
        shutil.rmtree(var_dir, ignore_errors=True)
    table = Table(title=f"Restart catch-up of {service}: {orders} orders piled up")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name.replace("_", " "), str(value))
    console.print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"service": service, "orders": orders, **figures}, indent=2) + "\n")
    console.print(f"Figures written to {out}")


async def _run(system: Any, count: int, warmup: int, service: str) -> dict[str, float | None]:
    sample = SampleOrders(seed=13, prefix=f"catchup{int(time.time())}").orders(warmup + count)
    client = OmsClient(system.urls(), token=system.admin_token)
    try:
        await stock_up(client, sample)
    finally:
        await client.close()
    with console.status(f"warm-up: {warmup} orders"):
        await post_orders(system.urls()["channel_gateway"], sample[:warmup], 32, system.admin_token)
        # Caught up and done: its commits have not moved for a while.
        await steady(lambda: group_offsets(system.bootstrap, service), checks=6)
    with console.status(f"{service} paused while {count} orders pile up, then restarted..."):
        return await consumer_catch_up(system, sample[warmup:], service)


def main() -> None:
    """Entry point of `python -m shared.cli.bench_catchup`."""
    typer.run(bench_catchup)


if __name__ == "__main__":
    main()
