"""Builders used by every service's bootstrap: application and views on PostgreSQL."""

from __future__ import annotations

from typing import TypeVar

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from shared.runtime.application import ServiceApplication
from shared.runtime.database import ensure_database, eventsourcing_env, schema_lock
from shared.runtime.projection import ViewStore
from shared.runtime.settings import ServiceSettings

App = TypeVar("App", bound=ServiceApplication)
View = TypeVar("View", bound=ViewStore)


def open_application(app_class: type[App], settings: ServiceSettings) -> App:
    """The service's event-sourced application on its own database (created if missing)."""
    ensure_database(settings.database_url)
    env = eventsourcing_env(settings.database_url, cache_size=settings.aggregate_cache_size)
    with schema_lock(settings.database_url):
        return app_class(env=env)


def open_views(view_class: type[View], settings: ServiceSettings) -> View:
    """The service's read-model store, with its tables and tracking table created."""
    # Queries and one projection writer: a small pool is plenty.
    overrides = {"POSTGRES_POOL_SIZE": "3", "POSTGRES_MAX_OVERFLOW": "2"}
    env = Environment(view_class.__name__, eventsourcing_env(settings.database_url) | overrides)
    factory = InfrastructureFactory.construct(env)
    with schema_lock(settings.database_url):
        view = factory.tracking_recorder(view_class)
    assert isinstance(view, view_class)
    return view
