"""The reconciliation poll of the webhook channels: orders changed since a stored cursor.

Webhooks get lost (Shopify stops after its retries fail, Shopee pushes are best effort). Every
connected Shopify, WooCommerce and Shopee channel is read each interval for the orders changed
since its cursor, less an overlap window (times are to the second). An order never taken in is
taken in as its create webhook (Shopee: its READY_TO_SHIP push) would take it, with the same
translator and the same dedupe on the order id; an order taken in before is news, read by the
same function the update webhooks use (WebhookIntake.news, status_news).

A page's news is recorded first, then its new orders and the cursor in one transaction: a
restart neither misses nor repeats an order, and what is read twice (the overlap, an order both
pushed and polled) changes nothing. The first poll reads from the channel's connection (at most
`first_lookback_seconds` back), never the shop's history: an order created before the channel
was connected is not ours to take in. A channel that fails is polled again later and later
(up to `backoff_max`); its last error shows on GET /v1/channels/{id}.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from services.channel_gateway.application import (
    ChannelOrders,
    IntakeResult,
    Translation,
    utc_stamp,
)
from services.channel_gateway.channels.base import MalformedPayloadError
from services.channel_gateway.channels.outbound import Outbound
from services.channel_gateway.channels.registry import Channel, ChannelRegistry
from services.channel_gateway.channels.shopee import translate as shopee
from services.channel_gateway.channels.shopee.transport import LIST_WINDOW_SECONDS, ShopeeClient
from services.channel_gateway.channels.shopify.transport import ShopifyClient
from services.channel_gateway.channels.translators import retranslate
from services.channel_gateway.channels.webhooks import NEWS_READERS, WebhookIntake
from services.channel_gateway.channels.woocommerce.transport import PAGE_LIMIT, WooCommerceClient
from services.channel_gateway.domain import ChannelKind, RawPayload
from services.channel_gateway.views import ChannelOrderViews
from shared.runtime.aio import sleep_or_stop
from shared.runtime.metrics import CHANNEL_POLL_CURSOR, CHANNEL_POLL_ORDERS, CHANNEL_POLLS

log = structlog.get_logger()

POLLED_KINDS = (ChannelKind.SHOPIFY, ChannelKind.WOOCOMMERCE, ChannelKind.SHOPEE)
# What the channel says of an order done before we saw it: taken in held, never shipped again
# unless ops release it.
SHOPIFY_DONE = frozenset({"fulfilled", "partial", "restocked"})
WOO_DONE = frozenset({"completed", "refunded"})
WOO_NOT_ORDERS = frozenset({"trash", "checkout-draft"})  # not (yet) an order a buyer placed


@dataclass(frozen=True)
class ReconcilePolicy:
    """How often channels are read, how much at a time, how far back (built by bootstrap)."""

    interval: float = 300.0
    page_size: int = 100
    overlap_seconds: int = 60
    first_lookback_seconds: int = 86_400
    backoff_max: float = 3600.0
    channel_timeout: float = 15.0


@dataclass
class Found:
    """An order a page listed: the whole order (Shopify, WooCommerce), or its id and status
    (Shopee, whose list names orders only)."""

    external_id: str
    payload: RawPayload
    status: str = ""


@dataclass
class Page:
    """What one page listed, and how far the channel is read once it is stored (None: not yet
    a point a poll may start from)."""

    found: list[Found]
    cursor: datetime | None


@dataclass
class PollTally:
    """What one poll of a channel did."""

    taken_in: int = 0
    news: int = 0
    pages: int = 0


@dataclass
class Backoff:
    """Failed polls of each channel in a row, and when each may be polled again."""

    failures: dict[str, int] = field(default_factory=dict)
    due: dict[str, float] = field(default_factory=dict)


class ReconciliationPoller:
    """Polls every connected webhook channel in turn (leader only)."""

    def __init__(
        self,
        app: ChannelOrders,
        views: ChannelOrderViews,
        registry: ChannelRegistry,
        outbound: Outbound,
        webhooks: WebhookIntake,
        policy: ReconcilePolicy,
    ) -> None:
        self.app = app
        self.views = views
        self.registry = registry
        self.outbound = outbound
        self.webhooks = webhooks
        self.policy = policy
        self.backoff = Backoff()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until stopped."""
        async with httpx.AsyncClient(timeout=self.policy.channel_timeout) as http:
            while not stop.is_set():
                try:
                    await self.poll_all(http)
                except Exception:  # the database is down: poll again next time
                    log.exception("reconciliation polling failed")
                await sleep_or_stop(stop, self.policy.interval)

    async def poll_all(self, http: httpx.AsyncClient) -> int:
        """One poll of each webhook channel that is due; how many orders were taken in."""
        taken = 0
        for kind in POLLED_KINDS:
            rows, _ = await asyncio.to_thread(
                self.views.list_connections, kind=kind, limit=500, offset=0
            )
            for row in rows:
                if self.backoff.due.get(row["channel_id"], 0.0) <= time.monotonic():
                    taken += await self.poll_and_record(row["channel_id"], http)
        return taken

    async def poll_and_record(self, channel_id: str, http: httpx.AsyncClient) -> int:
        """Poll one channel; record how it went (and back off when it failed), never raise."""
        started = datetime.now(UTC)
        try:
            tally = await self.poll(channel_id, http)
        except Exception as error:  # one broken channel must not stop the others
            failures = self.backoff.failures.get(channel_id, 0) + 1
            delay = min(self.policy.interval * 2 ** (failures - 1), self.policy.backoff_max)
            self.backoff.failures[channel_id] = failures
            self.backoff.due[channel_id] = time.monotonic() + delay
            CHANNEL_POLLS.labels(channel_id, "failed").inc()
            reason = f"{type(error).__name__}: {error}"
            log.warning(
                "reconciliation poll failed", channel=channel_id, error=reason, retry_in=delay
            )
            await self._record(channel_id, started, delay, error=reason)
            return 0
        self.backoff.failures.pop(channel_id, None)
        self.backoff.due.pop(channel_id, None)
        if tally is None:
            return 0  # not connected, or its poll is switched off
        CHANNEL_POLLS.labels(channel_id, "ok").inc()
        if tally.taken_in:
            log.info(
                "reconciliation poll took in orders", channel=channel_id, orders=tally.taken_in
            )
        await self._record(channel_id, started, self.policy.interval, taken_in=tally.taken_in)
        return tally.taken_in

    async def _record(
        self,
        channel_id: str,
        at: datetime,
        delay: float,
        taken_in: int = 0,
        error: str | None = None,
    ) -> None:
        next_at = datetime.now(UTC) + timedelta(seconds=delay)
        try:
            await asyncio.to_thread(
                self.views.record_poll, channel_id, at, next_at, taken_in, error
            )
        except Exception as problem:  # the state is for ops: its loss must not stop the poll
            log.warning("poll state not recorded", channel=channel_id, error=str(problem))

    async def poll(self, channel_id: str, http: httpx.AsyncClient) -> PollTally | None:
        """Read the orders of one channel changed since its cursor; None when it is not polled."""
        channel = await asyncio.to_thread(self.registry.load, channel_id)
        if channel is None or channel.connection.kind not in POLLED_KINDS:
            return None
        if channel.connection.config.get("reconciliation_poll") is False:
            return None
        tally = PollTally()
        stored = parse_time(channel.cursor) if channel.cursor else None
        async for page in self._pages(channel, http, self._since(channel)):
            translations = await self._reconcile(channel, http, page, tally)
            moved = page.cursor is not None and (stored is None or page.cursor > stored)
            cursor = (channel_id, utc_stamp(page.cursor)) if moved and page.cursor else None
            stored = page.cursor if moved else stored
            if translations or cursor:
                results = await asyncio.to_thread(self.app.intake.take_in, translations, cursor)
                tally.taken_in += sum(
                    1 for r in results if isinstance(r, IntakeResult) and r.created
                )
                for translation, result in zip(translations, results, strict=True):
                    if isinstance(result, Exception):  # as a webhook's would, it says why
                        log.warning(
                            "reconciliation poll: order refused",
                            channel=channel_id,
                            order=translation.external_id,
                            error=str(result),
                        )
                self.registry.invalidate(channel_id)
            if cursor and page.cursor:
                CHANNEL_POLL_CURSOR.labels(channel_id).set(page.cursor.timestamp())
            tally.pages += 1
        CHANNEL_POLL_ORDERS.labels(channel_id).inc(tally.taken_in)
        return tally

    def _since(self, channel: Channel) -> datetime:
        """Where this poll starts: the cursor, or the channel's connection (at most the first
        look-back ago); less the overlap, as times are to the second."""
        overlap = timedelta(seconds=self.policy.overlap_seconds)
        if channel.cursor:
            return parse_time(channel.cursor) - overlap
        earliest = datetime.now(UTC) - timedelta(seconds=self.policy.first_lookback_seconds)
        connected = channel.connected_at or earliest
        return max(connected.astimezone(UTC), earliest) - overlap

    def _connected(self, channel: Channel) -> datetime | None:
        """Orders placed from here on are the channel's since it was connected (its times are
        to the second and its clock is not ours: the overlap, and a second, are given)."""
        if channel.connected_at is None:
            return None
        return channel.connected_at - timedelta(seconds=self.policy.overlap_seconds + 1)

    def _pages(
        self, channel: Channel, http: httpx.AsyncClient, since: datetime
    ) -> AsyncIterator[Page]:
        client = self.outbound.api_client(channel, http)
        size = self.policy.page_size
        if isinstance(client, ShopifyClient):
            return shopify_pages(client, since, size)
        if isinstance(client, WooCommerceClient):
            return woocommerce_pages(client, since, size)
        if isinstance(client, ShopeeClient):
            return shopee_pages(client, since, size)
        raise ValueError(f"channel {channel.connection.channel_id} is not a webhook channel")

    async def _reconcile(
        self, channel: Channel, http: httpx.AsyncClient, page: Page, tally: PollTally
    ) -> list[Translation]:
        """Record the news of the orders taken in before; the new ones, translated."""
        if channel.connection.kind == ChannelKind.SHOPEE:
            client = self.outbound.api_client(channel, http)
            assert isinstance(client, ShopeeClient)  # by the channel's kind
            return await self._reconcile_statuses(channel, client.order_details, page, tally)
        translations = []
        for found in page.found:
            translation = await self._reconcile_order(channel, found, tally)
            if translation is not None:
                translations.append(translation)
        return translations

    async def _reconcile_order(
        self, channel: Channel, found: Found, tally: PollTally
    ) -> Translation | None:
        """A whole order (Shopify, WooCommerce): news when it is ours or cancelled, else the
        order to take in, as its create webhook would bring it."""
        connection = channel.connection
        known = await self.webhooks.knows(connection.channel_id, found.external_id)
        if known or _cancelled(connection.kind, found.payload):
            await self._news(channel, found, tally)
            return None
        if not _placed_since(connection.kind, found.payload, self._connected(channel)):
            return None  # placed before the channel was connected (or not an order): not ours
        translation = retranslate(connection, found.external_id, found.payload)
        done = _done_at_channel(connection.kind, found.payload)
        if done is not None:
            translation.reasons.append(done)
            translation.order = None
        return translation

    async def _news(self, channel: Channel, found: Found, tally: PollTally) -> None:
        try:
            news = await self.webhooks.news(channel, found.payload, None)
        except MalformedPayloadError as error:  # ours, but not readable: its webhook is 422 too
            log.warning(
                "reconciliation poll: unreadable order",
                channel=channel.connection.channel_id,
                order=found.external_id,
                error=str(error),
            )
            return
        if news.status not in ("ignored", "unchanged"):
            tally.news += 1
            log.info(
                "reconciliation poll found news",
                channel=channel.connection.channel_id,
                order=found.external_id,
                news=news.status,
            )

    async def _reconcile_statuses(
        self,
        channel: Channel,
        details: Callable[[list[str]], Awaitable[list[dict[str, Any]]]],
        page: Page,
        tally: PollTally,
    ) -> list[Translation]:
        """Orders named with their status (Shopee): as its push is read, a placeable order not
        taken in yet is pulled (50 a call) and taken in, any other status is news."""
        channel_id = channel.connection.channel_id
        wanted = []
        for found in page.found:
            if found.status != shopee.PLACEABLE:
                news = await self.webhooks.status_news(
                    channel_id, found.external_id, found.status, None
                )
                tally.news += news.status not in ("ignored", "unchanged")
            elif not await self.webhooks.knows(channel_id, found.external_id):
                wanted.append(found.external_id)
        if not wanted:
            return []
        pulled = {str(o.get("order_sn")): o for o in await details(wanted)}
        return [
            retranslate(channel.connection, sn, {"response": {"order_list": [pulled[sn]]}})
            for sn in wanted
            if sn in pulled
        ]


async def shopify_pages(client: ShopifyClient, since: datetime, size: int) -> AsyncIterator[Page]:
    """Orders updated since a time, oldest update first, page by page (Link header)."""
    next_url = None
    while True:
        listed = await client.orders_page(_shopify_time(since), size, next_url)
        found = [Found(str(o["id"]), o) for o in listed.orders if o.get("id") is not None]
        yield Page(found, _newest(o.get("updated_at") for o in listed.orders))
        next_url = listed.next_url
        if not next_url:
            return


async def woocommerce_pages(
    client: WooCommerceClient, since: datetime, size: int
) -> AsyncIterator[Page]:
    """Orders modified after a time, oldest change first.

    Paged by the time of the last order read (less a second: times are to the second) rather
    than by page number alone: an order changed while we page moves to the end of the list, and
    with page numbers the order behind it would slide onto a page already read.
    """
    after, number, seen = since, 1, set[str]()
    while True:
        orders, pages = await client.orders_page(_woo_time(after), number, size)
        fresh = [o for o in orders if o.get("id") is not None and str(o["id"]) not in seen]
        seen.update(str(o["id"]) for o in fresh)
        newest = _newest(o.get("date_modified_gmt") for o in orders)
        yield Page([Found(str(o["id"]), o) for o in fresh], newest)
        if len(orders) < min(size, PAGE_LIMIT) or number >= pages or newest is None:
            return
        if newest - timedelta(seconds=1) > after:
            after, number = newest - timedelta(seconds=1), 1
        else:  # a whole page changed within one second: on to the next page of the same list
            number += 1


async def shopee_pages(client: ShopeeClient, since: datetime, size: int) -> AsyncIterator[Page]:
    """Orders updated since a time with their status, in windows of at most 15 days up to now;
    a window is read when its last page is (its end is then the cursor)."""
    start, now = int(since.timestamp()), int(time.time())
    while start < now:
        end = min(start + LIST_WINDOW_SECONDS, now)
        cursor = ""
        while True:
            listed = await client.order_list(start, end, size, cursor)
            orders = [o for o in listed.get("order_list") or [] if isinstance(o, dict)]
            found = [
                Found(str(o["order_sn"]), o, str(o.get("order_status") or ""))
                for o in orders
                if o.get("order_sn")
            ]
            cursor = str(listed.get("next_cursor") or "")
            last = not listed.get("more") or not cursor
            yield Page(found, datetime.fromtimestamp(end, UTC) if last else None)
            if last:
                break
        start = end


def _cancelled(kind: str, payload: RawPayload) -> bool:
    """Whether the channel cancelled the order, as its update webhook is read."""
    try:
        return NEWS_READERS[kind].cancellation(payload) is not None
    except MalformedPayloadError:
        return False  # not readable: taken in held with the reason, never dropped


def _placed_since(kind: str, payload: RawPayload, connected_at: datetime | None) -> bool:
    """Whether the order was placed once the channel was connected (and is an order at all)."""
    if kind == ChannelKind.WOOCOMMERCE and str(payload.get("status")) in WOO_NOT_ORDERS:
        return False
    created = payload.get("created_at" if kind == ChannelKind.SHOPIFY else "date_created_gmt")
    try:
        placed = parse_time(str(created))
    except ValueError:
        return True  # no readable time: taken in (held if it is not whole), never dropped
    return connected_at is None or placed >= connected_at


def _done_at_channel(kind: str, payload: RawPayload) -> str | None:
    """Why an order found only now must not ship without ops: the channel already did it."""
    if kind == ChannelKind.SHOPIFY and payload.get("fulfillment_status") in SHOPIFY_DONE:
        return (
            f"fulfillment status at Shopify is {payload['fulfillment_status']} (its webhook was"
            " lost): release it only to ship it again"
        )
    if kind == ChannelKind.WOOCOMMERCE and payload.get("status") in WOO_DONE:
        return (
            f"status at the store is {payload['status']} (its webhook was lost): release it only"
            " to ship it again"
        )
    return None


def _newest(stamps: Any) -> datetime | None:
    times = []
    for stamp in stamps:
        try:
            times.append(parse_time(str(stamp)))
        except ValueError:
            continue
    return max(times, default=None)


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (Z, an offset, or none: GMT); ValueError when it is not one."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _shopify_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _woo_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")  # GMT: dates_are_gmt=true
