"""One chaos run: start the system as `oms up` does (every link through a fault proxy), drive
traffic while faults are injected, wait for quiet, check, and report."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shared.cli.chaos.checks import Check, run_checks, snapshot
from shared.cli.chaos.faults import KINDS, Fault, Injector
from shared.cli.chaos.links import ProxiedLinks
from shared.cli.chaos.store import FakeStore
from shared.cli.chaos.traffic import CATALOG, SCARCE, Api, Traffic, make_orders, sku_of
from shared.cli.system import EmbeddedSystem, ports_spanned
from shared.runtime.embedded import free_port, free_port_block

CHECK_PAUSE = 5.0
# Deliveries are retried within seconds, not the production minutes: the run must settle. The
# store is told each shipment's tracking number: the rate table's numbers count as real.
CHAOS_SETTINGS = {
    "OMS_GATEWAY_DELIVERY_BACKOFF_INITIAL": "0.5",
    "OMS_GATEWAY_DELIVERY_BACKOFF_MAX": "5",
    "OMS_FULFILLMENT_REAL_TRACKING_RATE_TABLES": '["oms-parcel"]',
}


@dataclass(frozen=True)
class ChaosOptions:
    """How big a run is; the same seed gives the same orders, plans and faults."""

    orders: int = 1000
    faults_per_kind: int = 5
    seed: int = 1
    duration: float | None = None  # traffic and faults; None: from the orders and faults
    settle: float = 300.0  # after the traffic, at most this long to get quiet and pass
    kinds: tuple[str, ...] = KINDS
    var_dir: Path | None = None
    concurrency: int = 160  # orders in flight at once
    instances: int = 1  # processes per service (the harness spreads its calls over them)

    def window(self) -> float:
        """Seconds of traffic and faults."""
        if self.duration is not None:
            return self.duration
        faults = self.faults_per_kind * len(self.kinds)
        return float(max(60, 8 * faults, self.orders // 8))


@dataclass
class Hooks:
    """What a caller (the CLI's progress bars) hears while the run goes on."""

    phase: Callable[[str], None] = lambda name: None
    placed: Callable[[], None] = lambda: None
    finished: Callable[[], None] = lambda: None
    fault: Callable[[Fault], None] = lambda fault: None
    checked: Callable[[list[Check]], None] = lambda checks: None


@dataclass
class ChaosReport:
    """What was done, what was injected, what was checked."""

    options: ChaosOptions
    faults: list[Fault] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    plans: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)
    harness_errors: Counter[str] = field(default_factory=Counter)
    log_dir: Path | None = None

    @property
    def passed(self) -> bool:
        """Every check passed."""
        return bool(self.checks) and all(c.passed for c in self.checks)


async def run_chaos(options: ChaosOptions, hooks: Hooks | None = None) -> ChaosReport:
    """Run the whole thing; the system is stopped at the end, whatever happens."""
    hooks = hooks or Hooks()
    report = ChaosReport(options)
    var_dir = options.var_dir or Path(tempfile.mkdtemp(prefix="oms-chaos-"))
    links = ProxiedLinks(kafka_port=free_port())
    store = FakeStore().start()
    links.start()
    system = EmbeddedSystem(
        var_dir,
        kafka_port=links.broker.target.port,
        base_http_port=free_port_block(ports_spanned(options.instances)),
        db_prefix="chaos",
        extra_env=CHAOS_SETTINGS,
        links=links,
        instances=options.instances,
    )
    links.pids = system.pids
    report.log_dir = system.log_dir
    started = time.monotonic()
    try:
        hooks.phase("starting the system")
        await asyncio.to_thread(system.start)
        report.seconds["start"] = round(time.monotonic() - started, 1)
        await _drive(options, hooks, report, system, links, store)
    finally:
        hooks.phase("stopping the system")
        await asyncio.to_thread(system.stop)
        links.stop()
        store.stop()
        if options.var_dir is None and report.passed:
            shutil.rmtree(var_dir, ignore_errors=True)  # a failed run keeps its logs
    return report


async def _drive(
    options: ChaosOptions,
    hooks: Hooks,
    report: ChaosReport,
    system: EmbeddedSystem,
    links: ProxiedLinks,
    store: FakeStore,
) -> None:
    tag = f"S{options.seed}{uuid.uuid4().hex[:4].upper()}"
    orders = make_orders(options.orders, options.seed, tag)
    report.plans = Counter(f"{o.plan}" for o in orders)
    api = Api(system.instance_urls(), token=system.admin_token)
    traffic = Traffic(api, orders, tag, options.seed)
    injector = Injector(
        system,
        links,
        store,
        seed=options.seed,
        kinds=options.kinds,
        per_kind=options.faults_per_kind,
        on_fault=hooks.fault,
    )
    try:
        hooks.phase("stocking up")
        await traffic.set_up(store.channel("chaos-woo"), time.monotonic() + 120)
        window = options.window()
        began = time.monotonic()
        traffic.deadline = began + window + options.settle
        hooks.phase("traffic and faults")
        stop_faults = asyncio.Event()
        background = [
            asyncio.create_task(traffic.warehouse()),
            asyncio.create_task(traffic.stock_room()),
        ]
        faults = asyncio.create_task(injector.run(window, stop_faults))
        scripts = await _place_all(traffic, options, window, hooks)
        await faults
        report.seconds["traffic and faults"] = round(time.monotonic() - began, 1)
        hooks.phase("letting every order finish its story")
        settle_began = time.monotonic()
        await asyncio.gather(*scripts)
        traffic.stopping.set()
        await asyncio.gather(*background)
        hooks.phase("waiting for quiet, checking")
        skus = [sku_of(tag, name) for name, _ in (*CATALOG, SCARCE)]
        check_deadline = max(traffic.deadline, time.monotonic() + 60)
        while True:
            seen = await snapshot(api, traffic, skus, check_deadline)
            report.checks = run_checks(traffic, store.ledger, seen)
            hooks.checked(report.checks)
            if report.passed or time.monotonic() + CHECK_PAUSE > check_deadline:
                break
            await asyncio.sleep(CHECK_PAUSE)
        report.seconds["settle and check"] = round(time.monotonic() - settle_began, 1)
        report.statuses = Counter(o["status"] for o in seen.orders.values())
    finally:
        traffic.stopping.set()
        report.faults = injector.faults
        report.harness_errors = traffic.errors
        report.figures = {
            "HTTP calls": api.calls,
            "HTTP retries": api.retries,
            "pick-list waves": traffic.waves,
            "pick lists left open by a cut-short wave, finished later": traffic.resumed_lists,
            "receipts and adjustments booked": traffic.restocks + traffic.adjustments,
        }
        # Which process each broker connection came from: a cut of one service hits only it.
        for client, count in sorted(links.broker.connections.items(), key=str):
            report.figures[f"broker connections of {client or 'the harness'}"] = count
        if system.supervisor is not None:
            report.restarts = system.supervisor.restarts()
        await api.close()


async def _place_all(
    traffic: Traffic, options: ChaosOptions, window: float, hooks: Hooks
) -> list[asyncio.Task[None]]:
    """Start each order's script at its moment in the window, at most `concurrency` at once."""
    gate = asyncio.Semaphore(options.concurrency)
    spacing = window * 0.8 / max(len(traffic.orders), 1)  # the last fifth: faults on a tail
    began = time.monotonic()

    async def script(order_index: int) -> None:
        try:
            await traffic.run_order(traffic.orders[order_index])
        finally:
            gate.release()
            hooks.finished()

    scripts = []
    for index in range(len(traffic.orders)):
        await asyncio.sleep(max(0.0, began + index * spacing - time.monotonic()))
        await gate.acquire()
        scripts.append(asyncio.create_task(script(index)))
        hooks.placed()
    return scripts
