"""HTTP to channel APIs: what a delivery job carries, and which failures are worth a retry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx

from shared import money


class ChannelCallError(Exception):
    """A call to a channel failed."""


class TransientChannelError(ChannelCallError):
    """Down, slow, overloaded or rate-limited: try again later."""


class PermanentChannelError(ChannelCallError):
    """The channel refused the request: retrying the same request will not help."""


@dataclass(frozen=True)
class LinePart:
    """Units of one channel line in a shipment or refund, with their share of its amount."""

    ref: dict[str, Any]  # the channel's ids of the line; empty when the order has none
    quantity: int
    amount: Decimal | None = None

    @property
    def amount_text(self) -> str:
        """The share as channels take it: a plain decimal string in minor units, never 1E+3."""
        return format(self.amount if self.amount is not None else Decimal(0), "f")


def spread_units(refs: list[dict[str, Any]], quantity: int, before: int = 0) -> list[LinePart]:
    """Units of a SKU over its channel lines: in order, each line up to its own quantity, after
    the `before` units earlier news took. A line whose quantity is unknown (refs kept before
    quantities were) takes all it is given; units beyond every line go to the last, so each
    unit is told once and the channel, not we, says whether it fits. No refs: one part."""
    if quantity <= 0:
        return []
    if not refs:
        return [LinePart({}, quantity)]
    rooms = _rooms_left([ref.get("quantity") for ref in refs], before)
    parts, left = [], quantity
    for index, (ref, room) in enumerate(zip(refs, rooms, strict=True)):
        last = index == len(refs) - 1
        take = left if room is None or last else min(left, room)
        if take > 0:
            parts.append(LinePart(dict(ref), take))
            left -= take
    return parts


def _rooms_left(quantities: list[Any], before: int) -> list[int | None]:
    """Each line's units not yet taken, earlier units filling the lines in order."""
    rooms: list[int | None] = []
    for quantity in quantities:
        if quantity is None:
            rooms.append(None)  # unknown: it takes every unit, earlier ones and these
            before = 0
            continue
        taken = min(before, int(quantity))
        rooms.append(int(quantity) - taken)
        before -= taken
    return rooms


def share_amount(parts: list[LinePart], amount: Decimal, currency: str) -> list[LinePart]:
    """The amount over the parts in proportion to their units, in the currency's minor units
    by largest remainder (shared/money.py `allocate`), so the shares add up to it exactly."""
    if not parts:
        return parts
    shares = money.allocate(amount, [Decimal(part.quantity) for part in parts], currency)
    return [replace(part, amount=share) for part, share in zip(parts, shares, strict=True)]


@dataclass(frozen=True)
class Job:
    """One delivery to perform: the news, the order as the gateway knows it, and its channel."""

    delivery_id: UUID
    action: str
    external_id: str
    # The delivery's news and order snapshot, read by each channel as its API needs them.
    details: Mapping[str, Any]
    order: Mapping[str, Any] = field(default_factory=dict)

    @property
    def refs(self) -> dict[str, Any]:
        """The channel's own ids for the order and its lines."""
        return dict(self.order.get("refs") or {})

    def line_refs(self, sku: str) -> list[dict[str, Any]]:
        """The channel's ids of every line of one of our SKUs, in the order's line order."""
        return [dict(line) for line in self.refs.get("lines") or [] if line.get("sku") == sku]

    def spread(
        self, sku: str, quantity: int, amount: Decimal | str | None = None
    ) -> list[LinePart]:
        """News of `quantity` units of a SKU (and `amount` for them) as parts per channel line:
        see `spread_units` and `share_amount`."""
        before = int((self.order.get("units_before") or {}).get(sku, 0))
        parts = spread_units(self.line_refs(sku), quantity, before)
        if amount is None:
            return parts
        currency = self.details.get("currency") or self.order.get("currency") or ""
        return share_amount(parts, Decimal(str(amount)), currency)

    def tracking_numbers(self) -> list[str]:
        """Every tracking number of a shipment: one per package, else the shipment's; none
        when they are withheld (see `tracking_withheld`)."""
        if self.tracking_withheld:
            return []
        packages = self.details.get("packages") or []
        numbers = [p["tracking_number"] for p in packages if p.get("tracking_number")]
        return numbers or [self.details["tracking_number"]]

    @property
    def tracking_withheld(self) -> str | None:
        """Why a shipment's tracking numbers must not reach the channel, or None: a rate
        table's numbers the merchant has not declared real (Shipped.tracking_shared false)."""
        if self.details.get("tracking_shared") is not False:
            return None
        return (
            f"tracking numbers withheld: {self.details.get('carrier')}'s numbers are the"
            " merchant's own, not declared real (tracking_numbers_are_real)"
        )


def lines_to_cut(
    job: Job,
    items: Mapping[str, Mapping[str, Any]],
    item_key: Callable[[str], str],
    quantity_field: str,
    channel: str,
) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(edited line, the channel's line item) per line of an edit the channel's order still has
    with more units than the edit left (the item found by `item_key` of the channel line id).

    A line with no channel line id (an earlier edit added it) or one the order lacks stops the
    edit: ops settle it at the channel; a line of none the channel dropped already is done.
    """
    cut = []
    for line in job.details["changed"]:
        if not line.get("line_id"):
            raise PermanentChannelError(
                f"line {line['line']} ({line['sku']}) has no {channel} line item: edit it there"
            )
        item = items.get(item_key(str(line["line_id"])))
        if item is None:
            if line["quantity"] == 0:
                continue  # removed already
            raise PermanentChannelError(f"the {channel} order has no line item {line['line_id']}")
        if int(item.get(quantity_field) or 0) > line["quantity"]:
            cut.append((line, item))
    return cut


async def call(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; 5xx, 429 and network trouble are transient, other 4xx permanent."""
    response = await answered(http, method, url, **kwargs)
    if response.status_code >= 400:
        raise PermanentChannelError(
            f"{method} {url}: HTTP {response.status_code} {response.text[:300]}"
        )
    return response


async def answered(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request whose 4xx answer the caller reads (5xx, 429, network trouble: transient)."""
    try:
        response = await http.request(method, url, **kwargs)
    except (httpx.TransportError, httpx.TimeoutException) as error:
        raise TransientChannelError(f"{method} {url}: {type(error).__name__}: {error}") from None
    if response.status_code >= 500 or response.status_code in (408, 425, 429):
        raise TransientChannelError(f"{method} {url}: HTTP {response.status_code}")
    return response


def json_of(response: httpx.Response) -> Any:
    """The JSON body; a channel answering garbage is treated as a passing fault."""
    try:
        return response.json()
    except ValueError:
        raise TransientChannelError(
            f"{response.request.method} {response.request.url}: body is not JSON"
        ) from None
