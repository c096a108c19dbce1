"""`oms print`: fetch a pick list, packing slip or label from fulfillment and print or save it."""

from __future__ import annotations

import shutil
import socket
import subprocess
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import httpx
import typer

from shared.cli.client import auth_headers, cli_token, urls_from_base

RAW_PRINT_PORT = 9100  # the raw TCP port of network label printers (JetDirect convention)


class Kind(StrEnum):
    """What to print."""

    pick_list = "pick-list"
    packing_slip = "packing-slip"
    label = "label"


class Format(StrEnum):
    """Document format: PDF for office printers and files, ZPL II for Zebra-type printers."""

    pdf = "pdf"
    zpl = "zpl"


def register(app: typer.Typer) -> None:
    """Add the print command to the `oms` app."""
    app.command("print")(print_document)


def document_paths(kind: Kind, doc_id: str, fmt: Format) -> list[str]:
    """API paths that serve the document, tried in order (a label id may be a shipment's)."""
    if kind is Kind.label:
        return [
            f"/v1/packages/{doc_id}/label.{fmt.value}",
            f"/v1/shipments/{doc_id}/labels.{fmt.value}",
        ]
    if fmt is Format.zpl:
        raise typer.BadParameter(f"a {kind.value} is printed as PDF; ZPL is for labels")
    if kind is Kind.pick_list:
        return [f"/v1/pick-lists/{doc_id}/document.pdf"]
    return [f"/v1/shipments/{doc_id}/packing-slip.pdf"]


def fetch(base_url: str, paths: list[str], timeout: float = 30.0) -> bytes:
    """The first document found; a problem answer becomes a clear error."""
    with httpx.Client(
        base_url=base_url, timeout=timeout, headers=auth_headers(cli_token())
    ) as http:
        for n, path in enumerate(paths):
            response = http.get(path)
            if response.status_code == 404 and n + 1 < len(paths):
                continue
            if response.is_error:
                raise typer.BadParameter(_problem_text(response), param_hint="ID")
            return response.content
    raise AssertionError("unreachable: the last path answers or raises")


def _problem_text(response: httpx.Response) -> str:
    try:
        problem = response.json()
        return f"{problem.get('title', response.status_code)}: {problem.get('detail', '')}"
    except ValueError:
        return f"HTTP {response.status_code}"


def parse_printer(printer: str) -> tuple[str, int]:
    """HOST or HOST:PORT (port 9100 when left out)."""
    host, _, port = printer.rpartition(":") if ":" in printer else (printer, "", "")
    if not host:
        raise typer.BadParameter("expected HOST or HOST:PORT", param_hint="--printer")
    try:
        return host, int(port) if port else RAW_PRINT_PORT
    except ValueError:
        raise typer.BadParameter(f"bad port {port!r}", param_hint="--printer") from None


def send_raw(host: str, port: int, data: bytes, timeout: float = 10.0) -> None:
    """Send a print job over raw TCP, as network label printers take ZPL."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)


def print_document(
    kind: Annotated[Kind, typer.Argument(help="pick-list, packing-slip or label.")],
    doc_id: Annotated[str, typer.Argument(metavar="ID", help="Pick list, shipment or package id.")],
    fmt: Annotated[Format, typer.Option("--format", help="pdf, or zpl for labels.")] = Format.pdf,
    printer: Annotated[
        str | None, typer.Option(help="Network label printer HOST[:PORT] for ZPL (port 9100).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the document to this file.")] = None,
    base_port: Annotated[
        int, typer.Option(help="Gateway port of the OMS (fulfillment is base + 3).")
    ] = 8000,
    url: Annotated[
        str | None, typer.Option(help="Fulfillment API URL (overrides the port).")
    ] = None,
) -> None:
    """Fetch a document from the fulfillment API; send ZPL to a printer, PDF to a file or lp."""
    if printer and out:
        raise typer.BadParameter("give --printer or --out, not both")
    if printer and fmt is not Format.zpl:
        raise typer.BadParameter("raw printing sends ZPL: add --format zpl", param_hint="--printer")
    base_url = url or urls_from_base(base_port)["fulfillment_service"]
    data = fetch(base_url, document_paths(kind, doc_id, fmt))
    if out is not None:
        out.write_bytes(data)
        typer.echo(f"{kind.value} {doc_id} written to {out} ({len(data)} bytes)")
    elif printer is not None:
        host, port = parse_printer(printer)
        send_raw(host, port, data)
        typer.echo(f"{kind.value} {doc_id} sent to {host}:{port} ({len(data)} bytes)")
    else:
        _to_lp(data, kind, doc_id, fmt)


def _to_lp(data: bytes, kind: Kind, doc_id: str, fmt: Format) -> None:
    """Hand the document to the system's print spooler."""
    lp = shutil.which("lp")
    if lp is None:
        raise typer.BadParameter("no `lp` on this machine: use --out FILE or --printer HOST:PORT")
    options = ["-o", "raw"] if fmt is Format.zpl else []
    subprocess.run([lp, *options, "-t", f"{kind.value} {doc_id}", "-"], input=data, check=True)
    typer.echo(f"{kind.value} {doc_id} sent to the default printer")
