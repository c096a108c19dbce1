"""CSV imports of phone and mail orders: rows in, per-order and per-row outcome out."""

from __future__ import annotations

from fastapi import APIRouter

from services.channel_gateway.api.deps import AppDep, RegistryDep
from services.channel_gateway.application import Intake
from services.channel_gateway.channels.csv_import.translate import CsvOrder, translate_rows
from services.channel_gateway.channels.translators import default_connection
from services.channel_gateway.intake import command_of
from services.channel_gateway.schemas import ImportedOrder, ImportRequest, ImportResult, RowProblem

router = APIRouter(prefix="/imports", tags=["imports"])


@router.post("/orders", response_model=ImportResult)
def import_orders(request: ImportRequest, app: AppDep, registry: RegistryDep) -> ImportResult:
    """Import whole orders from CSV rows; an order_ref seen before is not imported again."""
    channel = registry.get(request.channel)
    connection = channel.connection if channel else default_connection(request.channel)
    rows = [(row.line, row.fields) for row in request.rows]
    orders, errors = translate_rows(connection, rows)
    placeable = [order for order in orders if order.translation is not None]
    results = app.take_in([command_of(o.translation) for o in placeable])  # type: ignore[arg-type]
    outcome = {id(order): result for order, result in zip(placeable, results, strict=True)}
    return ImportResult(
        orders=[_imported(order, outcome.get(id(order))) for order in orders],
        errors=[RowProblem(line=e.line, reason=e.reason) for e in errors],
    )


def _imported(order: CsvOrder, result: Intake | Exception | None) -> ImportedOrder:
    if result is None or isinstance(result, Exception):
        reasons = [str(result)] if isinstance(result, Exception) else ["a row of it is bad"]
        return ImportedOrder(
            order_ref=order.order_ref, lines=order.lines, status="rejected", reasons=reasons
        )
    translation = order.translation
    status = "duplicate" if not result.created else result.status
    return ImportedOrder(
        order_ref=order.order_ref,
        lines=order.lines,
        status=status,  # type: ignore[arg-type]
        order_id=result.order_id,
        reasons=translation.reasons if translation and translation.held else [],
    )
