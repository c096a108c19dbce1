"""`oms bench`: measure orders per second end to end against raw infrastructure (to be written)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the bench command(s) to the `oms` app."""
    app.command("bench", help="Run the benchmarks (not yet implemented).")(bench)


def bench() -> None:
    """Placeholder until the benchmark is written."""
    typer.echo("oms bench: not yet implemented", err=True)
    raise typer.Exit(2)
