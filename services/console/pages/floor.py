"""What the warehouse and stock pages share: the locations, numbers typed into forms, one-use
request keys, a printable document passed through, and an action's answer."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import Response

from services.console.upstream import Caller, UpstreamProblem

INVENTORY = "inventory_service"
FULFILLMENT = "fulfillment_service"
# What the services accept as a SKU; anything else is not looked up (it cannot be one).
SKU = re.compile(r"^[A-Za-z0-9._\-/]{1,64}$")
_FILENAME = re.compile(r'filename="([A-Za-z0-9._\-]{1,200})"')


class FormError(ValueError):
    """A form field that cannot be sent as it is: its message says which and why."""


async def locations(api: Caller) -> list[dict[str, Any]]:
    """Every location, preferred first (as inventory lists them)."""
    try:
        return list((await api.get(INVENTORY, "/locations"))["data"])
    except UpstreamProblem as problem:
        if problem.status in (401, 403):
            raise
        return []


def whole_number(fields: dict[str, str], name: str, label: str, *, signed: bool = False) -> int:
    """A form's whole number (positive unless `signed`); FormError names the field otherwise."""
    text = fields.get(name, "").strip().replace(" ", "")
    try:
        number = int(text)
    except ValueError:
        raise FormError(f"{label} must be a whole number.") from None
    if not signed and number <= 0:
        raise FormError(f"{label} must be more than 0.")
    return number


def one_use_key() -> str:
    """A key for one rendering of a form: sent as Idempotency-Key, a double submit counts once."""
    return uuid.uuid4().hex


def key_header(fields: dict[str, str]) -> dict[str, str]:
    """The Idempotency-Key header of a form's one-use key (none if the form had none)."""
    key = fields.get("idempotency_key", "").strip()
    return {"Idempotency-Key": key[:200]} if key else {}


def in_path(value: str) -> str:
    """A SKU or id as one part of an API path ('/' kept: SKUs may hold it, the API routes it)."""
    return quote(value, safe="/")


async def document(api: Caller, service: str, path: str, fallback_name: str) -> Response:
    """A PDF or ZPL fetched with the user's token, shown inline under the service's file name."""
    answer = await api.document(service, path)
    found = _FILENAME.search(answer.headers.get("content-disposition", ""))
    name = found.group(1) if found else fallback_name
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "application/octet-stream"),
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


async def attempt(
    api: Caller, service: str, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[Any, str | None]:
    """POST an action: (its answer, None), or (None, the API's problem in words).

    A refusal for the role (403) is not turned into words on the page: the console answers
    it as the problem page with the API's 403, as it does a signed-out session (401).
    """
    try:
        return await api.post(service, path, body, headers=headers or {}), None
    except UpstreamProblem as problem:
        if problem.status in (401, 403):
            raise
        return None, f"{problem.title}: {problem.detail}"
