"""`oms users ...` and `oms tokens ...`: who may call the OMS, over the gateway's API.

The caller's own token comes from $OMS_TOKEN, else the admin token of a local `oms up`
(var/admin-token); only an admin may manage users and tokens.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.cli.client import DEFAULT_URLS, auth_headers, cli_token

console = Console()
users_app = typer.Typer(
    help="Users and machine clients: create, list, disable; a person's password."
)
tokens_app = typer.Typer(help="Access tokens and API keys: create, list, revoke.")

GatewayUrl = Annotated[str, typer.Option("--url", help="The gateway's base URL.")]
Name = Annotated[
    str, typer.Argument(help="The user's name: an e-mail, or a machine client's name.")
]
ROLES = ("admin", "ops", "warehouse", "viewer")


def register(app: typer.Typer) -> None:
    """Add `oms users ...` and `oms tokens ...` to the `oms` app."""
    app.add_typer(users_app, name="users", no_args_is_help=True)
    app.add_typer(tokens_app, name="tokens", no_args_is_help=True)


def _call(url: str, method: str, path: str, **kwargs: Any) -> Any:
    """One call to the gateway; a problem answer ends the command with its words and 1."""
    with httpx.Client(base_url=url, timeout=30, headers=auth_headers(cli_token())) as http:
        try:
            answer = http.request(method, f"/v1{path}", **kwargs)
        except httpx.HTTPError as error:
            console.print(f"[red]{url} did not answer: {error}[/]")
            raise typer.Exit(1) from None
    if answer.status_code >= 400:
        try:
            problem = answer.json()
            console.print(f"[red]{problem['title']}: {problem['detail']}[/]")
        except (ValueError, KeyError, TypeError):
            console.print(f"[red]HTTP {answer.status_code}[/]")
        raise typer.Exit(1)
    return None if answer.status_code == 204 else answer.json()


@users_app.command("create")
def create_user(
    name: Name,
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")],
    machine: Annotated[
        bool, typer.Option("--machine", help="A machine client (it calls with an API key).")
    ] = False,
    url: GatewayUrl = DEFAULT_URLS["channel_gateway"],
) -> None:
    """Create a user or machine client with a role; `oms tokens create` gives it a token."""
    kind = "machine" if machine else "person"
    user = _call(url, "POST", "/users", json={"name": name, "role": role, "kind": kind})
    console.print(f"created {user['kind']} [bold]{user['name']}[/] with role {user['role']}")


@users_app.command("list")
def list_users(url: GatewayUrl = DEFAULT_URLS["channel_gateway"]) -> None:
    """Every user with their role and whether they are disabled."""
    page = _call(url, "GET", "/users", params={"limit": 500})
    table = Table(title=f"Users ({page['count']})")
    for column in ("name", "role", "kind", "disabled", "created by", "created at"):
        table.add_column(column)
    for user in page["data"]:
        table.add_row(
            user["name"],
            user["role"],
            user["kind"],
            "yes" if user["disabled"] else "",
            user["created_by"],
            user["created_at"],
        )
    console.print(table)


@users_app.command("password")
def set_password(
    name: Name,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input (for scripts)."
        ),
    ] = False,
    url: GatewayUrl = DEFAULT_URLS["channel_gateway"],
) -> None:
    """Set or replace a person's password, for signing in to the console (12 to 200
    characters of any script); asked twice, not shown, unless --password-stdin."""
    if password_stdin:
        password = _password_from_stdin()
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _call(url, "PUT", f"/users/{name}/password", json={"password": password})
    console.print(f"password set for [bold]{name}[/]")


def _password_from_stdin() -> str:
    """Standard input without its line end: spaces inside and around a password are its own."""
    return sys.stdin.read().removesuffix("\n").removesuffix("\r")


@users_app.command("disable")
def disable_user(name: Name, url: GatewayUrl = DEFAULT_URLS["channel_gateway"]) -> None:
    """Revoke every token of the user and refuse them new ones."""
    user = _call(url, "POST", f"/users/{name}/disable")
    console.print(f"disabled [bold]{user['name']}[/]; {len(user['tokens'])} token(s) revoked")


@tokens_app.command("create")
def create_token(
    name: Name,
    label: Annotated[str, typer.Option("--label", help="What it is for.")] = "",
    days: Annotated[
        int | None, typer.Option("--days", min=1, max=3650, help="Valid this many days.")
    ] = None,
    url: GatewayUrl = DEFAULT_URLS["channel_gateway"],
) -> None:
    """Give the user a token with their role; it is printed once and never shown again."""
    issued = _call(url, "POST", f"/users/{name}/tokens", json={"label": label, "valid_days": days})
    console.print(
        f"token {issued['token_id']} for [bold]{issued['name']}[/] ({issued['role']}),"
        f" expires {issued['expires_at'] or 'never'}; keep it, it is not shown again:",
        highlight=False,
    )
    print(issued["token"])  # plain, so `oms tokens create x | tail -1` gives just the token


@tokens_app.command("list")
def list_tokens(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's.")] = None,
    url: GatewayUrl = DEFAULT_URLS["channel_gateway"],
) -> None:
    """Tokens, the newest first (never the tokens themselves)."""
    params: dict[str, Any] = {"limit": 500, **({"name": user} if user else {})}
    page = _call(url, "GET", "/tokens", params=params)
    table = Table(title=f"Tokens ({page['count']})")
    for column in ("token id", "user", "role", "label", "issued", "expires", "revoked"):
        table.add_column(column)
    for token in page["data"]:
        table.add_row(
            token["token_id"],
            token["name"],
            token["role"],
            token["label"],
            f"{token['issued_at']} by {token['issued_by']}",
            token["expires_at"] or "never",
            f"{token['revoked_at']} by {token['revoked_by']}" if token["revoked_at"] else "",
        )
    console.print(table)


@tokens_app.command("revoke")
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (`oms tokens list`).")],
    url: GatewayUrl = DEFAULT_URLS["channel_gateway"],
) -> None:
    """Revoke a token: every service refuses it within a second or two."""
    token = _call(url, "POST", f"/tokens/{token_id}/revoke")
    console.print(f"revoked {token['token_id']} of [bold]{token['name']}[/]")
