"""CSV imports of phone and mail orders: rows in, per-order and per-row outcome out."""

from __future__ import annotations

from fastapi import APIRouter

from services.channel_gateway.api.deps import AppDep, ChannelsDep
from services.channel_gateway.application import IntakeResult
from services.channel_gateway.channels.csv_import.translate import CsvOrder, translate_rows
from services.channel_gateway.schemas import ImportedOrder, ImportRequest, ImportResult, RowProblem

router = APIRouter(prefix="/imports", tags=["imports"])


@router.post("/orders", response_model=ImportResult)
def import_orders(request: ImportRequest, app: AppDep, channels: ChannelsDep) -> ImportResult:
    """Import whole orders from CSV rows; an order_ref seen before is not imported again."""
    rows = [(row.line, row.fields) for row in request.rows]
    orders, errors = translate_rows(channels.connection(request.channel), rows)
    placeable = [(order, order.translation) for order in orders if order.translation is not None]
    results = app.intake.take_in([translation for _, translation in placeable])
    outcome = {id(order): result for (order, _), result in zip(placeable, results, strict=True)}
    return ImportResult(
        orders=[_imported(order, outcome.get(id(order))) for order in orders],
        errors=[RowProblem(line=e.line, reason=e.reason) for e in errors],
    )


def _imported(order: CsvOrder, result: IntakeResult | Exception | None) -> ImportedOrder:
    if result is None or isinstance(result, Exception):
        reasons = [str(result)] if isinstance(result, Exception) else ["a row of it is bad"]
        return ImportedOrder(
            order_ref=order.order_ref, lines=order.lines, status="rejected", reasons=reasons
        )
    translation = order.translation
    return ImportedOrder(
        order_ref=order.order_ref,
        lines=order.lines,
        status="duplicate" if not result.created else result.status,
        order_id=result.order_id,
        reasons=translation.reasons if translation and translation.held else [],
    )
