"""`python -m shared.cli.chaos`: the fault harness without the rest of the `oms` app."""

from __future__ import annotations

import typer

from shared.cli.chaos import chaos

if __name__ == "__main__":
    typer.run(chaos)
