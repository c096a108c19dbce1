"""`oms demo`: drive the running system through a realistic day of orders (to be written)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the demo command(s) to the `oms` app."""
    app.command("demo", help="Run a demo against a running `oms up` (not yet implemented).")(demo)


def demo() -> None:
    """Placeholder until the demo is written."""
    typer.echo("oms demo: not yet implemented", err=True)
    raise typer.Exit(2)
