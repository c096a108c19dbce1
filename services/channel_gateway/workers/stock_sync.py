"""The stock pusher: tells each channel what it may sell of each SKU, at most so often.

Inventory publishes every change of what channels may sell; the consumer keeps the latest
figure per SKU (stock_wanted). This worker (in the leader, like deliveries) pushes, per
channel, the SKUs whose channel holds another figure than it should, oldest change first, at
most `rate` pushes a second per channel (a token bucket), so a burst of changes to one SKU
becomes one push of its latest figure. A push sets an absolute figure, so a repeat (a retry
after a lost answer, two leaders for a moment) does no harm and needs no claim: that is why
this is not a Delivery. Failed pushes are retried with the delivery backoff and given up on
after the delivery attempts, visibly (GET /v1/stock-sync); a newer figure tries again.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import uuid4

import httpx
import structlog

from services.channel_gateway.channels.http import PermanentChannelError, TransientChannelError
from services.channel_gateway.channels.outbound import ApiClient, Outbound
from services.channel_gateway.channels.registry import Channel, ChannelRegistry
from services.channel_gateway.channels.stock import NotListedError, StockPush
from services.channel_gateway.views import ChannelOrderViews
from services.channel_gateway.views.stock_sync import StockGate
from shared.runtime.aio import sleep_or_stop
from shared.runtime.metrics import STOCK_PUSHES, STOCK_SYNC_LAG

log = structlog.get_logger()
FULL_CHECK_SECONDS = 5.0
"""However quiet the gate says a channel is, its SKUs are compared at least this often: a
figure kept while the gate was read may carry an older time than the one the gate saw."""


@dataclass(frozen=True)
class StockSyncPolicy:
    """How fast and how persistently stock is pushed (built by bootstrap from the settings)."""

    rate: float = 2.0
    poll_interval: float = 0.2
    max_attempts: int = 10
    backoff_initial: float = 5.0
    backoff_max: float = 1800.0
    channel_timeout: float = 15.0

    def backoff(self, attempt: int) -> float:
        """Seconds before the next attempt: doubling, capped, with jitter (as deliveries)."""
        delay = min(self.backoff_initial * 2 ** (attempt - 1), self.backoff_max)
        return float(delay * random.uniform(0.8, 1.2))


class TokenBucket:
    """At most `rate` calls a second on average, and a burst of one second's worth (>= 1)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.at = clock()

    def available(self) -> int:
        """Whole calls that may be made now."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return int(self.tokens)

    def take(self) -> bool:
        """Spend one call if there is one."""
        if self.available() < 1:
            return False
        self.tokens -= 1
        return True


class StockSyncWorker:
    """Pushes due stock figures, each channel at its own pace."""

    def __init__(
        self,
        views: ChannelOrderViews,
        registry: ChannelRegistry,
        outbound: Outbound,
        policy: StockSyncPolicy,
    ) -> None:
        self.views = views
        self.registry = registry
        self.outbound = outbound
        self.policy = policy
        self.buckets: dict[str, TokenBucket] = {}
        self.running: dict[str, asyncio.Task[int]] = {}
        # Channel -> (latest figure's time when nothing was left due, when that was seen).
        self.quiet_since: dict[str, tuple[datetime | None, float]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Push until stopped; pushes in flight then are cancelled (they are pushed again)."""
        async with httpx.AsyncClient(timeout=self.policy.channel_timeout) as http:
            try:
                while not stop.is_set():
                    try:
                        await self.start_due(http)
                    except Exception:  # a database hiccup must not kill the leader's other work
                        log.exception("stock sync round failed")
                    await sleep_or_stop(stop, self.policy.poll_interval)
            finally:
                tasks = list(self.running.values())
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def start_due(self, http: httpx.AsyncClient) -> None:
        """Start a round of pushes for each channel that is idle here, may call again and may
        have something due."""
        channels = await asyncio.to_thread(self.stock_channels)
        gate = await asyncio.to_thread(self.views.stock_gate)
        now = datetime.now(UTC)
        for channel_id in channels:
            if channel_id in self.running or self._quiet(channel_id, gate, now):
                continue
            bucket = self.buckets.setdefault(channel_id, TokenBucket(self.policy.rate))
            if bucket.available() < 1:
                continue
            task = asyncio.create_task(self.push_channel(channel_id, http, bucket, gate.wanted_at))
            self.running[channel_id] = task
            task.add_done_callback(partial(self._ended, channel_id))

    async def process_due(self, http: httpx.AsyncClient) -> int:
        """Start the due rounds and wait for them; how many pushes were tried (tests)."""
        await self.start_due(http)
        return sum(await asyncio.gather(*self.running.values()))

    def stock_channels(self) -> list[str]:
        """The connected marketplaces (own channels have no stock to be told)."""
        rows, _ = self.views.list_connections(kind=None, limit=10_000, offset=0)
        return [row["channel_id"] for row in rows if row["kind"] in STOCK_KINDS]

    def _quiet(self, channel_id: str, gate: StockGate, now: datetime) -> bool:
        """Whether the channel had nothing due and nothing has changed for it since."""
        seen = self.quiet_since.get(channel_id)
        if seen is None or time.monotonic() - seen[1] > FULL_CHECK_SECONDS:
            return False
        return gate.quiet(channel_id, seen[0], now)

    def _ended(self, channel_id: str, task: asyncio.Task[int]) -> None:
        self.running.pop(channel_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("stock sync round crashed", channel=channel_id, error=str(task.exception()))

    async def push_channel(
        self,
        channel_id: str,
        http: httpx.AsyncClient,
        bucket: TokenBucket,
        wanted_at: datetime | None = None,
    ) -> int:
        """Push as many due SKUs as the channel's bucket allows; how many were tried.
        `wanted_at` is the gate's time of the latest figure, read before the SKUs are."""
        channel = await asyncio.to_thread(self.registry.get, channel_id)
        if channel is None:
            return 0
        client = self.outbound.stock_client(channel, http)
        if client is None:
            return 0
        limit = bucket.available()
        due = await asyncio.to_thread(self.views.due_stock, channel_id, limit)
        if len(due) < limit:  # all that was due is in hand: quiet until something changes
            self.quiet_since[channel_id] = (wanted_at, time.monotonic())
        else:
            self.quiet_since.pop(channel_id, None)
        tried = 0
        for row in due:
            if not bucket.take():
                break
            await self.push(channel, client, row)
            tried += 1
        return tried

    async def push(self, channel: Channel, client: ApiClient, row: dict[str, Any]) -> None:
        """One push of a SKU's latest figure, its outcome recorded."""
        channel_id, sku = channel.connection.channel_id, row["sku"]
        wanted, version = row["wanted"], row["stock_version"]
        skus = channel.connection.channel_skus(sku)
        if not skus:
            reason = f"no channel SKU is mapped to {sku} (sku_mapping)"
            await asyncio.to_thread(self.views.stock_not_listed, channel_id, sku, reason)
            STOCK_PUSHES.labels(channel_id, "not_listed").inc()
            return
        push = StockPush(
            sku=sku,
            channel_skus=skus,
            available=int(wanted["available"]),
            locations={k: int(v) for k, v in (wanted.get("locations") or {}).items()},
            key=uuid4().hex,
        )
        try:
            outcome = await asyncio.wait_for(
                client.set_stock(push), self.policy.channel_timeout * 4
            )
        except NotListedError as error:
            await asyncio.to_thread(self.views.stock_not_listed, channel_id, sku, str(error))
            STOCK_PUSHES.labels(channel_id, "not_listed").inc()
        except (TransientChannelError, TimeoutError) as error:
            await self._failed(channel_id, row, f"{type(error).__name__}: {error}", retry=True)
        except PermanentChannelError as error:
            await self._failed(channel_id, row, str(error), retry=False)
        except Exception as error:  # a bug in an adapter fails the push, not the worker
            log.exception("stock push crashed", channel=channel_id, sku=sku)
            await self._failed(channel_id, row, f"{type(error).__name__}: {error}", retry=False)
        else:
            await asyncio.to_thread(self.views.stock_pushed, channel_id, sku, wanted, version)
            STOCK_PUSHES.labels(channel_id, "pushed").inc()
            changed_at: datetime = row["changed_at"]
            lag = (datetime.now(UTC) - changed_at).total_seconds()
            STOCK_SYNC_LAG.labels(channel_id).observe(max(0.0, lag))
            log.info("stock pushed", channel=channel_id, sku=sku, outcome=outcome)

    async def _failed(self, channel_id: str, row: dict[str, Any], error: str, retry: bool) -> None:
        fresh = row["gave_up_version"] is not None  # a newer figure after giving up: anew
        attempt = 1 if fresh else row["attempts"] + 1
        retry_at = None
        if retry and attempt < self.policy.max_attempts:
            retry_at = datetime.now(UTC) + timedelta(seconds=self.policy.backoff(attempt))
        log.warning(
            "stock push failed",
            channel=channel_id,
            sku=row["sku"],
            attempt=attempt,
            error=error,
            retry_at=retry_at.isoformat() if retry_at else None,
        )
        STOCK_PUSHES.labels(channel_id, "failed").inc()
        await asyncio.to_thread(
            self.views.stock_push_failed,
            channel_id,
            row["sku"],
            row["stock_version"],
            error,
            retry_at,
        )


STOCK_KINDS = frozenset({"shopify", "woocommerce", "amazon", "shopee"})
"""The kinds of channel that are told their stock."""
