"""The same-run baseline of `oms bench`: our order flow on the eventsourcing library's own System.

Four process steps, each its own transaction with a tracking row, like our services: intake
places an `Order`, inventory reserves its lines on `Stock` (one per SKU at a location), orders
confirm it, fulfillment creates a `Shipment`. Persistence is the library's PostgreSQL module on
a fresh database of the bench's server, with the environment our services use (same pool, the
same aggregate cache), one event per transaction: the figure says what plain `eventsourcing`
does with this flow on this machine right now.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEventProtocol, event
from eventsourcing.persistence import Tracking
from eventsourcing.system import (
    NewMultiThreadedRunner,
    ProcessApplication,
    Runner,
    System,
)
from eventsourcing.utils import EnvType, get_topic

from shared.cli.samples import LOCATIONS, units_needed
from shared.money import minor_units, money
from shared.runtime.database import eventsourcing_env
from shared.runtime.embedded import drop_database, ensure_database

NAMESPACE = uuid.UUID("5b0c3f9e-7d1a-4c55-9a51-0d7e2b6f4a10")
LOCATION = str(LOCATIONS[0]["location_id"])
RUNNER: type[Runner[uuid.UUID]] = NewMultiThreadedRunner
"""Measured fastest of the library's four runners on this flow (2026-12-07, 1,000 orders)."""
TIMEOUT = 600.0  # seconds to wait for the last shipment
CACHE_SIZE = 10_000  # our services' default (shared/runtime/settings.py)


class InsufficientStockError(Exception):
    """Fewer units available than a line asks for."""


Lines = list[dict[str, Any]]  # sku, quantity, unit_price (minor units)
Address = dict[str, str]


class Order(Aggregate):
    """A placed order: lines and amounts in minor units; confirmed once its stock is reserved."""

    class Placed(Aggregate.Created):
        external_id: str
        channel: str
        customer: Address
        shipping_address: Address
        lines: Lines
        currency: str
        total: int

    class Confirmed(Aggregate.Event):
        location_id: str
        lines: Lines
        shipping_address: Address

    class Backordered(Aggregate.Event):
        pass

    @staticmethod
    def create_id(external_id: str) -> uuid.UUID:
        """The id of the order of this external id (creation is idempotent)."""
        return uuid.uuid5(NAMESPACE, f"order:{external_id}")

    @event(Placed)
    def __init__(
        self,
        external_id: str,
        channel: str,
        customer: Address,
        shipping_address: Address,
        lines: Lines,
        currency: str,
        total: int,
    ) -> None:
        self.external_id = external_id
        self.channel = channel
        self.customer = customer
        self.shipping_address = shipping_address
        self.lines = lines
        self.currency = currency
        self.total = total
        self.status = "placed"
        self.location_id: str | None = None

    @event(Confirmed)
    def confirm(self, location_id: str, lines: Lines, shipping_address: Address) -> None:
        """All stock is reserved at the location: the event carries what a shipment needs."""
        self.status = "confirmed"
        self.location_id = location_id

    @event(Backordered)
    def backorder(self) -> None:
        """Some line could not be reserved."""
        self.status = "backordered"


class Stock(Aggregate):
    """Units of one SKU at one location."""

    class Received(Aggregate.Created):
        location_id: str
        sku: str
        available: int

    class Reserved(Aggregate.Event):
        order_id: str
        quantity: int

    @staticmethod
    def create_id(location_id: str, sku: str) -> uuid.UUID:
        """The id of the stock of this SKU at this location."""
        return uuid.uuid5(NAMESPACE, f"stock:{location_id}:{sku}")

    @event(Received)
    def __init__(self, location_id: str, sku: str, available: int) -> None:
        self.location_id = location_id
        self.sku = sku
        self.available = available

    def reserve(self, order_id: str, quantity: int) -> None:
        """Hold units for an order; refused when fewer are available."""
        if quantity > self.available:
            raise InsufficientStockError(f"{self.sku}: {quantity} asked, {self.available} left")
        self._reserve(order_id, quantity)

    @event(Reserved)
    def _reserve(self, order_id: str, quantity: int) -> None:
        self.available -= quantity


class Reservation(Aggregate):
    """An order's all-or-nothing reservation at a location (reserved False when refused)."""

    class Created(Aggregate.Created):
        order_id: str
        location_id: str
        lines: Lines
        reserved: bool

    @staticmethod
    def create_id(order_id: str) -> uuid.UUID:
        """The id of the reservation of this order."""
        return uuid.uuid5(NAMESPACE, f"reservation:{order_id}")

    @event(Created)
    def __init__(self, order_id: str, location_id: str, lines: Lines, reserved: bool) -> None:
        self.order_id = order_id
        self.location_id = location_id
        self.lines = lines
        self.reserved = reserved


class Shipment(Aggregate):
    """One order's shipment from a location."""

    class Created(Aggregate.Created):
        order_id: str
        location_id: str
        lines: Lines
        shipping_address: Address

    @staticmethod
    def create_id(order_id: str) -> uuid.UUID:
        """The id of the shipment of this order."""
        return uuid.uuid5(NAMESPACE, f"shipment:{order_id}")

    @event(Created)
    def __init__(
        self, order_id: str, location_id: str, lines: Lines, shipping_address: Address
    ) -> None:
        self.order_id = order_id
        self.location_id = location_id
        self.lines = lines
        self.shipping_address = shipping_address


class Counted(ProcessApplication[uuid.UUID]):
    """A process application that counts its write transactions."""

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        self.commits = 0  # commands and processed events: one transaction each
        self.processed = 0  # events processed, each recorded with its tracking row
        self._changed = threading.Condition()

    def counted(self, *, processed: bool = False) -> None:
        """One more transaction recorded."""
        with self._changed:
            self.commits += 1
            self.processed += processed
            self._changed.notify_all()

    def wait_for(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until `done()` after a transaction of this application, at most `timeout`."""
        with self._changed:
            return self._changed.wait_for(done, timeout)

    def process_event(
        self, domain_event: DomainEventProtocol[uuid.UUID], tracking: Tracking
    ) -> None:
        """Process one event in one transaction with its tracking row, and count it."""
        super().process_event(domain_event, tracking)
        self.counted(processed=True)


class Orders(Counted):
    """Intake places orders; a reservation confirms or backorders them."""

    topics = (get_topic(Reservation.Created),)

    def __init__(self, env: EnvType | None = None) -> None:
        super().__init__(env)
        self.confirmations = 0

    def place(self, order: dict[str, Any]) -> uuid.UUID:
        """Place one sample order (the intake step: one transaction)."""
        currency = str(order["currency"])
        lines = [
            {
                "sku": line["sku"],
                "quantity": int(line["quantity"]),
                "unit_price": in_minor_units(str(line["unit_price"]), currency),
            }
            for line in order["lines"]
        ]
        placed = Order(
            external_id=str(order["external_id"]),
            channel=str(order["channel"]),
            customer=dict(order["customer"]),
            shipping_address=dict(order["shipping_address"]),
            lines=lines,
            currency=currency,
            total=sum(line["unit_price"] * line["quantity"] for line in lines),
        )
        self.save(placed)
        self.counted()
        return placed.id

    def policy(
        self,
        domain_event: DomainEventProtocol[uuid.UUID],
        processing_event: ProcessingEvent[uuid.UUID],
    ) -> None:
        """Confirm or backorder the order its reservation is for."""
        if not isinstance(domain_event, Reservation.Created):
            return
        order: Order = self.repository.get(uuid.UUID(domain_event.order_id))
        if domain_event.reserved:
            order.confirm(domain_event.location_id, order.lines, order.shipping_address)
            self.confirmations += 1
        else:
            order.backorder()
        processing_event.collect_events(order)


class Inventory(Counted):
    """Receives stock; reserves each placed order's lines, all or nothing."""

    topics = (get_topic(Order.Placed),)

    def receive(self, location_id: str, sku: str, units: int) -> None:
        """Put units of a SKU on the shelf at a location (before the clock starts)."""
        self.save(Stock(location_id=location_id, sku=sku, available=units))
        self.counted()

    def stock(self, location_id: str, sku: str) -> Stock:
        """The stock of a SKU at a location."""
        found: Stock = self.repository.get(Stock.create_id(location_id, sku))
        return found

    def policy(
        self,
        domain_event: DomainEventProtocol[uuid.UUID],
        processing_event: ProcessingEvent[uuid.UUID],
    ) -> None:
        """Reserve every line at the location, or none when one falls short."""
        if not isinstance(domain_event, Order.Placed):
            return
        order_id = str(domain_event.originator_id)
        lines = domain_event.lines
        stocks = [self.stock(LOCATION, line["sku"]) for line in lines]
        try:
            for stock, line in zip(stocks, lines, strict=True):
                stock.reserve(order_id, line["quantity"])
        except InsufficientStockError:
            stocks = []
        reservation = Reservation(order_id, LOCATION, lines, reserved=bool(stocks))
        processing_event.collect_events(*stocks, reservation)


class Fulfillment(Counted):
    """Creates a shipment for every confirmed order."""

    topics = (get_topic(Order.Confirmed),)

    def policy(
        self,
        domain_event: DomainEventProtocol[uuid.UUID],
        processing_event: ProcessingEvent[uuid.UUID],
    ) -> None:
        """Create the confirmed order's shipment."""
        if not isinstance(domain_event, Order.Confirmed):
            return
        shipment = Shipment(
            order_id=str(domain_event.originator_id),
            location_id=domain_event.location_id,
            lines=domain_event.lines,
            shipping_address=domain_event.shipping_address,
        )
        processing_event.collect_events(shipment)


def in_minor_units(amount: str, currency: str) -> int:
    """A decimal amount as an integer count of the currency's minor units."""
    return int(money(Decimal(amount), currency).scaleb(minor_units(currency)))


def order_system() -> System:
    """Intake -> reserve -> confirm -> shipment: orders and inventory follow each other."""
    return System(pipes=[[Orders, Inventory, Orders, Fulfillment]])


@contextmanager
def running_system(
    database_url: str,
    runner_cls: type[Runner[uuid.UUID]] = RUNNER,
    cache_size: int = CACHE_SIZE,
) -> Iterator[Runner[uuid.UUID]]:
    """The order system started on this database, stopped on exit."""
    env = eventsourcing_env(database_url, cache_size=cache_size)
    runner = runner_cls(order_system(), env=env)
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


def stock_up(runner: Runner[uuid.UUID], orders: Sequence[dict[str, Any]]) -> None:
    """Receive twice the units the orders need at the first location, as the bench does."""
    inventory = runner.get(Inventory)
    for sku, units in units_needed(list(orders)).items():
        inventory.receive(LOCATION, sku, units * 2)


def push_orders(
    runner: Runner[uuid.UUID], orders: Sequence[dict[str, Any]], timeout: float = TIMEOUT
) -> dict[str, float]:
    """Place every order and wait until each is shipped or backordered.

    Orders/s counts shipments, from the first intake to the last shipment.
    """
    intake, fulfillment = runner.get(Orders), runner.get(Fulfillment)
    apps = [intake, runner.get(Inventory), fulfillment]
    commits_before = sum(app.commits for app in apps)
    answered_before, confirmed_before = intake.processed, intake.confirmations
    shipped_before = fulfillment.processed

    def settled() -> bool:
        confirmed = intake.confirmations - confirmed_before
        return (
            intake.processed - answered_before >= len(orders)
            and fulfillment.processed - shipped_before >= confirmed
        )

    started = time.perf_counter()
    for order in orders:
        intake.place(order)
    deadline = started + timeout
    # Short waits: the last transaction may be a backorder, which fulfillment never sees.
    while not fulfillment.wait_for(settled, 0.01) and time.perf_counter() < deadline:
        _raise_runner_errors(runner)
    seconds = time.perf_counter() - started
    _raise_runner_errors(runner)
    shipped = fulfillment.processed - shipped_before
    commits = sum(app.commits for app in apps) - commits_before
    return {
        "orders": float(len(orders)),
        "completed": float(shipped),
        "seconds": round(seconds, 3),
        "orders_per_s": round(shipped / seconds, 1),
        "commits": float(commits),
        "commits_per_s": round(commits / seconds, 1),
    }


def _raise_runner_errors(runner: Runner[uuid.UUID]) -> None:
    """A thread of the runner failed: stop waiting for shipments that will not come."""
    reraise = getattr(runner, "reraise_thread_errors", None)
    if reraise is not None:
        reraise()


def run_baseline(
    postgres_server_url: str,
    orders: Sequence[dict[str, Any]],
    *,
    runner_cls: type[Runner[uuid.UUID]] = RUNNER,
    cache_size: int = CACHE_SIZE,
) -> dict[str, float]:
    """Run the orders through the library's System on a fresh database of this server."""
    dbname = f"baseline_{uuid.uuid4().hex[:12]}"
    database_url = ensure_database(postgres_server_url, dbname)
    try:
        with running_system(database_url, runner_cls, cache_size) as runner:
            stock_up(runner, orders)
            return push_orders(runner, orders)
    finally:
        drop_database(postgres_server_url, dbname)
