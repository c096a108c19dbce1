"""The exception queues: what waits for ops, with counts, and each list with its actions
(release a held order, decide a stock discrepancy, retry a delivery or a stock push, replay
or discard a parked message)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.pages.calls import (
    PAGE_SIZE,
    SERVICES,
    Shown,
    Tally,
    act,
    channel_id,
    local,
    next_offset,
    offset_of,
    read_or_problem,
    tally,
)
from services.console.pages.deps import CallerDep, FormDep, SessionDep, back, render
from services.console.upstream import Caller, UpstreamProblem

router = APIRouter()
DELIVERY_STATUSES = ("failed", "skipped", "pending", "delivered")
DISCREPANCY_STATUSES = ("proposed", "confirmed", "rejected")
PARKED_STATUSES = ("parked", "replayed", "discarded")
CHANNELS_AT_MOST = 500  # the gateway's largest page; more channels than that is not a shop
OWN_CHANNELS = ("web", "phone", "mail")  # the merchant's own: nobody to push stock to


@dataclass(frozen=True)
class Card:
    """One queue on the queues page: how many wait, what they are, where the list is."""

    title: str
    href: str
    explain: str
    tally: Tally


@router.get("/queues", response_class=HTMLResponse)
async def queues(request: Request, api: CallerDep) -> HTMLResponse:
    """Every exception queue with how many wait in it; a service that is down shows unknown."""
    cards = await asyncio.gather(
        _card(
            "Held channel orders",
            "/queues/held",
            "The gateway could not place them (an unmapped SKU, no address): fix and release.",
            tally(api, "channel_gateway", "/channel-orders", status="held"),
        ),
        _card(
            "Awaiting payment",
            "/orders?status=awaiting_payment",
            "Reserved, not sent to the warehouse until the payment is recorded.",
            tally(api, "order_service", "/orders", status="awaiting_payment"),
        ),
        _card(
            "Backordered",
            "/orders?status=backordered",
            "Waiting for stock to arrive.",
            tally(api, "order_service", "/orders", status="backordered"),
        ),
        _card(
            "Short picks",
            "/queues/short-picks",
            "Shipments the picker found nothing for: cancel or settle their orders.",
            tally(api, "fulfillment_service", "/shipments", status="short"),
        ),
        _card(
            "Stock discrepancies",
            "/queues/discrepancies",
            "Units short picks did not find: count the bin, then confirm or reject.",
            tally(api, "inventory_service", "/stock/discrepancies", status="proposed"),
        ),
        _card(
            "Failed deliveries",
            "/queues/deliveries",
            "News the channels did not take (shipments, cancels, refunds): retry.",
            tally(api, "channel_gateway", "/deliveries", status="failed"),
        ),
        _card(
            "Failed stock syncs",
            "/queues/stock-sync",
            "Stock figures a channel did not take: retry a SKU or resync the channel.",
            _failed_stock_syncs(api),
        ),
        _card(
            "Parked messages",
            "/queues/dlq",
            "Messages a service could not apply: fix the cause, then replay or discard.",
            _parked(api),
        ),
    )
    return render(request, "queues.html", cards=cards)


async def _card(title: str, href: str, explain: str, counting: Awaitable[Tally]) -> Card:
    return Card(title, href, explain, await counting)


async def _failed_stock_syncs(api: Caller) -> Tally:
    """Failed stock pushes over every channel; unknown if any channel's could not be read."""
    try:
        channels = await api.get("channel_gateway", "/channels", limit=CHANNELS_AT_MOST)
    except UpstreamProblem as problem:
        return Tally(None, why=problem.detail)
    ids = _stock_synced(channels["data"])
    tallies = await asyncio.gather(
        *(tally(api, "channel_gateway", f"/stock-sync/{i}", status="failed") for i in ids)
    )
    return _sum(dict(zip(ids, tallies, strict=True)))


def _stock_synced(channels: list[dict[str, Any]]) -> list[str]:
    """The ids of the channels the gateway pushes stock to."""
    return [c["channel_id"] for c in channels if c["kind"] not in OWN_CHANNELS]


async def _parked(api: Caller) -> Tally:
    """Parked messages of the five services; unknown while any of them does not answer."""
    tallies = await asyncio.gather(
        *(tally(api, service, "/dlq", status="parked") for service in SERVICES)
    )
    return _sum(dict(zip(SERVICES, tallies, strict=True)))


def _sum(tallies: dict[str, Tally]) -> Tally:
    """The whole of several counts; unknown, naming who did not answer, if one is unknown."""
    unknown = [name for name, t in tallies.items() if not t.known]
    if unknown:
        return Tally(None, why=f"no answer from {', '.join(unknown)}")
    return Tally(sum(t.count or 0 for t in tallies.values()))


# Held channel orders


@router.get("/queues/held", response_class=HTMLResponse)
async def held(request: Request, api: CallerDep) -> HTMLResponse:
    """Channel orders the gateway holds, with their reasons."""
    offset = offset_of(request)
    page = await read_or_problem(
        api, "channel_gateway", "/channel-orders", status="held", limit=PAGE_SIZE, offset=offset
    )
    return render(request, "queue_held.html", page=page, next=next_offset(page, offset))


@router.post("/queues/held/{order_id}/release")
async def release(order_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """Translate the held order again and place it if it is whole now."""
    return await act(
        api,
        "channel_gateway",
        f"/channel-orders/{order_id}/release",
        {},
        back_to="/queues/held",
        done="Released: the order goes on to the OMS.",
        shown=Shown("channel_gateway", f"/channel-orders/{order_id}", _not("held")),
    )


# Short picks and stock discrepancies


@router.get("/queues/short-picks", response_class=HTMLResponse)
async def short_picks(request: Request, api: CallerDep) -> HTMLResponse:
    """Shipments a short pick left with nothing to ship, oldest first."""
    offset = offset_of(request)
    page = await read_or_problem(
        api, "fulfillment_service", "/shipments", status="short", limit=PAGE_SIZE, offset=offset
    )
    return render(request, "queue_short_picks.html", page=page, next=next_offset(page, offset))


@router.get("/queues/discrepancies", response_class=HTMLResponse)
async def discrepancies(request: Request, api: CallerDep) -> HTMLResponse:
    """Stock adjustments short picks proposed, oldest first; proposed ones wait for ops."""
    status = request.query_params.get("status", "proposed")
    offset = offset_of(request)
    page = await read_or_problem(
        api,
        "inventory_service",
        "/stock/discrepancies",
        status=status,
        limit=PAGE_SIZE,
        offset=offset,
    )
    return render(
        request,
        "queue_discrepancies.html",
        page=page,
        status=status,
        statuses=DISCREPANCY_STATUSES,
        next=next_offset(page, offset),
    )


@router.post("/queues/discrepancies/{discrepancy_id}/{decision}")
async def decide(discrepancy_id: UUID, decision: str, api: CallerDep, fields: FormDep) -> Response:
    """Confirm (the units are gone) or reject (they were found) a discrepancy."""
    if decision not in ("confirm", "reject"):
        return back("/queues/discrepancies", problem=f"No decision {decision!r}.")
    note = fields.get("note", "").strip()
    done = (
        "Confirmed: on hand drops by the missing units."
        if decision == "confirm"
        else ("Rejected: the units can be sold again.")
    )
    return await act(
        api,
        "inventory_service",
        f"/stock/discrepancies/{discrepancy_id}/{decision}",
        {"note": note} if note else {},
        back_to="/queues/discrepancies",
        done=done,
    )


# Deliveries and stock sync


@router.get("/queues/deliveries", response_class=HTMLResponse)
async def deliveries(request: Request, api: CallerDep) -> HTMLResponse:
    """Deliveries to the channels by status (failed ones first of all) and channel."""
    status = request.query_params.get("status", "failed")
    channel = request.query_params.get("channel", "").strip()
    offset = offset_of(request)
    page = await read_or_problem(
        api,
        "channel_gateway",
        "/deliveries",
        status=status,
        channel=channel,
        limit=PAGE_SIZE,
        offset=offset,
    )
    return render(
        request,
        "queue_deliveries.html",
        page=page,
        status=status,
        channel=channel,
        statuses=DELIVERY_STATUSES,
        next=next_offset(page, offset),
    )


@router.post("/queues/deliveries/{delivery_id}/retry")
async def retry_delivery(delivery_id: UUID, api: CallerDep, fields: FormDep) -> Response:
    """A new round of attempts for a failed or skipped delivery, due now."""
    return await act(
        api,
        "channel_gateway",
        f"/deliveries/{delivery_id}/retry",
        {},
        back_to=local(fields.get("back_to", ""), "/queues/deliveries"),
        done="The delivery is tried again now.",
        shown=Shown("channel_gateway", f"/deliveries/{delivery_id}", _not("failed", "skipped")),
    )


@router.get("/queues/stock-sync", response_class=HTMLResponse)
async def stock_sync(request: Request, api: CallerDep) -> HTMLResponse:
    """Every channel's failed stock pushes, with the counts per status."""
    channels = await read_or_problem(api, "channel_gateway", "/channels", limit=CHANNELS_AT_MOST)
    ids = _stock_synced(channels["data"])
    pages = await asyncio.gather(
        *(
            read_or_problem(
                api, "channel_gateway", f"/stock-sync/{i}", status="failed", limit=PAGE_SIZE
            )
            for i in ids
        )
    )
    return render(
        request,
        "queue_stock_sync.html",
        problem_channels=channels.get("problem"),
        syncs=dict(zip(ids, pages, strict=True)),
    )


@router.post("/queues/stock-sync/{channel}/retry")
async def retry_stock(channel: str, api: CallerDep, fields: FormDep) -> Response:
    """Push one SKU's latest figure to the channel again now."""
    sku = fields.get("sku", "").strip()
    return await act(
        api,
        "channel_gateway",
        f"/stock-sync/{channel_id(channel)}/retry",
        {"sku": sku},
        back_to="/queues/stock-sync",
        done=f"{sku} is pushed to {channel} again.",
    )


@router.post("/queues/stock-sync/{channel}/resync")
async def resync_stock(channel: str, api: CallerDep, fields: FormDep) -> Response:
    """Push every SKU's latest figure to the channel again, at the channel's rate."""
    return await act(
        api,
        "channel_gateway",
        f"/stock-sync/{channel_id(channel)}/resync",
        {},
        back_to="/queues/stock-sync",
        done=f"Every SKU is pushed to {channel} again.",
    )


# Parked messages (dead letters)


@router.get("/queues/dlq", response_class=HTMLResponse)
async def parked(request: Request, api: CallerDep) -> HTMLResponse:
    """Each service's parked messages, oldest first; a service that does not answer says so."""
    status = request.query_params.get("status", "parked")
    pages = await asyncio.gather(
        *(
            read_or_problem(api, service, "/dlq", status=status, limit=PAGE_SIZE)
            for service in SERVICES
        )
    )
    return render(
        request,
        "queue_dlq.html",
        status=status,
        statuses=PARKED_STATUSES,
        pages=dict(zip(SERVICES, pages, strict=True)),
    )


@router.get("/queues/dlq/{service}/{message_id}", response_class=HTMLResponse)
async def parked_message(
    request: Request, service: str, message_id: int, api: CallerDep
) -> HTMLResponse:
    """One parked message whole: why, where from, headers and payload."""
    message = await api.get(_service(service), f"/dlq/{message_id}")
    return render(
        request,
        "queue_dlq_message.html",
        service=service,
        message=message,
        value=_pretty(message["value"], message["value_encoding"]),
    )


@router.post("/queues/dlq/{service}/{message_id}/replay")
async def replay(
    service: str, message_id: int, api: CallerDep, session: SessionDep, fields: FormDep
) -> Response:
    """Apply the parked message with the service's current code, exactly once."""
    return await act(
        api,
        _service(service),
        f"/dlq/{message_id}/replay",
        {"by": session.name},
        back_to=f"/queues/dlq/{service}/{message_id}",
        done="Replayed: its effects are applied.",
    )


@router.post("/queues/dlq/{service}/{message_id}/discard")
async def discard(
    service: str, message_id: int, api: CallerDep, session: SessionDep, fields: FormDep
) -> Response:
    """Record that the parked message will not be applied, by whom and why."""
    reason = fields.get("reason", "").strip()
    here = f"/queues/dlq/{service}/{message_id}"
    if not reason:
        return back(here, problem="Say why it is discarded: the reason is kept on record.")
    return await act(
        api,
        _service(service),
        f"/dlq/{message_id}/discard",
        {"by": session.name, "reason": reason},
        back_to=here,
        done="Discarded.",
    )


def _not(*statuses: str) -> Callable[[Any], bool]:
    """True for a row whose status is none of these any more."""
    return lambda row: row.get("status") not in statuses


def _service(name: str) -> str:
    """One of the five services by name; anything else is a page that does not exist."""
    if name not in SERVICES:
        raise UpstreamProblem(404, "Not found", f"no service {name!r}")
    return name


def _pretty(value: str, encoding: str) -> str:
    """A payload to read: JSON indented, other text as it is, binary as its base64."""
    if encoding != "utf-8":
        return f"({encoding}) {value}"
    try:
        return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
    except ValueError:
        return value
