"""Session fixtures of the integration and e2e tiers: PostgreSQL, fresh databases, a broker."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.runtime.embedded import (
    EmbeddedBroker,
    EmbeddedPostgres,
    drop_database,
    ensure_database,
    free_port,
)
from shared.runtime.service import ServiceParts
from shared.runtime.settings import ServiceSettings
from tests.kit import RunningService, settings_for_tests

NewDatabase = Callable[..., str]


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server: OMS_TEST_POSTGRES_URL if set, else an embedded one."""
    external = os.environ.get("OMS_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    # A short base path: the server's unix socket lives in its data directory.
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data")
    server.start()
    try:
        yield server.url("postgres")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def new_database(postgres_server_url: str) -> Iterator[NewDatabase]:
    """Factory: create a uniquely named database and return its URL; all dropped at the end."""
    created: list[str] = []

    def create(prefix: str = "test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        created.append(name)
        return ensure_database(postgres_server_url, name)

    yield create
    for name in created:
        drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap string of an embedded broker on a free port, shared by the session."""
    log_path: Path = tmp_path_factory.mktemp("broker") / "broker.log"
    server = EmbeddedBroker(free_port(), log_path=log_path)
    server.start()
    try:
        yield server.bootstrap
    finally:
        server.stop()


RunService = Callable[..., RunningService]


@pytest.fixture
def test_broker(tmp_path: Path) -> Iterator[str]:
    """Bootstrap string of a broker of this test's own (Tansu starts in milliseconds).

    A topic of the session broker still holds earlier tests' messages, whose publisher
    positions would shadow the ones this test publishes.
    """
    server = EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log")
    server.start()
    try:
        yield server.bootstrap
    finally:
        server.stop()


@pytest.fixture
def run_service(new_database: NewDatabase, test_broker: str) -> Iterator[RunService]:
    """Factory: run a service whole (API, consumers, relay, projections) on a fresh database.

    `run_service(build, Settings, **overrides)` starts it and returns a RunningService with
    `publish()` and `http`; services started in one test share the test's own broker, and
    everything started is stopped after the test.
    """
    started: list[RunningService] = []

    def start(
        build: Callable[[Any], ServiceParts],
        settings_class: type[ServiceSettings],
        **overrides: Any,
    ) -> RunningService:
        settings = settings_for_tests(
            settings_class,
            **{
                "database_url": new_database(settings_class.__module__.split(".")[1][:12]),
                "kafka_bootstrap_servers": test_broker,
                "http_port": free_port(),
                **overrides,
            },
        )
        service = RunningService(build(settings)).start()
        started.append(service)
        return service

    yield start
    for service in reversed(started):
        service.stop()
