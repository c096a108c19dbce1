"""The faults the harness injects, one at a time at seeded random moments, and how long the
system took to be ready again after each."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from shared.cli.chaos.links import ProxiedLinks
from shared.cli.chaos.proxy import Impairment
from shared.cli.chaos.store import FakeStore
from shared.cli.system import SERVICES, EmbeddedSystem

KINDS: tuple[str, ...] = (
    "kill-service",
    "kill-broker",
    "kill-postgres",
    "broker-restart-behind",
    "delay",
    "cut",
    "channel-flaky",
)
SERVICE_NAMES = tuple(s.name for s in SERVICES)
RECOVERY_TIMEOUT = 120.0


@dataclass
class Fault:
    """One injected fault: what, whom, when (seconds into the run), and the recovery seen."""

    kind: str
    target: str
    at: float
    held: float = 0.0
    recovered_in: float | None = None
    note: str = ""


class Injector:
    """Injects `per_kind` faults of each kind over a window, each after the last has healed."""

    def __init__(
        self,
        system: EmbeddedSystem,
        links: ProxiedLinks,
        store: FakeStore,
        *,
        seed: int,
        kinds: tuple[str, ...],
        per_kind: int,
        on_fault: Callable[[Fault], None] = lambda fault: None,
    ) -> None:
        self.system = system
        self.links = links
        self.store = store
        self.rng = random.Random(seed + 2)
        self.plan = [kind for kind in kinds for _ in range(per_kind)]
        self.rng.shuffle(self.plan)
        self.on_fault = on_fault
        self.faults: list[Fault] = []
        self._started = time.monotonic()

    async def run(self, window: float, stop: asyncio.Event) -> None:
        """Inject the planned faults spread over `window` seconds; heal everything at the end."""
        self._started = time.monotonic()
        spacing = window / max(len(self.plan), 1)
        async with httpx.AsyncClient(timeout=3) as http:
            try:
                for index, kind in enumerate(self.plan):
                    due = self._started + index * spacing + self.rng.uniform(0, spacing / 3)
                    if stop.is_set():
                        return
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    fault = Fault(kind, "", round(time.monotonic() - self._started, 1))
                    self.faults.append(fault)
                    try:
                        await self._inject(fault, spacing)
                    except TimeoutError as exc:
                        fault.note = f"{fault.note}; {exc}".lstrip("; ")
                    fault.recovered_in = await self._recovery(http, time.monotonic())
                    self.on_fault(fault)
            finally:
                self.links.heal()

    async def _inject(self, fault: Fault, spacing: float) -> None:
        # Up to the spacing of faults, some longer than a leader's 5 s lock timeout.
        hold = self.rng.uniform(2.0, min(max(spacing, 3.0), 12.0))
        service = self.rng.choice(SERVICE_NAMES)
        if fault.kind == "kill-service":
            names = self.system.instance_names(service)
            # One instance of several (drawn only then: one instance keeps a seed's faults).
            fault.target = names[self.rng.randrange(len(names))] if len(names) > 1 else service
            await self._kill(fault.target)
        elif fault.kind == "kill-broker":
            fault.target = "broker"
            await self._kill("broker")
        elif fault.kind == "kill-postgres":
            fault.target = "postgresql"
            await self._kill("postgresql", group=False)
        elif fault.kind == "broker-restart-behind":
            # The service's consumer is cut off while the others go on: it falls behind; then
            # the broker dies and comes back empty, and only then does the service see it again.
            fault.target = service
            others = [name for name in SERVICE_NAMES if name != service]
            before = await self._published(others)
            self.links.impair(service, "broker", Impairment(cut=True))
            await asyncio.sleep(hold)
            missed = await self._published(others) - before
            await self._kill("broker")
            await asyncio.sleep(2.0)
            self.links.heal(service, "broker")
            fault.held = round(hold + 2.0, 1)
            fault.note = f"cut off while {missed} events were published, then the broker killed"
        elif fault.kind == "channel-flaky":
            fault.target = "the WooCommerce store"
            ledger = self.store.ledger
            refused, lost = ledger.refused, ledger.lost
            self.store.flaky_for(hold, self.rng.randrange(1 << 30))
            await asyncio.sleep(hold)
            fault.held = round(hold, 1)
            fault.note = (
                f"slow; {ledger.refused - refused} refused, "
                f"{ledger.lost - lost} applied with the answer lost"
            )
        elif fault.kind in ("delay", "cut"):
            link = self.rng.choice(("broker", "postgres"))
            fault.target = f"{service} -> {link}"
            if fault.kind == "delay":
                seconds = round(self.rng.uniform(0.2, 1.5), 2)
                impairment = Impairment(delay=seconds)
                fault.note = f"+{seconds * 1000:.0f} ms each way"
            else:
                impairment = Impairment(cut=True)
                fault.note = "partition: nothing passes, nothing closes"
            self.links.impair(service, link, impairment)
            await asyncio.sleep(hold)
            self.links.heal(service, link)
            fault.held = round(hold, 1)
        else:
            raise ValueError(f"unknown fault kind {fault.kind!r}; known: {', '.join(KINDS)}")

    async def _published(self, services: list[str]) -> int:
        """Events the services' relays have published so far (from their /metrics)."""
        urls = self.system.instance_urls()
        total = 0.0
        async with httpx.AsyncClient(timeout=3) as http:
            # Whichever instance leads publishes; each counts what it published.
            for url in (url for name in services for url in urls[name]):
                try:
                    text = (await http.get(f"{url}/metrics")).text
                except httpx.HTTPError:
                    continue
                for line in text.splitlines():
                    if line.startswith("oms_relay_published_total{"):
                        total += float(line.rsplit(" ", 1)[1])
        return int(total)

    async def _kill(self, name: str, *, group: bool = True) -> None:
        await kill(self.system, name, group=group)

    async def _recovery(self, http: httpx.AsyncClient, since: float) -> float | None:
        """Seconds until every service instance answers /readyz 200 again, None if not in
        time."""
        urls = [f"{url}/readyz" for each in self.system.instance_urls().values() for url in each]
        while time.monotonic() - since < RECOVERY_TIMEOUT:
            answers = await asyncio.gather(*(_ready(http, url) for url in urls))
            if all(answers):
                return round(time.monotonic() - since, 1)
            await asyncio.sleep(0.25)
        return None


async def kill(system: EmbeddedSystem, name: str, *, group: bool = True) -> None:
    """SIGKILL a supervised child (its whole process group, or the process alone) and wait
    until the supervisor has started it again."""
    pid = await _pid(system, name, None)
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    await _pid(system, name, pid)


async def _pid(system: EmbeddedSystem, name: str, not_this: int | None) -> int:
    """The child's pid once it runs (and is not `not_this` any more)."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    while time.monotonic() < deadline:
        pid = system.pids().get(name)
        if pid is not None and pid != not_this:
            return pid
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{name} was not running again within {RECOVERY_TIMEOUT:.0f} s")


async def _ready(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(url)).status_code == 200
    except httpx.HTTPError:
        return False
