"""The console's pages, one router per area."""

from fastapi import APIRouter

from services.console.pages import (
    bills,
    channels,
    orders,
    queues,
    returns,
    sign_in,
    stock,
    warehouse,
)

ROUTERS: list[APIRouter] = [
    sign_in.router,
    orders.router,
    queues.router,
    stock.router,
    warehouse.router,
    returns.router,
    channels.router,
    bills.router,
]

__all__ = ["ROUTERS"]
