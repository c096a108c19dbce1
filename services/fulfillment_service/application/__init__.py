"""The Shipments application: one method per use case, each get -> call -> save."""

from services.fulfillment_service.application.packing import PackingUseCases


class Shipments(PackingUseCases):
    """Shipments of confirmed orders from open to shipped: pick lists, packages, carriers."""


__all__ = ["Shipments"]
