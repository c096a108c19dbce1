"""The console's pages, one router per area."""

from fastapi import APIRouter

from services.console.pages import orders, sign_in, stock, warehouse

ROUTERS: list[APIRouter] = [sign_in.router, orders.router, warehouse.router, stock.router]

__all__ = ["ROUTERS"]
