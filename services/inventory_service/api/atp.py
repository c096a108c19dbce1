"""ATP: what a SKU may still sell per location and channel, and where a basket would ship."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.inventory_service.api.deps import AppDep, SkuPath, ViewsDep
from services.inventory_service.domain import NO_RULE, ChannelRules, merge_lines
from services.inventory_service.schemas.atp import (
    AtpCheck,
    AtpCheckPublic,
    AtpPublic,
    AtpRetell,
    AtpRetold,
    ChannelName,
    CheckAllocation,
    CheckShortage,
    LocationAtp,
)
from shared.runtime.api import problems, provide

router = APIRouter(prefix="/atp", tags=["atp"])

ChannelsDep = Annotated[ChannelRules, provide(ChannelRules)]


# Before the SKU's route: a SKU may hold "/", and "{sku:path}" is a GET only anyway.
@router.post("/check", response_model=AtpCheckPublic, responses=problems(422))
def check_basket(body: AtpCheck, app: AppDep, channels: ChannelsDep) -> AtpCheckPublic:
    """Which locations would ship this basket, routed like a reservation but on ATP (of the
    channel's locations, less its buffer and cap), whether it splits, or which lines are
    short. Nothing is reserved or recorded."""
    requested = merge_lines({"sku": line.sku, "quantity": line.quantity} for line in body.lines)
    rule = NO_RULE if body.channel is None else channels.of(body.channel)
    country = None if body.ship_to is None else body.ship_to.country
    postal_code = None if body.ship_to is None else body.ship_to.postal_code
    allocations, shortages = app.atp.check(requested, country, rule, postal_code)
    locations = list(dict.fromkeys(a["location_id"] for a in allocations))
    return AtpCheckPublic(
        available=not shortages,
        split=len(locations) > 1,
        locations=locations,
        allocations=[CheckAllocation.model_validate(a) for a in allocations],
        shortages=[CheckShortage.model_validate(s) for s in shortages],
    )


@router.post("/publish", response_model=AtpRetold, responses=problems(422))
def publish_atp(body: AtpRetell, app: AppDep, views: ViewsDep) -> AtpRetold:
    """Publish what channels may sell of these SKUs (or of every SKU) where it differs from
    what they were last told: after OMS_INVENTORY_CHANNELS changed, or before a full resync
    (`oms sync stock`). Stock changes publish by themselves."""
    skus = body.skus if body.skus is not None else views.skus()
    return AtpRetold(skus=len(skus), changed=app.atp.retell_all(skus))


@router.get("/{sku:path}", response_model=AtpPublic, responses=problems(404))
def get_atp(
    sku: SkuPath,
    app: AppDep,
    channels: ChannelsDep,
    channel: Annotated[ChannelName | None, Query(description="Also what it may sell")] = None,
) -> AtpPublic:
    """A SKU's ATP per open location (on hand - reserved - missing - safety stock) and in
    total; with `channel`, what that channel may sell."""
    found = app.atp.of(sku, None if channel is None else channels.of(channel))
    return AtpPublic(
        sku=found.sku,
        locations=[LocationAtp(location_id=k, atp=v) for k, v in sorted(found.locations.items())],
        total=found.total,
        channel=channel,
        channel_atp=found.channel,
    )
