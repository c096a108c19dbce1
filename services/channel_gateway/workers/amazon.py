"""The Amazon poller: searchOrders updated since the stored cursor (lastUpdatedAfter), getOrder
for each new order, and Amazon's cancellations of orders taken in before.

The cursor moves in the same transaction as the orders it covers, so a restart neither misses
nor repeats an order; each poll re-reads an overlap window before the cursor (orders Amazon
shows late), and orders already taken in are skipped without fetching them. An order Amazon
cancelled after we took it in goes the way of every channel cancel (ChannelOrderCancelled, told
once); one never taken in is not an order to take in.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from services.channel_gateway.application import ChannelOrders, Translation, utc_stamp
from services.channel_gateway.channels.amazon.translate import parse_search, translate
from services.channel_gateway.channels.amazon.transport import AmazonClient
from services.channel_gateway.channels.base import MalformedPayloadError
from services.channel_gateway.channels.outbound import Outbound
from services.channel_gateway.channels.registry import Channel, ChannelRegistry
from services.channel_gateway.domain import ChannelKind
from services.channel_gateway.views import ChannelOrderViews
from services.channel_gateway.workers.reconcile import parse_time
from shared.runtime.aio import sleep_or_stop

log = structlog.get_logger()


@dataclass(frozen=True)
class PollPolicy:
    """How often the poller reads and how far back it looks (built by bootstrap)."""

    interval: float = 120.0
    overlap_seconds: int = 300
    channel_timeout: float = 15.0


class AmazonPoller:
    """Polls every connected Amazon seller account in turn (leader only)."""

    def __init__(
        self,
        app: ChannelOrders,
        views: ChannelOrderViews,
        registry: ChannelRegistry,
        outbound: Outbound,
        policy: PollPolicy,
    ) -> None:
        self.app = app
        self.views = views
        self.registry = registry
        self.outbound = outbound
        self.policy = policy

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until stopped."""
        async with httpx.AsyncClient(timeout=self.policy.channel_timeout) as http:
            while not stop.is_set():
                try:
                    await self.poll_all(http)
                except Exception:  # the database is down: poll again next time
                    log.exception("amazon polling failed")
                await sleep_or_stop(stop, self.policy.interval)

    async def poll_all(self, http: httpx.AsyncClient) -> int:
        """One poll of each Amazon channel; returns how many new orders were taken in."""
        rows, _ = await asyncio.to_thread(
            self.views.list_connections, kind=ChannelKind.AMAZON, limit=500, offset=0
        )
        taken = 0
        for row in rows:
            try:
                taken += await self.poll(row["channel_id"], http)
            except Exception as error:  # one broken account must not stop the others
                log.warning("amazon poll failed", channel=row["channel_id"], error=str(error))
        return taken

    async def poll(self, channel_id: str, http: httpx.AsyncClient) -> int:
        """Read new orders of one channel; returns how many were taken in."""
        channel = await asyncio.to_thread(self.registry.load, channel_id)
        if channel is None or channel.connection.kind != ChannelKind.AMAZON:
            return 0
        client = self.outbound.amazon_client(channel, http)
        cursor = _cursor(channel)
        after = cursor - timedelta(seconds=self.policy.overlap_seconds)
        summaries = await self._search(client, after)
        translations: list[Translation] = []
        newest = cursor
        try:
            for order_id, updated, cancelled in summaries:
                known = await asyncio.to_thread(self.app.intake.knows_order, channel_id, order_id)
                if cancelled and known:
                    await asyncio.to_thread(
                        self.app.intake.take_in_cancellation,
                        channel_id,
                        order_id,
                        "cancelled at Amazon",
                        f"CANCELLED:{utc_stamp(updated)}",
                    )
                elif not cancelled and not known:
                    translations.append(await self._fetch(client, channel, order_id))
                newest = max(newest, updated)
        finally:
            # What was read so far is kept even when a later getOrder failed.
            if translations or newest > cursor:
                cursor_stamp = (channel_id, utc_stamp(newest))
                await asyncio.to_thread(self.app.intake.take_in, translations, cursor_stamp)
                self.registry.invalidate(channel_id)
        return len(translations)

    async def _search(
        self, client: AmazonClient, after: datetime
    ) -> list[tuple[str, datetime, bool]]:
        """(order id, last updated, cancelled) of every page, oldest change first."""
        found: dict[str, tuple[datetime, bool]] = {}
        token = None
        while True:
            page = parse_search(await client.search_orders(_amazon_time(after), token))
            for order in page.orders:
                found[order.orderId] = (parse_time(order.lastUpdatedTime), order.cancelled)
            token = page.pagination.nextToken if page.pagination else None
            if not token:
                break
        rows = [(order_id, updated, cancelled) for order_id, (updated, cancelled) in found.items()]
        return sorted(rows, key=lambda row: (row[1], row[0]))

    async def _fetch(self, client: AmazonClient, channel: Channel, order_id: str) -> Translation:
        payload = await client.get_order(order_id)
        try:
            return translate(channel.connection, payload)
        except MalformedPayloadError as error:
            # Amazon's answer does not parse: keep it held rather than lose the order.
            return Translation(
                channel.connection.channel_id, order_id, payload, reasons=[str(error)]
            )


def _cursor(channel: Channel) -> datetime:
    if channel.cursor:
        return parse_time(channel.cursor)
    start = channel.connection.config.get("start_after")
    return parse_time(start) if start else datetime.now(UTC) - timedelta(days=1)


def _amazon_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
