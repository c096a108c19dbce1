"""What a restart of `oms up` costs, per broker storage (`python -m shared.cli.bench_restart`).

For each storage it starts `oms up` on a fresh var dir, fills it with the benchmark's orders
until the services have stored N events, stops it as Ctrl-C does and starts it again, then
measures how long until every service is ready and until every relay and every consumer is
caught up, and how many messages the relays published again. A broker that kept its log has
nothing to republish; one that lost it gets everything again, and every consumer reads it all
to skip it. The figures are printed side by side and written to var/bench/restart.json.

Caught up means, from the services' own databases and the broker's committed offsets: every
relay has handled every event its service stored, and every consumer group has read every
partition it read before the restart up to the last offset the publishing relay had
acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

import httpx
import psycopg
import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
from psycopg import sql
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from shared.cli.bench import post_orders, stock_up
from shared.cli.bench_probes import TreeMemory, tree_memory
from shared.cli.client import ADMIN_TOKEN_FILE, OmsClient, read_or_make_token
from shared.cli.samples import SampleOrders
from shared.cli.system import EXTERNAL_BROKER_ENV, HOST, PORTS, SERVICES
from shared.events.topics import ALL_TOPICS
from shared.runtime.embedded import (
    BROKER_STORAGES,
    OBJECT_STORE_PORTS,
    EmbeddedPostgres,
    free_port,
    free_port_block,
    log_tail,
    spawn,
)

console = Console()
Reader = tuple[str, str, int]  # consumer group, topic, partition
_PUBLISHED = re.compile(r'^oms_relay_published_total\{topic="[^"]+"\} ([0-9.e+]+)$', re.M)
_REPUBLISHES = re.compile(r'^oms_relay_republish_total\{topic="[^"]+"\} ([0-9.e+]+)$', re.M)
# Environment that would point `oms up` elsewhere than its own embedded infrastructure.
_FOREIGN_ENV = ("OMS_POSTGRES_URL", EXTERNAL_BROKER_ENV, "OMS_BROKER_STORAGE", "OMS_S3_PORT")


@dataclass(frozen=True)
class Publisher:
    """One service's relay: how far it got against what the service stored."""

    service: str
    topic: str
    stored: int  # last notification id in the service's event store
    position: int  # last notification id the relay handled
    acked: dict[int, int]  # partition -> highest offset the broker acknowledged


@dataclass(frozen=True)
class Snapshot:
    """The relays and the consumer groups' committed offsets at one moment."""

    publishers: tuple[Publisher, ...]
    committed: dict[Reader, int]

    @property
    def events(self) -> int:
        """Events stored by all services together."""
        return sum(p.stored for p in self.publishers)


def readers_of(snapshot: Snapshot) -> set[Reader]:
    """Every (consumer group, topic, partition) that has committed an offset."""
    return set(snapshot.committed)


def lagging(snapshot: Snapshot, readers: Iterable[Reader]) -> dict[str, int]:
    """What is not caught up, and by how much: per relay the stored events it has not
    handled, per consumer group and topic the acknowledged messages it has not read.
    Empty when everything is caught up."""
    behind: dict[str, int] = {}
    ends: dict[tuple[str, int], int] = {}
    for publisher in snapshot.publishers:
        if publisher.position < publisher.stored:
            behind[f"relay {publisher.service}"] = publisher.stored - publisher.position
        for partition, offset in publisher.acked.items():
            ends[(publisher.topic, partition)] = offset + 1
    for group, topic, partition in sorted(readers):
        end = ends.get((topic, partition))
        if end is None:
            continue  # its relay has not published there (again) yet: counted above
        missing = end - snapshot.committed.get((group, topic, partition), 0)
        if missing > 0:
            name = f"{group} reading {topic}"
            behind[name] = behind.get(name, 0) + missing
    return behind


def next_chunk(target: int, events: int, posted: int, baseline: int, cap: int = 2000) -> int:
    """How many orders to post next to reach `target` events without overshooting much:
    estimated from the events each order posted so far caused."""
    per_order = (events - baseline) / posted if posted and events > baseline else 10.0
    return max(50, min(cap, math.ceil((target - events) / per_order)))


@dataclass
class StorageRun:
    """The figures of one storage."""

    storage: str
    events: int = 0
    orders: int = 0
    fill_seconds: float = 0.0
    stop_seconds: float = 0.0
    ready_seconds: float = 0.0
    caught_up_seconds: float = 0.0
    republished: int = 0
    republish_starts: int = 0
    memory_filled: TreeMemory | None = None
    memory_peak_pss: float = 0.0
    memory_peak_rss: float = 0.0
    memory_restarted: TreeMemory | None = None
    s3_data_mb: float | None = None
    lag_samples: list[tuple[float, int]] = field(default_factory=list)


class OmsUp:
    """`oms up` as a child process, on its own var dir and ports."""

    def __init__(self, var_dir: Path, storage: str) -> None:
        self.var_dir = var_dir
        self.storage = storage
        self.base_port = free_port_block(PORTS)
        self.kafka_port = free_port()
        self.s3_port = free_port_block(OBJECT_STORE_PORTS)
        self.output = var_dir / "oms-up.out"
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        postgres = EmbeddedPostgres(var_dir / "postgres")
        self.database_urls = {s.name: postgres.url(s.database("oms")) for s in SERVICES}

    @property
    def pid(self) -> int:
        """Process id of the running `oms up`."""
        assert self._process is not None
        return self._process.pid

    @property
    def bootstrap(self) -> str:
        """The embedded broker's bootstrap servers."""
        return f"{HOST}:{self.kafka_port}"

    def urls(self) -> dict[str, str]:
        """Base URL of every service."""
        return {s.name: f"http://{HOST}:{self.base_port + s.port_offset}" for s in SERVICES}

    @property
    def admin_token(self) -> str:
        """The admin token `oms up` keeps in its var dir (made here first if need be)."""
        return read_or_make_token(self.var_dir / ADMIN_TOKEN_FILE)

    def start(self) -> None:
        """Launch `oms up` (returns at once)."""
        command = [
            sys.executable, "-m", "shared.cli.main", "up",
            "--var-dir", str(self.var_dir),
            "--base-port", str(self.base_port),
            "--kafka-port", str(self.kafka_port),
            "--broker-storage", self.storage,
            "--s3-port", str(self.s3_port),
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._output = open(self.output, "ab")  # noqa: SIM115 - open while it runs
        # SIGTERM when the bench dies: `oms up` then stops its children in order.
        self._process = spawn(command, output=self._output, env=env, death_signal=signal.SIGTERM)

    def check_alive(self) -> None:
        """Raise, with its output, when `oms up` has exited."""
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(
                f"oms up ({self.storage}) exited with code {self._process.returncode}:\n"
                f"{log_tail(self.output)}"
            )

    def stop(self, timeout: float = 90.0) -> float:
        """Stop `oms up` as Ctrl-C does; returns how long it took."""
        process, self._process = self._process, None
        started = time.monotonic()
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._output is not None:
            self._output.close()
            self._output = None
        return round(time.monotonic() - started, 1)


def bench_restart(
    events: Annotated[int, typer.Option(help="Stored events to fill the system with.")] = 100_000,
    storages: Annotated[
        str, typer.Option(help="Comma-separated broker storages to compare.")
    ] = "memory,s3",
    concurrency: Annotated[int, typer.Option(help="Concurrent HTTP clients.")] = 32,
    out: Annotated[Path, typer.Option(help="Where to write the figures as JSON.")] = Path(
        "var/bench/restart.json"
    ),
    keep: Annotated[bool, typer.Option(help="Keep each run's var dir (logs, data).")] = False,
) -> None:
    """Fill `oms up` to N events, restart it, and time its way back, per broker storage."""
    chosen = [s.strip() for s in storages.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in BROKER_STORAGES]
    if unknown or not chosen:
        raise typer.BadParameter(f"{unknown}; choose from {BROKER_STORAGES}")
    runs = []
    for storage in chosen:
        console.rule(f"broker storage: {storage}")
        runs.append(asyncio.run(_measure(storage, events, concurrency, keep)))
    # In a log file or CI the table is as wide as its contents need.
    wide = console if console.is_terminal else Console(width=160)
    wide.print(figures_table(runs, events))
    wide.print(
        "PSS shares each page among the processes that map it, so the whole tree counts "
        "PostgreSQL's shared buffers once; the RSS sum counts them once per backend."
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([asdict(run) for run in runs], indent=2) + "\n")
    console.print(f"Figures written to {out}")


async def _measure(storage: str, target: int, concurrency: int, keep: bool) -> StorageRun:
    var_dir = Path(tempfile.mkdtemp(prefix=f"oms-restart-{storage}-"))
    oms = OmsUp(var_dir, storage)
    run = StorageRun(storage)
    try:
        oms.start()
        with _progress() as progress:
            task = progress.add_task(f"starting oms up ({storage})", total=None)
            await _wait_ready(oms)
            progress.update(task, total=1, completed=1)
        peak = _MemoryPeak(oms.pid)
        peak.start()
        try:
            started = time.monotonic()
            snapshot, readers = await _fill(oms, run, target, concurrency)
            run.fill_seconds = round(time.monotonic() - started, 1)
        finally:
            await peak.stop()
        run.memory_peak_pss, run.memory_peak_rss = peak.pss, peak.rss
        run.memory_filled = await asyncio.to_thread(tree_memory, oms.pid)
        if not readers:
            raise RuntimeError("no consumer group committed an offset: nothing to wait for")
        with console.status("stopping oms up (as Ctrl-C does)..."):
            run.stop_seconds = oms.stop()
        await _restart(oms, run, snapshot, readers)
    finally:
        oms.stop()
        if storage != "memory" and (var_dir / "s3").exists():
            run.s3_data_mb = _size_mb(var_dir / "s3")
        if keep:
            console.print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    return run


async def _fill(
    oms: OmsUp, run: StorageRun, target: int, concurrency: int
) -> tuple[Snapshot, set[Reader]]:
    """Post orders until the services stored `target` events, everything caught up; returns
    the last snapshot and every reader (consumer group, topic, partition) seen."""
    client = OmsClient(oms.urls(), token=oms.admin_token)
    sample = SampleOrders(seed=23, prefix=f"restart-{run.storage}").orders(max(200, target // 4))
    try:
        await stock_up(client, sample)
    finally:
        await client.close()
    with _progress() as progress:
        task = progress.add_task(f"filling to {target:,} stored events", total=target)
        readers: set[Reader] = set()
        snapshot = await _settle(oms, progress, task, readers)
        baseline, posted = snapshot.events, 0
        while snapshot.events < target:
            chunk = next_chunk(target, snapshot.events, posted, baseline)
            if posted + chunk > len(sample):
                raise RuntimeError(f"{len(sample)} sample orders were not enough for {target}")
            await post_orders(
                [oms.urls()["channel_gateway"]],
                sample[posted : posted + chunk],
                concurrency,
                oms.admin_token,
            )
            posted += chunk
            snapshot = await _settle(oms, progress, task, readers)
    run.events, run.orders = snapshot.events, posted
    return snapshot, readers


async def _settle(
    oms: OmsUp, progress: Progress, task: Any, readers: set[Reader], quiet_checks: int = 4
) -> Snapshot:
    """Wait until every relay and every consumer group is caught up and no new event was
    stored for a few checks in a row (a group that never committed yet is not known to
    lag). `readers` collects every reader seen, so none drops out of the check."""
    quiet, events = 0, -1
    while True:
        oms.check_alive()
        snapshot = await snapshot_of(oms)
        progress.update(task, completed=min(snapshot.events, progress.tasks[task].total or 0))
        readers |= readers_of(snapshot)
        behind = lagging(snapshot, readers)
        quiet = quiet + 1 if not behind and snapshot.events == events else 0
        events = snapshot.events
        if quiet >= quiet_checks:
            return snapshot
        await asyncio.sleep(0.5)


async def _restart(oms: OmsUp, run: StorageRun, before: Snapshot, readers: set[Reader]) -> None:
    """Start `oms up` again and time it until ready and until caught up."""
    started = time.monotonic()
    oms.start()
    with _progress() as progress:
        task = progress.add_task("restart: waiting for every service to be ready", total=None)
        await _wait_ready(oms)
        run.ready_seconds = round(time.monotonic() - started, 1)
        progress.update(task, description="restart: catching up")
        first_lag: int | None = None
        while True:
            oms.check_alive()
            snapshot = await snapshot_of(oms)
            behind = sum(lagging(snapshot, readers).values())
            run.lag_samples.append((round(time.monotonic() - started, 1), behind))
            if behind == 0 and snapshot.events >= before.events:
                break
            first_lag = first_lag or behind
            progress.update(
                task,
                total=first_lag,
                completed=max(first_lag - behind, 0),
                description=f"restart: catching up ({behind:,} behind)",
            )
            await asyncio.sleep(0.5)
        run.caught_up_seconds = round(time.monotonic() - started, 1)
    run.republished, run.republish_starts = await _relay_counters(oms)
    await asyncio.sleep(2)  # let the services' memory settle after the catch-up
    run.memory_restarted = await asyncio.to_thread(tree_memory, oms.pid)


async def _wait_ready(oms: OmsUp, timeout: float = 300.0) -> None:
    """Poll every service's /readyz until all answer 200."""
    deadline = time.monotonic() + timeout
    pending = dict(oms.urls())
    async with httpx.AsyncClient(timeout=2) as http:
        while pending:
            oms.check_alive()
            for name, url in list(pending.items()):
                try:
                    if (await http.get(f"{url}/readyz")).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready within {timeout:.0f} s: {', '.join(pending)}")
            if pending:
                await asyncio.sleep(0.2)


async def snapshot_of(oms: OmsUp) -> Snapshot:
    """Read every relay's state from its service's database and every group's offsets."""
    publishers = await asyncio.to_thread(_publishers, oms.database_urls)
    committed = await committed_offsets(oms.bootstrap, [s.name for s in SERVICES])
    return Snapshot(tuple(publishers), committed)


def _publishers(database_urls: dict[str, str]) -> list[Publisher]:
    found = []
    for service, url in database_urls.items():
        with psycopg.connect(url, connect_timeout=5) as conn:
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_name LIKE '%%\\_events' AND table_name <> 'parked_events'"
            ).fetchall()
            stored = 0
            for (table,) in tables:
                row = conn.execute(
                    sql.SQL("SELECT max(notification_id) FROM {}").format(sql.Identifier(table))
                ).fetchone()
                stored = max(stored, int(row[0] or 0) if row else 0)
            for topic, position, acked in conn.execute(
                "SELECT topic, position, acked FROM relay_positions"
            ).fetchall():
                partitions = {int(p): int(o) for p, o in (acked or {}).items()}
                found.append(Publisher(service, topic, stored, int(position), partitions))
    return found


async def committed_offsets(bootstrap: str, groups: list[str]) -> dict[Reader, int]:
    """Committed offsets of every group on every partition of the OMS topics."""
    committed: dict[Reader, int] = {}
    for group in groups:
        # No assignment, no auto commit: this only asks, it never joins or moves the group.
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            for topic in ALL_TOPICS:
                for partition in sorted(consumer.partitions_for_topic(topic) or ()):
                    offset = await consumer.committed(TopicPartition(topic, partition))
                    if offset is not None:
                        committed[(group, topic, partition)] = offset
        finally:
            await asyncio.sleep(0)  # see kafka_admin.topic_end_offsets
            await consumer.stop()
    return committed


async def _relay_counters(oms: OmsUp) -> tuple[int, int]:
    """Messages the relays published since their start, and times they started over."""
    published = starts = 0
    async with httpx.AsyncClient(timeout=5) as http:
        for url in oms.urls().values():
            text = (await http.get(f"{url}/metrics")).text
            published += int(sum(float(v) for v in _PUBLISHED.findall(text)))
            starts += int(sum(float(v) for v in _REPUBLISHES.findall(text)))
    return published, starts


class _MemoryPeak:
    """Samples the tree's memory every few seconds; keeps the peaks."""

    def __init__(self, pid: int, every: float = 5.0) -> None:
        self.pid = pid
        self.every = every
        self.pss = self.rss = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        while True:
            memory = await asyncio.to_thread(tree_memory, self.pid)
            self.pss, self.rss = max(self.pss, memory.pss), max(self.rss, memory.rss)
            await asyncio.sleep(self.every)


def _size_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return round(total / 2**20, 1)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def figures_table(runs: list[StorageRun], target: int) -> Table:
    """The storages side by side."""
    table = Table(title=f"Restart of oms up at {target:,} stored events")
    table.add_column("figure")
    for run in runs:
        table.add_column(f"broker storage: {run.storage}", justify="right")

    def row(name: str, values: Iterable[object]) -> None:
        table.add_row(name, *(str(v) for v in values))

    def mb(memory: TreeMemory | None, component: str | None = None) -> str:
        if memory is None:
            return "-"
        if component is None:
            return f"{memory.pss:,.0f} ({memory.rss:,.0f})"
        return f"{memory.by_component.get(component, 0.0):,.0f}"

    row("stored events (all services)", (f"{r.events:,}" for r in runs))
    row("orders posted to fill", (f"{r.orders:,}" for r in runs))
    row("fill time (s)", (r.fill_seconds for r in runs))
    row("stop (s)", (r.stop_seconds for r in runs))
    row("restart: every service ready (s)", (r.ready_seconds for r in runs))
    row("restart: relays and consumers caught up (s)", (r.caught_up_seconds for r in runs))
    row("messages republished", (f"{r.republished:,}" for r in runs))
    row("relays that started over", (r.republish_starts for r in runs))
    row("memory, whole tree, filled: MB PSS (RSS sum)", (mb(r.memory_filled) for r in runs))
    row(
        "memory, whole tree, peak while filling: MB PSS (RSS sum)",
        (f"{r.memory_peak_pss:,.0f} ({r.memory_peak_rss:,.0f})" for r in runs),
    )
    row(
        "memory, whole tree, after restart: MB PSS (RSS sum)",
        (mb(r.memory_restarted) for r in runs),
    )
    components = sorted({c for r in runs if r.memory_filled for c in r.memory_filled.by_component})
    for component in components:
        row(f"  filled: {component} (MB PSS)", (mb(r.memory_filled, component) for r in runs))
    row("S3 store data on disk (MB)", ("-" if r.s3_data_mb is None else r.s3_data_mb for r in runs))
    return table


def main() -> None:
    """Entry point of `python -m shared.cli.bench_restart`."""
    typer.run(bench_restart)


if __name__ == "__main__":
    main()
