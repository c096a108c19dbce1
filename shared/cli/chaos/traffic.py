"""The harness's traffic: orders with a plan each (cancel, ship, return or leave them), the
warehouse's pick-list waves, restocks and adjustments; every command retried until it is
answered, with an idempotency key where the API takes one, so a fault never doubles one."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import httpx

from shared.cli.client import auth_headers
from shared.cli.samples import CUSTOMERS
from shared.runtime.aio import sleep_or_stop

Plan = Literal["cancel", "ship", "return", "leave"]
Mode = Literal["simple", "warehouse"]
PLANS: tuple[tuple[Plan, float], ...] = (
    ("cancel", 0.12),
    ("ship", 0.43),
    ("return", 0.20),
    ("leave", 0.25),
)
LOCATIONS: tuple[dict[str, Any], ...] = (
    {"location_id": "CH-BER", "name": "Chaos Berlin", "country": "DE", "priority": 1},
    {"location_id": "CH-AMS", "name": "Chaos Amsterdam", "country": "NL", "priority": 2},
)
CATALOG: tuple[tuple[str, str], ...] = (
    ("TEE", "24.90"),
    ("HOOD", "59.00"),
    ("MUG", "14.50"),
    ("CAP", "19.95"),
    ("SOCK", "12.00"),
    ("BAG", "16.80"),
)
SCARCE = ("LAMP", "39.00")  # little stock: orders wait for it, restocks and cancels serve them
CHANNEL_ID = "chaos-woo"
# Answers that mean "not yet, ask again": the service is down, restarting or not caught up.
RETRY_STATUSES = frozenset({404, 408, 425, 429, 500, 502, 503, 504})
# A wave picks up to WAVE_SIZE shipments; PACKERS of them are packed and shipped at a time.
WAVE_SIZE = 40
PACKERS = 6


class Unanswered(RuntimeError):
    """A command got no definitive answer before its deadline."""


@dataclass
class Order:
    """One order of the run: what the harness planned, did and saw."""

    n: int
    plan: Plan
    mode: Mode
    body: dict[str, Any]
    woo_id: int
    order_id: str | None = None
    accepted: bool = False
    cancel_answer: int | None = None
    shipments: set[str] = field(default_factory=set)  # shipped by the harness or a wave
    returned: Counter[str] = field(default_factory=Counter)
    return_id: str | None = None
    return_received: bool = False
    done: bool = False
    last_error: str | None = None
    actions: list[str] = field(default_factory=list)

    @property
    def prices(self) -> dict[str, Decimal]:
        """Unit price per SKU."""
        return {line["sku"]: Decimal(line["unit_price"]) for line in self.body["lines"]}


@dataclass
class StockLedger:
    """Movements the harness booked and got a definitive answer for, per (SKU, location)."""

    received: Counter[tuple[str, str]] = field(default_factory=Counter)
    adjusted: Counter[tuple[str, str]] = field(default_factory=Counter)


class Api:
    """The services' HTTP APIs, every call retried until answered or the deadline passes.

    A service of several instances (`urls` lists each one's) gets its requests in turn, as
    behind a load balancer: a retry goes to the next instance.
    """

    def __init__(
        self, urls: Mapping[str, Sequence[str]], timeout: float = 10.0, token: str | None = None
    ) -> None:
        self.urls = urls
        self._turn = itertools.count()
        self.http = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=96, max_keepalive_connections=48),
            headers=auth_headers(token),
        )
        self.calls = 0
        self.retries = 0

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def once(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request (raises httpx.HTTPError when nothing came back)."""
        self.calls += 1
        instances = self.urls[service]
        url = instances[next(self._turn) % len(instances)]
        return await self.http.request(method, f"{url}/v1{path}", **kwargs)

    async def readiness(self, service: str) -> str:
        """'ready' when every instance of the service is, else why the first that is not says
        it is not."""
        for instance, url in enumerate(self.urls[service]):
            try:
                response = await self.http.get(f"{url}/readyz")
            except httpx.HTTPError as exc:
                return f"instance {instance}: {type(exc).__name__}"
            if response.status_code != 200:
                return f"instance {instance}: {response.text[:300]}"
        return "ready"

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        deadline: float,
        done: frozenset[int] = frozenset({200, 201, 202}),
        final: frozenset[int] = frozenset(),
        **kwargs: Any,
    ) -> httpx.Response:
        """Repeat the request until its status is in `done` or `final`; others are retried."""
        delay = 0.2
        last = "no answer"
        while True:
            try:
                response = await self.once(service, method, path, **kwargs)
                if response.status_code in done or response.status_code in final:
                    return response
                if response.status_code not in RETRY_STATUSES and response.status_code < 500:
                    # A 409 or 422 may be "not yet" too (a view behind its events): retried,
                    # but reported if it never turns.
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
                else:
                    last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() + delay > deadline:
                raise Unanswered(f"{method} {service}{path}: {last}")
            self.retries += 1
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 2.0)

    async def get(self, service: str, path: str, *, deadline: float, **kwargs: Any) -> Any:
        """GET until 200; the body."""
        return (await self.call(service, "GET", path, deadline=deadline, **kwargs)).json()

    async def pages(self, service: str, path: str, *, deadline: float, **params: Any) -> list[Any]:
        """Every row of a paged list."""
        rows: list[Any] = []
        while True:
            page = await self.get(
                service,
                path,
                deadline=deadline,
                params={**params, "limit": 500, "offset": len(rows)},
            )
            rows.extend(page["data"])
            if not page["data"] or len(rows) >= page["count"]:
                return rows


def make_orders(count: int, seed: int, tag: str) -> list[Order]:
    """`count` orders with their plans, the same for the same seed."""
    rng = random.Random(seed)
    plans, weights = zip(*PLANS, strict=True)
    orders = []
    for n in range(count):
        name, street, city, postal_code, country = rng.choice(CUSTOMERS)
        items = rng.sample(CATALOG, k=rng.randint(1, 3))
        if rng.random() < 0.08:
            items.append(SCARCE)
        woo_id = 100_000 + n
        body = {
            "channel": CHANNEL_ID,
            "external_id": str(woo_id),
            "customer": {"name": name, "email": f"chaos{n}@example.com"},
            "shipping_address": {
                "name": name,
                "line1": street,
                "city": city,
                "postal_code": postal_code,
                "country": country,
            },
            "lines": [
                {"sku": sku_of(tag, sku), "quantity": rng.randint(1, 3), "unit_price": price}
                for sku, price in items
            ],
            "currency": "EUR",
        }
        plan: Plan = rng.choices(plans, weights)[0]
        mode: Mode = "simple" if rng.random() < 0.5 else "warehouse"
        orders.append(Order(n, plan, mode, body, woo_id))
    return orders


def sku_of(tag: str, name: str) -> str:
    """The run's SKU for a catalog name."""
    return f"{name}-{tag}"


class Traffic:
    """Drives the orders through their plans, and the warehouse and stock around them."""

    def __init__(self, api: Api, orders: list[Order], tag: str, seed: int) -> None:
        self.api = api
        self.orders = orders
        self.by_id: dict[str, Order] = {}
        self.tag = tag
        self.rng = random.Random(seed + 1)
        self.ledger = StockLedger()
        self.deadline = float("inf")  # set by the runner: when every script must give up
        self.stopping = asyncio.Event()  # background loops stop
        self.waves = 0
        self.resumed_lists = 0
        self.restocks = 0
        self.adjustments = 0
        self.errors: Counter[str] = Counter()
        self.last_wave_error: str | None = None

    # -- set-up ----------------------------------------------------------------------------

    async def set_up(self, store_channel: dict[str, Any], deadline: float) -> None:
        """Connect the store, register the locations and receive the opening stock."""
        await self.api.call(
            "channel_gateway", "POST", "/channels", json=store_channel, deadline=deadline
        )
        await self.register_locations(LOCATIONS, deadline)
        needed: Counter[str] = Counter()
        for order in self.orders:
            for line in order.body["lines"]:
                needed[line["sku"]] += line["quantity"]
        scarce = sku_of(self.tag, SCARCE[0])
        for sku, units in sorted(needed.items()):
            if sku == scarce:
                await self.receive(sku, LOCATIONS[0]["location_id"], max(2, units // 6), deadline)
                continue
            # Enough for all, split over both locations so some orders ship from two.
            first = units * 3 // 5 + 5
            await self.receive(sku, LOCATIONS[0]["location_id"], first, deadline)
            await self.receive(sku, LOCATIONS[1]["location_id"], units - first + 10, deadline)

    async def register_locations(
        self, locations: Iterable[dict[str, Any]], deadline: float
    ) -> None:
        """Register these locations (one already there is fine)."""
        for location in locations:
            await self.api.call(
                "inventory_service",
                "POST",
                "/locations",
                json=location,
                deadline=deadline,
                final=frozenset({409}),
            )

    async def receive(self, sku: str, location_id: str, quantity: int, deadline: float) -> None:
        """Book a receipt; counted once its answer came."""
        key = f"chaos-receipt-{self.tag}-{self.restocks}"
        self.restocks += 1
        body = {"location_id": location_id, "sku": sku, "quantity": quantity}
        await self.api.call(
            "inventory_service",
            "POST",
            "/stock/receipts",
            json=body,
            headers={"Idempotency-Key": key},
            deadline=deadline,
        )
        self.ledger.received[(sku, location_id)] += quantity

    async def adjust(self, sku: str, location_id: str, delta: int, deadline: float) -> None:
        """Correct on hand; counted only when applied (a refusal changes nothing)."""
        key = f"chaos-adjust-{self.tag}-{self.adjustments}"
        self.adjustments += 1
        body = {
            "location_id": location_id,
            "sku": sku,
            "quantity_delta": delta,
            "reason": "cycle count",
        }
        response = await self.api.call(
            "inventory_service",
            "POST",
            "/stock/adjustments",
            json=body,
            headers={"Idempotency-Key": key},
            deadline=deadline,
            final=frozenset({409, 422}),
        )
        if response.status_code == 201:
            self.ledger.adjusted[(sku, location_id)] += delta

    # -- orders ----------------------------------------------------------------------------

    async def run_order(self, order: Order) -> None:
        """Place the order and follow its plan; errors are kept on the order, never raised."""
        try:
            await self._place(order)
            if order.plan == "cancel":
                await self._cancel(order)
            elif order.plan in ("ship", "return"):
                await self._ship(order)
                if order.plan == "return":
                    await self._return(order)
            order.done = True
        except Unanswered as exc:
            order.last_error = str(exc)
            self.errors["unanswered"] += 1
        except Exception as exc:  # one order's surprise must not stop the run
            order.last_error = f"{type(exc).__name__}: {exc}"
            self.errors[type(exc).__name__] += 1

    async def _place(self, order: Order) -> None:
        response = await self.api.call(
            "channel_gateway", "POST", "/orders", json=order.body, deadline=self.deadline
        )
        order.order_id = str(response.json()["order_id"])
        order.accepted = True
        self.by_id[order.order_id] = order
        order.actions.append("placed")

    async def _status(self, order: Order) -> dict[str, Any]:
        return dict(
            await self.api.get("order_service", f"/orders/{order.order_id}", deadline=self.deadline)
        )

    async def _await_status(
        self, order: Order, wanted: set[str], pause: float = 1.0
    ) -> dict[str, Any]:
        while True:
            current = await self._status(order)
            if current["status"] in wanted:
                return current
            if time.monotonic() + pause > self.deadline:
                raise Unanswered(f"order stayed {current['status']}, waited for {sorted(wanted)}")
            await asyncio.sleep(pause * self.rng.uniform(0.7, 1.3))

    async def _cancel(self, order: Order) -> None:
        await self._await_status(order, {"placed", "confirmed", "backordered"})
        await asyncio.sleep(self.rng.uniform(0, 3))
        response = await self.api.call(
            "order_service",
            "POST",
            f"/orders/{order.order_id}/cancel",
            json={"reason": "chaos: customer changed their mind"},
            deadline=self.deadline,
            final=frozenset({409}),
        )
        order.cancel_answer = response.status_code
        order.actions.append(f"cancel -> {response.status_code}")

    async def _ship(self, order: Order) -> None:
        confirmed = await self._await_status(
            order, {"confirmed", "partially_shipped", "shipped"}, pause=1.5
        )
        locations = {a["location_id"] for a in confirmed["allocations"]}
        while True:
            page = await self.api.get(
                "fulfillment_service",
                "/shipments",
                params={"order_id": order.order_id},
                deadline=self.deadline,
            )
            shipments = page["data"]
            if {s["location_id"] for s in shipments} >= locations:
                break
            await self._pause("shipments never created")
        while True:
            pending = [s for s in shipments if s["status"] != "shipped"]
            for shipment in pending:
                if order.mode == "simple" and shipment["status"] in ("open", "picked"):
                    await self._ship_simple(order, shipment)
                elif order.mode == "warehouse" and shipment["status"] in ("picked", "packed"):
                    # The wave that picked it ships it at once; if that wave was cut short by
                    # a fault, the packer finishes the job (the same package key, no double).
                    await self._pack_and_ship(order, shipment["shipment_id"], self.deadline)
            if not pending:
                break
            await self._pause("shipments never shipped")
            page = await self.api.get(
                "fulfillment_service",
                "/shipments",
                params={"order_id": order.order_id},
                deadline=self.deadline,
            )
            shipments = page["data"]
        order.shipments.update(s["shipment_id"] for s in shipments)
        await self._await_status(order, {"shipped"})

    async def _pause(self, what: str, seconds: float = 1.0) -> None:
        if time.monotonic() + seconds > self.deadline:
            raise Unanswered(what)
        await asyncio.sleep(seconds * self.rng.uniform(0.7, 1.3))

    async def _ship_simple(self, order: Order, shipment: dict[str, Any]) -> None:
        shipment_id = shipment["shipment_id"]
        body = {"carrier": "DHL", "tracking_number": f"CHS{order.n:06d}{shipment_id[:6]}"}
        response = await self.api.call(
            "fulfillment_service",
            "POST",
            f"/shipments/{shipment_id}/ship",
            json=body,
            deadline=self.deadline,
            final=frozenset({409, 422}),  # taken by a wave meanwhile: shipped there, or later
        )
        order.actions.append(f"ship {shipment_id[:8]} -> {response.status_code}")

    async def _return(self, order: Order) -> None:
        current = await self._status(order)
        shipped: Counter[str] = Counter()
        for shipment in current["shipments"]:
            for line in shipment["lines"]:
                shipped[line["sku"]] += line["quantity"]
        rng = random.Random(order.n)
        every = rng.random() < 0.4
        taken: dict[str, int] = {}
        for sku, quantity in sorted(shipped.items()):
            take = quantity if every else rng.randint(0, quantity)
            if take:
                taken[sku] = take
        if not taken:
            taken = {min(shipped): 1}
        lines = [
            {"sku": sku, "quantity": quantity, "reason": "chaos: did not fit"}
            for sku, quantity in taken.items()
        ]
        try:
            rma = await self.api.call(
                "returns_service",
                "POST",
                "/returns",
                json={"order_id": order.order_id, "lines": lines},
                headers={"Idempotency-Key": f"chaos-rma-{order.order_id}"},
                deadline=self.deadline,
            )
        except Unanswered as exc:
            raise Unanswered(f"{exc}; {await self._return_evidence(order, shipped)}") from exc
        order.return_id = str(rma.json()["return_id"])
        order.actions.append(f"return requested {order.return_id[:8]}")
        received = [
            {
                "sku": line["sku"],
                "quantity": line["quantity"],
                "condition": "sellable" if rng.random() < 0.7 else "damaged",
            }
            for line in lines
        ]
        await self.api.call(
            "returns_service",
            "POST",
            f"/returns/{order.return_id}/receive",
            json={"lines": received},
            headers={"Idempotency-Key": f"chaos-receipt-{order.return_id}"},
            deadline=self.deadline,
        )
        order.returned.update(taken)
        order.return_received = True
        order.actions.append("return received")

    async def _return_evidence(self, order: Order, shipped: Counter[str]) -> str:
        """What each side knew when a return was refused: the returns already on the order and
        the shipments the order showed (a refusal that never turns is a finding to explain)."""
        try:
            returns = await self.api.once(
                "returns_service", "GET", "/returns", params={"order_id": order.order_id}
            )
            known = returns.text[:600]
        except httpx.HTTPError as exc:
            known = f"returns unreadable: {exc}"
        return f"order shipped {dict(shipped)}; returns service has {known}"

    # -- the warehouse and the stock room, in the background -----------------------------

    async def warehouse(self) -> None:
        """Pick-list waves at each location until stopped: pick all, pack and ship what the
        plans ship (the rest stays picked, as a real cart leaves some parcels for later)."""
        # One picker team per location, working at the same time: one loop for all locations
        # could not keep up with 10,000 orders on a loaded machine, and orders were given up on.
        await asyncio.gather(*(self._waves_at(loc["location_id"]) for loc in LOCATIONS))

    async def _waves_at(self, location_id: str) -> None:
        """Waves at one location until stopped."""
        while not self.stopping.is_set():
            try:
                await self._wave(location_id)
            except Unanswered as exc:
                self.errors["wave unanswered"] += 1
                self.last_wave_error = str(exc)
            await sleep_or_stop(self.stopping, 1.5)

    async def _wave(self, location_id: str) -> None:
        deadline = min(self.deadline, time.monotonic() + 60)
        await self._finish_open_lists(location_id, deadline)
        self.waves += 1
        wave = self.waves  # the loops of other locations count on meanwhile
        created = await self.api.call(
            "fulfillment_service",
            "POST",
            "/pick-lists",
            json={
                "location_id": location_id,
                "max_shipments": WAVE_SIZE,
                "carrier": "oms-parcel",
            },
            headers={"Idempotency-Key": f"chaos-wave-{self.tag}-{location_id}-{wave}"},
            deadline=deadline,
            final=frozenset({404, 409, 422}),  # nothing to pick right now
        )
        if created.status_code not in (200, 201):
            return
        await self._work_pick_list(created.json(), deadline)

    async def _finish_open_lists(self, location_id: str, deadline: float) -> None:
        """Lists a wave cut short by a fault left open: a picker takes them up first, as a real
        warehouse does; their shipments would otherwise wait on a list nobody confirms."""
        page = await self.api.get(
            "fulfillment_service",
            "/pick-lists",
            params={"location_id": location_id, "status": "open", "limit": 50},
            deadline=deadline,
        )
        for summary in page["data"]:
            pick_list = await self.api.get(
                "fulfillment_service", f"/pick-lists/{summary['pick_list_id']}", deadline=deadline
            )
            self.resumed_lists += 1
            await self._work_pick_list(pick_list, deadline)

    async def _work_pick_list(self, pick_list: dict[str, Any], deadline: float) -> None:
        """Pick all of a list, then pack and ship the slots of orders shipped from the warehouse."""
        picks = [{"sku": line["sku"], "picked": line["quantity"]} for line in pick_list["lines"]]
        if pick_list["status"] == "open" and picks:
            await self.api.call(
                "fulfillment_service",
                "POST",
                f"/pick-lists/{pick_list['pick_list_id']}/confirm",
                json={"lines": picks},
                deadline=deadline,
                final=frozenset({409}),  # confirmed already (our lost answer) or cancelled
            )
        packers = asyncio.Semaphore(PACKERS)

        async def pack_and_ship(order: Order, shipment_id: str) -> None:
            async with packers:
                await self._pack_and_ship(order, shipment_id, deadline)

        parcels = []
        for slot in pick_list["slots"]:
            order = self.by_id.get(str(slot["order_id"]))
            if order is None or order.plan not in ("ship", "return") or order.mode != "warehouse":
                continue
            parcels.append(pack_and_ship(order, str(slot["shipment_id"])))
        # Every parcel's outcome is awaited before the wave ends: none goes on behind our back.
        outcomes = await asyncio.gather(*parcels, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _pack_and_ship(self, order: Order, shipment_id: str, deadline: float) -> None:
        shipment = await self.api.get(
            "fulfillment_service", f"/shipments/{shipment_id}", deadline=deadline
        )
        if shipment["status"] in ("shipped", "cancelled", "short"):
            return
        if not shipment["packages"]:
            items = [
                {"sku": line["sku"], "quantity": line["quantity"]} for line in shipment["lines"]
            ]
            await self.api.call(
                "fulfillment_service",
                "POST",
                f"/shipments/{shipment_id}/packages",
                json={
                    "items": items,
                    "weight_grams": 400 * len(items),
                    "dimensions_mm": {"length": 300, "width": 220, "height": 80},
                },
                headers={"Idempotency-Key": f"chaos-pack-{shipment_id}"},
                deadline=deadline,
                final=frozenset({409, 422}),
            )
        response = await self.api.call(
            "fulfillment_service",
            "POST",
            f"/shipments/{shipment_id}/ship",
            json={},
            deadline=deadline,
            final=frozenset({409, 422}),
        )
        order.actions.append(f"wave ship {shipment_id[:8]} -> {response.status_code}")

    async def stock_room(self) -> None:
        """Until stopped: restock the scarce SKU now and then, and adjust others a little."""
        scarce = sku_of(self.tag, SCARCE[0])
        while not self.stopping.is_set():
            await sleep_or_stop(self.stopping, self.rng.uniform(3, 6))
            if self.stopping.is_set():
                return
            deadline = min(self.deadline, time.monotonic() + 60)
            try:
                location_id = self.rng.choice(LOCATIONS)["location_id"]
                await self.receive(scarce, location_id, self.rng.randint(2, 6), deadline)
                sku = sku_of(self.tag, self.rng.choice(CATALOG)[0])
                await self.adjust(sku, location_id, self.rng.choice((-2, -1, 1, 2, 3)), deadline)
            except Unanswered:
                self.errors["stock room unanswered"] += 1
