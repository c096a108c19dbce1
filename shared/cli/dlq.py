"""`oms dlq list | show | replay | discard`: the parked messages of every service, over HTTP."""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.cli.client import OmsClient, urls_from_base

T = TypeVar("T")
console = Console()
dlq_app = typer.Typer(
    help="Messages a service's consumer parked: list, show, replay (exactly once), discard.",
    no_args_is_help=True,
)

BasePort = Annotated[
    int, typer.Option("--base-port", help="Gateway port of the running system; others follow.")
]
Urls = Annotated[
    list[str] | None,
    typer.Option(
        "--url",
        help="Ask only these services, as name=URL (repeatable); "
        "default: all five of `oms up` at --base-port.",
    ),
]
Service = Annotated[str, typer.Argument(help="The service that parked it, e.g. order_service.")]
MessageId = Annotated[int, typer.Argument(min=1, help="The parked message's id.")]
By = Annotated[
    str | None, typer.Option("--by", help="Who does it, for the record (default: your login).")
]


class StatusFilter(StrEnum):
    """Which parked messages to list."""

    PARKED = "parked"
    REPLAYED = "replayed"
    DISCARDED = "discarded"
    ALL = "all"


def register(app: typer.Typer) -> None:
    """Add `oms dlq ...` to the `oms` app."""
    app.add_typer(dlq_app, name="dlq")


@dlq_app.command("list")
def list_parked(
    status: Annotated[
        StatusFilter, typer.Option(help="Which messages: parked (waiting), or all.")
    ] = StatusFilter.PARKED,
    topic: Annotated[str | None, typer.Option(help="Only those read from this topic.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many per service.")] = 50,
    base_port: BasePort = 8000,
    url: Urls = None,
) -> None:
    """List the parked messages of every service, oldest first."""
    urls = _urls(base_port, url)
    params: dict[str, Any] = {"limit": limit}
    if status is not StatusFilter.ALL:
        params["status"] = status.value
    if topic:
        params["topic"] = topic
    pages, unreachable = _run(urls, lambda client: _pages(client, list(urls), params))
    table = Table(title=f"Parked messages ({status.value})")
    for column in ("service", "id", "status", "topic", "partition", "position", "event", "reason"):
        table.add_column(column, overflow="fold")
    total = 0
    for service, page in pages.items():
        total += page["count"]
        for row in page["data"]:
            table.add_row(
                service,
                str(row["id"]),
                row["status"],
                row["topic"],
                str(row["partition"]),
                "" if row["position"] is None else str(row["position"]),
                row["event_type"] or "",
                _shorten(row["reason"]),
            )
    console.print(table)
    console.print(f"{total} in all. `oms dlq show SERVICE ID` shows one whole.")
    for service, error in unreachable.items():
        console.print(f"[red]{service} did not answer:[/] {error}")
    if unreachable:
        raise typer.Exit(1)


@dlq_app.command("show")
def show(
    service: Service, message_id: MessageId, base_port: BasePort = 8000, url: Urls = None
) -> None:
    """Show one parked message whole: where it came from, why, headers and payload."""
    urls = _urls(base_port, url, service)
    message = _one(urls, lambda client: client.parked_message(service, message_id))
    _print_message(service, message)


@dlq_app.command("replay")
def replay(
    service: Service,
    message_id: MessageId,
    by: By = None,
    base_port: BasePort = 8000,
    url: Urls = None,
) -> None:
    """Apply a parked message with the service's current handlers, exactly once."""
    urls = _urls(base_port, url, service)
    who = by or _login()
    message = _one(urls, lambda client: client.replay(service, message_id, who))
    console.print(f"[green]{service} #{message_id} {message['status']}[/] by {who}.")


@dlq_app.command("discard")
def discard(
    service: Service,
    message_id: MessageId,
    reason: Annotated[str, typer.Option(help="Why it will not be applied (kept on record).")],
    by: By = None,
    base_port: BasePort = 8000,
    url: Urls = None,
) -> None:
    """Record that a parked message will not be applied, by whom and why."""
    urls = _urls(base_port, url, service)
    who = by or _login()
    message = _one(urls, lambda client: client.discard(service, message_id, who, reason))
    console.print(
        f"[yellow]{service} #{message_id} {message['status']}[/] by "
        f"{message['resolved_by']}: {message['resolution']}"
    )


def _urls(base_port: int, given: list[str] | None, service: str | None = None) -> dict[str, str]:
    """The services to ask: those given as name=URL, else all five at the base port."""
    urls = urls_from_base(base_port)
    if given:
        urls = {}
        for item in given:
            name, sep, address = item.partition("=")
            if not sep or not name or not address:
                raise typer.BadParameter(f"{item!r} is not name=URL", param_hint="--url")
            urls[name] = address.rstrip("/")
    if service is not None and service not in urls:
        raise typer.BadParameter(
            f"unknown service {service!r}; one of {', '.join(urls)}", param_hint="SERVICE"
        )
    return urls


def _run(urls: dict[str, str], work: Callable[[OmsClient], Awaitable[T]]) -> T:
    async def main() -> T:
        client = OmsClient(urls, timeout=10.0)
        try:
            return await work(client)
        finally:
            await client.close()

    return asyncio.run(main())


async def _pages(
    client: OmsClient, services: list[str], params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    answers = await asyncio.gather(
        *(client.parked(service, **params) for service in services), return_exceptions=True
    )
    pages: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for service, answer in zip(services, answers, strict=True):
        if isinstance(answer, BaseException):
            failed[service] = _explain(answer)
        else:
            pages[service] = answer
    return pages, failed


def _one(urls: dict[str, str], call: Callable[[OmsClient], Awaitable[Any]]) -> Any:
    """One call's answer; a problem or an unreachable service ends the command with 1."""
    try:
        return _run(urls, call)
    except httpx.HTTPError as error:
        console.print(f"[red]{_explain(error)}[/]")
        raise typer.Exit(1) from None


def _explain(error: BaseException) -> str:
    """What went wrong, in the service's words when it answered with a problem document."""
    if isinstance(error, httpx.HTTPStatusError):
        try:
            problem = error.response.json()
            return f"{problem['title']}: {problem['detail']}"
        except (ValueError, KeyError, TypeError):
            return f"HTTP {error.response.status_code}"
    return f"{type(error).__name__}: {error}"


def _print_message(service: str, message: dict[str, Any]) -> None:
    table = Table(title=f"{service} parked message #{message['id']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for field in (
        "status",
        "reason",
        "topic",
        "partition",
        "offset",
        "source",
        "position",
        "event_type",
        "key",
        "parked_at",
        "resolved_at",
        "resolved_by",
        "resolution",
    ):
        value = message.get(field)
        table.add_row(field, "" if value is None else str(value))
    for name, value in message["headers"].items():
        table.add_row(f"header {name}", value)
    table.add_row("value", _pretty(message["value"], message["value_encoding"]))
    console.print(table)


def _pretty(value: str, encoding: str) -> str:
    if encoding != "utf-8":
        return f"({encoding}) {value}"
    try:
        return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
    except ValueError:
        return value


def _shorten(text: str, width: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "oms-cli"
