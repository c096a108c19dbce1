"""Measuring instruments of the benchmark: raw infrastructure rates, event clock, resources."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import httpx
import psutil
import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.events import topics

_TIMED = {
    "oms.ChannelOrderReceived.v1",
    "oms.OrderPlaced.v1",
    "oms.StockReserved.v1",
    "oms.OrderConfirmed.v1",
    "oms.ShipmentCreated.v1",
}
_LAG = re.compile(r'^oms_projection_lag_events\{projection="([^"]+)"\} ([0-9.e+]+)$', re.M)


def postgres_commit_rate(server_url: str, seconds: float = 3.0) -> float:
    """Single-row INSERT transactions per second from one client (the raw commit rate).

    A regular (WAL-logged) table: a temporary one would skip the WAL flush that every real
    commit pays.
    """
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS oms_bench_commits")
        conn.execute("CREATE TABLE oms_bench_commits (n bigint)")
        count, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            conn.execute("INSERT INTO oms_bench_commits VALUES (%s)", (count,))
            count += 1
        conn.execute("DROP TABLE oms_bench_commits")
    return round(count / seconds, 1)


async def broker_produce_rate(bootstrap: str, messages: int = 30_000, size: int = 300) -> float:
    """Messages per second aiokafka produces to the broker (300-byte values, acks=all)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        value = b"x" * size
        started = time.perf_counter()
        futures = [await producer.send("oms.bench.raw", value) for _ in range(messages)]
        await asyncio.gather(*futures)
        return round(messages / (time.perf_counter() - started), 1)
    finally:
        await producer.stop()


class EventClock:
    """Reads the OMS topics and notes when each order's events were created (ce_time)."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.locations: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        """Start reading from the beginning of every topic."""
        self._consumer = AIOKafkaConsumer(
            topics.CHANNEL,
            topics.ORDERS,
            topics.INVENTORY,
            topics.FULFILLMENT,
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())

    async def stop(self) -> None:
        """Stop reading."""
        if self._task:
            self._task.cancel()
        if self._consumer:
            await self._consumer.stop()

    async def _read(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            self._note(dict(record.headers or []), record.value)

    def _note(self, headers: dict[str, bytes], value: bytes) -> None:
        """Note one event's time from its CloudEvents headers (no full decode: the benchmark
        must not steal much CPU from the system it measures)."""
        event_type = headers.get("ce_type", b"").decode()
        if event_type not in _TIMED or "ce_time" not in headers:
            return
        order_id = headers.get("ce_partitionkey", b"").decode()
        created = datetime.fromisoformat(headers["ce_time"].decode().replace("Z", "+00:00"))
        self.times[order_id][event_type].append(created.timestamp())
        if event_type == "oms.OrderConfirmed.v1":
            allocations = json.loads(value)["allocations"]
            self.locations[order_id] = len({a["location_id"] for a in allocations})

    def first(self, order_id: str, event_type: str) -> float | None:
        """When the order's first event of this type was created."""
        seen = self.times.get(order_id, {}).get(event_type)
        return min(seen) if seen else None

    def last(self, order_id: str, event_type: str) -> float | None:
        """When the order's last event of this type was created."""
        seen = self.times.get(order_id, {}).get(event_type)
        return max(seen) if seen else None

    def fully_shipped(self, order_ids: set[str]) -> dict[str, float]:
        """Orders whose every location has its shipment created, with the time of the last."""
        done = {}
        for order_id in order_ids:
            created = self.times.get(order_id, {}).get("oms.ShipmentCreated.v1", [])
            wanted = self.locations.get(order_id)
            if wanted and len(created) >= wanted:
                done[order_id] = max(created)
        return done


class ResourceSampler:
    """Samples each service's resident memory and each projection's lag while the bench runs."""

    def __init__(self, pids: dict[str, int | None], urls: dict[str, str]) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self.urls = urls
        self.peak_rss_mb: dict[str, float] = {}
        self.max_projection_lag: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sample every half second until stopped."""
        self.cpu_seconds = {name: -seconds for name, seconds in self._cpu().items()}
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop sampling and total the CPU time each component used meanwhile."""
        if self._task:
            self._task.cancel()
        for name, seconds in self._cpu().items():
            self.cpu_seconds[name] = round(self.cpu_seconds.get(name, 0.0) + seconds, 2)

    def cpu_used(self) -> dict[str, float]:
        """CPU seconds each component used since `start`, without stopping."""
        return {
            name: round(self.cpu_seconds.get(name, 0.0) + seconds, 2)
            for name, seconds in self._cpu().items()
        }

    def _cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) of each process and its children so far."""
        used = {}
        for name, pid in self.pids.items():
            try:
                process = psutil.Process(pid)
                family = [process, *process.children(recursive=True)]
                used[name] = sum(sum(p.cpu_times()[:2]) for p in family)
            except psutil.Error:
                continue
        return used

    async def _loop(self) -> None:
        async with httpx.AsyncClient(timeout=2) as http:
            for tick in itertools.count():
                self._sample_memory()
                if tick % 4 == 0:  # /metrics costs the services CPU: every 2 s is enough
                    await self._sample_lag(http)
                await asyncio.sleep(0.5)

    def _sample_memory(self) -> None:
        for name, pid in self.pids.items():
            try:
                rss = psutil.Process(pid).memory_info().rss / 2**20
            except psutil.Error:
                continue
            self.peak_rss_mb[name] = round(max(rss, self.peak_rss_mb.get(name, 0.0)), 1)

    async def _sample_lag(self, http: httpx.AsyncClient) -> None:
        for url in self.urls.values():
            try:
                text = (await http.get(f"{url}/metrics")).text
            except httpx.HTTPError:
                continue
            for projection, lag in _LAG.findall(text):
                value = float(lag)
                self.max_projection_lag[projection] = max(
                    value, self.max_projection_lag.get(projection, 0.0)
                )


@dataclass(frozen=True)
class TreeMemory:
    """Memory of a process and all its descendants, in MB.

    `rss` adds up each process's resident set, so pages shared between processes (PostgreSQL's
    shared buffers, mapped in by every backend) count once per process; `pss` shares each page
    out among the processes that map it, so the tree's pages count once: what the tree costs
    the machine.
    """

    rss: float
    pss: float
    by_component: dict[str, float]  # PSS per component


def component_of(name: str, cmdline: list[str]) -> str:
    """Which part of `oms up` a process is, from its name and command line."""
    if name.startswith("postgres"):
        return "postgresql"
    if name == "weed":
        return "s3 store"
    if name.startswith("tansu"):
        return "broker"
    for arg in cmdline:
        if arg.startswith("services."):
            return arg.removeprefix("services.")
    return "oms up"


def tree_memory(pid: int) -> TreeMemory:
    """RSS and PSS of a process tree (Linux reads PSS from smaps_rollup), per component."""
    rss = pss = 0.0
    by_component: dict[str, float] = defaultdict(float)
    try:
        root = psutil.Process(pid)
        family = [root, *root.children(recursive=True)]
    except psutil.Error:
        return TreeMemory(0.0, 0.0, {})
    for process in family:
        try:
            info = process.memory_full_info()
            component = component_of(process.name(), process.cmdline())
        except psutil.Error:
            continue  # it ended meanwhile
        share = getattr(info, "pss", info.rss)  # PSS exists on Linux only
        rss += info.rss
        pss += share
        by_component[component] += share
    mb = 2**20
    return TreeMemory(
        round(rss / mb, 1),
        round(pss / mb, 1),
        {name: round(value / mb, 1) for name, value in sorted(by_component.items())},
    )
