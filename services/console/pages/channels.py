"""Channels: the connected ones, connecting a new one (its credentials go to the gateway and
are never shown again), one channel's SKU mapping to edit, and the news it was sent."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.pages.calls import (
    CHANNEL_ID,
    PAGE_SIZE,
    PROBLEM_CHARS,
    channel_id,
    next_offset,
    offset_of,
    or_none,
    read_or_problem,
)
from services.console.pages.deps import CallerDep, FormDep, back, render
from services.console.upstream import UpstreamProblem

router = APIRouter()
DELIVERY_STATUSES = ("failed", "skipped", "pending", "delivered")
BLANK_ROWS = 3  # empty rows under a mapping to add SKUs in; saving brings three more
MAX_BLANK_ROWS = 200
MAPPING_ROW = re.compile(r"^channel_sku_(\d{1,4})$")


@dataclass(frozen=True)
class Setting:
    """One field of a channel kind's connection form, as POST /v1/channels names it."""

    name: str
    label: str
    secret: bool = False
    required: bool = True
    kind: str = "text"  # the input's type (secrets are password inputs whatever this says)
    hint: str = ""


@dataclass(frozen=True)
class ChannelKind:
    """A kind of channel and what connecting one takes."""

    kind: str
    title: str
    settings: tuple[Setting, ...]


OWN = ChannelKind("own", "Own channel (web shop, phone, mail)", ())
KINDS = (
    ChannelKind(
        "shopify",
        "Shopify",
        (
            Setting("shop_domain", "Shop domain", hint="example.myshopify.com"),
            Setting(
                "base_url",
                "Admin URL",
                required=False,
                kind="url",
                hint="default https://<shop domain>",
            ),
            Setting("access_token", "Admin API access token", secret=True),
            Setting("webhook_secret", "App secret (webhook signatures)", secret=True),
        ),
    ),
    ChannelKind(
        "woocommerce",
        "WooCommerce",
        (
            Setting("base_url", "Store URL", kind="url", hint="https://shop.example.com"),
            Setting("consumer_key", "REST API consumer key", secret=True),
            Setting("consumer_secret", "REST API consumer secret", secret=True),
            Setting("webhook_secret", "Webhook secret", secret=True),
        ),
    ),
    ChannelKind(
        "amazon",
        "Amazon",
        (
            Setting("marketplace_id", "Marketplace id", hint="A1PA6795UKMFR9"),
            Setting("seller_id", "Seller id"),
            Setting("lwa_client_id", "Login with Amazon client id"),
            Setting("lwa_client_secret", "Login with Amazon client secret", secret=True),
            Setting("refresh_token", "Refresh token", secret=True),
        ),
    ),
    ChannelKind(
        "shopee",
        "Shopee",
        (
            Setting("partner_id", "Partner id", kind="number"),
            Setting("shop_id", "Shop id", kind="number"),
            Setting("push_url", "Push URL, as registered at Shopee", required=False, kind="url"),
            Setting("partner_key", "Partner key", secret=True),
            Setting("access_token", "Access token", secret=True, required=False),
            Setting("refresh_token", "Refresh token", secret=True, required=False),
        ),
    ),
    ChannelKind(
        "line",
        "LINE Official Account (customer messages)",
        (
            Setting("channel_access_token", "Channel access token (long-lived)", secret=True),
            Setting("language", "Language of the messages", required=False, hint="th or en"),
            Setting(
                "tracking_url",
                "Tracking link",
                required=False,
                hint="https://track.example/?n=[tracking_code]",
            ),
        ),
    ),
    *(
        ChannelKind(
            kind,
            title,
            (
                Setting("page_id", "Page id"),
                Setting("page_access_token", "Page access token", secret=True),
                Setting("language", "Language of the messages", required=False, hint="th or en"),
                Setting(
                    "tracking_url",
                    "Tracking link",
                    required=False,
                    hint="https://track.example/?n=[tracking_code]",
                ),
            ),
        )
        for kind, title in (
            ("facebook", "Facebook Page (Messenger messages)"),
            ("instagram", "Instagram account (messages)"),
        )
    ),
    OWN,
)
OWN_KINDS = ("web", "phone", "mail")


@router.get("/channels", response_class=HTMLResponse)
async def channels(request: Request, api: CallerDep) -> HTMLResponse:
    """The connected channels, and (for admins) connecting another."""
    offset = offset_of(request)
    page = await read_or_problem(
        api, "channel_gateway", "/channels", limit=PAGE_SIZE, offset=offset
    )
    return render(
        request,
        "channels.html",
        page=page,
        kinds=KINDS,
        own_kinds=OWN_KINDS,
        next=next_offset(page, offset),
    )


@router.post("/channels")
async def connect(api: CallerDep, fields: FormDep) -> Response:
    """Connect a new channel; one that is connected already is left as it is."""
    kind = next((k for k in KINDS if k.kind == fields.get("form")), None)
    given_id = fields.get("channel_id", "").strip()
    if kind is None:
        return back("/channels", problem="Choose the kind of channel.")
    if not CHANNEL_ID.fullmatch(given_id):
        return back("/channels", problem="A channel id is 1 to 64 of a-z, 0-9, - and _.")
    try:
        await api.get("channel_gateway", f"/channels/{given_id}")
        # Connecting again would replace its settings, secrets and SKU mapping all at once.
        return back("/channels", problem=f"{given_id} is connected already.")
    except UpstreamProblem as unknown:
        if unknown.status != 404:
            return back("/channels", problem=f"{unknown.title}: {unknown.detail}")
    body: dict[str, Any] = {
        "channel_id": given_id,
        "kind": fields.get("kind", "") if kind is OWN else kind.kind,
    }
    for setting in kind.settings:
        value = fields.get(setting.name, "").strip()
        if value:
            body[setting.name] = value
    try:
        await api.post("channel_gateway", "/channels", body)
    except UpstreamProblem as refused:
        return back("/channels", problem=f"{refused.title}: {refused.detail}"[:PROBLEM_CHARS])
    return back(f"/channels/{given_id}", note=f"{given_id} is connected.")


@router.get("/channels/{channel}", response_class=HTMLResponse)
async def one_channel(request: Request, channel: str, api: CallerDep) -> HTMLResponse:
    """One channel: its settings (secrets by name only), SKU mapping and deliveries."""
    status = request.query_params.get("status", "").strip()
    offset = offset_of(request)
    blank = request.query_params.get("blank", "")
    found, deliveries, stock = await asyncio.gather(
        api.get("channel_gateway", f"/channels/{channel_id(channel)}"),
        read_or_problem(
            api,
            "channel_gateway",
            "/deliveries",
            channel=channel,
            status=status,
            limit=PAGE_SIZE,
            offset=offset,
        ),
        or_none(api, "channel_gateway", f"/stock-sync/{channel}", limit=1),
    )
    return render(
        request,
        "channel.html",
        channel=found,
        mapping=sorted(found["sku_mapping"].items()),
        blank_rows=min(int(blank), MAX_BLANK_ROWS) if blank.isdigit() else BLANK_ROWS,
        deliveries=deliveries,
        stock=stock,
        status=status,
        statuses=DELIVERY_STATUSES,
        next=next_offset(deliveries, offset),
    )


@router.post("/channels/{channel}/sku-mapping")
async def map_skus(channel: str, api: CallerDep, fields: FormDep) -> Response:
    """Replace the channel's SKU mapping with the form's rows (held orders can then go on)."""
    here = f"/channels/{channel_id(channel)}"
    try:
        mapping = _mapping(fields)
    except ValueError as error:
        return back(here, problem=str(error))
    try:
        await api.put(
            "channel_gateway", f"/channels/{channel}/sku-mapping", {"sku_mapping": mapping}
        )
    except UpstreamProblem as refused:
        return back(here, problem=f"{refused.title}: {refused.detail}"[:PROBLEM_CHARS])
    skus = f"{len(mapping)} SKU{'' if len(mapping) == 1 else 's'}"
    return back(here, note=f"The mapping of {channel} is saved: {skus}.")


def _mapping(fields: dict[str, str]) -> dict[str, str]:
    """Channel SKU -> our SKU from the rows of the form; a row marked remove, or left empty,
    is dropped. ValueError for a row with one SKU of two, or a channel SKU twice."""
    mapping: dict[str, str] = {}
    rows = sorted(int(m.group(1)) for name in fields if (m := MAPPING_ROW.match(name)))
    for row in rows:
        theirs = fields.get(f"channel_sku_{row}", "").strip()
        ours = fields.get(f"oms_sku_{row}", "").strip()
        if fields.get(f"remove_{row}") or not (theirs or ours):
            continue
        if not (theirs and ours):
            raise ValueError(f"{theirs or ours}: give both the channel's SKU and ours.")
        if theirs in mapping:
            raise ValueError(f"{theirs} is mapped twice: keep one row of it.")
        mapping[theirs] = ours
    return mapping
