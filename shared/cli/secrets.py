"""`oms secrets rotate`: the channel secrets re-encrypted under the gateway's newest key.

The gateway seals channel secrets with the keys in OMS_GATEWAY_SECRETS_KEYS, newest first. A key
rotation: put the new key first (the old one still listed) on every gateway instance and restart
them, run `oms secrets rotate`, then remove the old key and restart again. The gateway does the
re-encryption with its own keys, over its API, so a rotation can never leave a row that the
running gateway cannot read. `oms up` keeps the list in `<var-dir>/gateway-secrets.keys`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from cryptography.fernet import Fernet
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from shared.cli.client import auth_headers, cli_token, write_private_file

KEYS_ENV = "OMS_GATEWAY_SECRETS_KEYS"
KEYS_FILE = "gateway-secrets.keys"
_KEYS_FILE_HEADER = """\
# The keys the channel gateway encrypts channel secrets with, one a line, newest first
# (README, "Secrets at rest"). Without them the secrets in this var directory cannot be read.
"""
console = Console()
secrets_app = typer.Typer(
    help="Channel secrets at rest: re-encrypt them under the gateway's newest key.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add `oms secrets ...` to the `oms` app."""
    app.add_typer(secrets_app, name="secrets")


@secrets_app.command("rotate")
def rotate(
    url: Annotated[
        str, typer.Option(envvar="OMS_GATEWAY_URL", help="Base URL of the channel gateway.")
    ] = "http://127.0.0.1:8000",
    batch: Annotated[
        int, typer.Option(min=1, max=500, help="Channels re-encrypted per request.")
    ] = 100,
) -> None:
    """Re-encrypt every channel's secrets with the first key of the gateway's
    OMS_GATEWAY_SECRETS_KEYS, while it runs; afterwards the other keys may be removed."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    done, after = 0, None
    with (
        httpx.Client(base_url=url, timeout=60, headers=auth_headers(cli_token())) as http,
        Progress(*columns) as progress,
    ):
        task = progress.add_task("re-encrypting channel secrets", total=None)
        while True:
            page = _reencrypt(http, after, batch)
            done += page["reencrypted"]
            progress.update(task, completed=done, total=max(page["total"], done))
            after = page["after"]
            if after is None:
                break
    console.print(
        f"[green]Re-encrypted the secrets of {done} channel{'' if done == 1 else 's'}[/] with"
        " the gateway's newest key. Once every gateway instance runs with that key first, the"
        f" keys after it may be removed from {KEYS_ENV}."
    )


def embedded_keys(var_dir: Path) -> str:
    """The gateway's keys for `oms up`, comma-separated: those of its environment if set, else
    those of `<var-dir>/gateway-secrets.keys`, which the first start makes with a new key."""
    given = os.environ.get(KEYS_ENV)
    if given:
        return given
    path = var_dir / KEYS_FILE
    if not path.exists():
        _write_new_keys_file(path)
    lines = (line.strip() for line in path.read_text().splitlines())
    return ",".join(line for line in lines if line and not line.startswith("#"))


def new_key() -> str:
    """A new Fernet key, for a gateway of its own (benchmarks on a fresh database)."""
    return Fernet.generate_key().decode()


def _write_new_keys_file(path: Path) -> None:
    """A keys file with one new key, readable by its owner only from the start."""
    write_private_file(path, f"{_KEYS_FILE_HEADER}{new_key()}\n")


def _reencrypt(http: httpx.Client, after: str | None, batch: int) -> Any:
    """One page of the rotation; exits saying why when the gateway does not do it."""
    try:
        answer = http.post("/v1/channel-secrets/reencrypt", json={"after": after, "limit": batch})
    except httpx.TransportError as error:
        console.print(f"[bold red]The gateway at {http.base_url} did not answer:[/] {error}")
        raise typer.Exit(1) from None
    if answer.status_code != 200:
        console.print(f"[bold red]The gateway refused ({answer.status_code}):[/] {_why(answer)}")
        raise typer.Exit(1)
    return answer.json()


def _why(answer: httpx.Response) -> str:
    """The problem document's detail, or the body as it came."""
    try:
        return str(answer.json().get("detail", answer.text))
    except ValueError:
        return answer.text
