"""Reservations: what an order asked for, holds where, and waits for."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from services.inventory_service.api.deps import ViewsDep
from services.inventory_service.schemas import ReservationPublic
from shared.runtime.api import Problem

router = APIRouter(prefix="/reservations", tags=["reservations"])


@router.get("/{order_id}", response_model=ReservationPublic)
def get_reservation(order_id: UUID, views: ViewsDep) -> ReservationPublic:
    """An order's reservation: requested lines, what it holds where, what it waits for."""
    row = views.get_reservation(order_id)
    if row is None:
        raise Problem(404, "Reservation not found", f"no reservation for order {order_id}")
    return ReservationPublic.model_validate(row)
