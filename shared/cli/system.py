"""The whole system, started the way `oms up` starts it: PostgreSQL, broker, topics, services."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from shared.cli.client import ADMIN_TOKEN_FILE, read_or_make_key, read_or_make_token
from shared.cli.secrets import embedded_keys
from shared.cli.supervisor import ChildSpec, Supervisor, SupervisorRunning, reclaim_leftovers
from shared.events.topics import ALL_TOPICS
from shared.runtime.embedded import (
    BROKER_STOP_SIGNAL,
    BROKER_STORAGES,
    MEMORY_STORAGE,
    OBJECT_STORE_PORTS,
    OBJECT_STORE_STOP_SIGNAL,
    S3_STORAGE,
    EmbeddedBroker,
    EmbeddedObjectStore,
    EmbeddedPostgres,
    database_url,
    ensure_database,
    log_tail,
    port_is_free,
)
from shared.runtime.kafka_admin import ensure_topics, run_sync
from shared.runtime.settings import DEFAULT_TOPIC_PARTITIONS

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
EXTERNAL_BROKER_ENV = "OMS_KAFKA_BOOTSTRAP_SERVERS"
# The services' own default, so `oms up` and a bare service agree on the partition count.
DEFAULT_PARTITIONS = DEFAULT_TOPIC_PARTITIONS
# Where the embedded broker keeps its log unless told otherwise (see README, "Restarts and the
# broker's log"), and the first of the S3 store's ports when it is asked for.
DEFAULT_BROKER_STORAGE = MEMORY_STORAGE
DEFAULT_S3_PORT = 8333
# Stop order, highest tier first: services, then the broker, then what the broker and the
# services keep their data in.
_STORAGE_TIER, _BROKER_TIER, _SERVICE_TIER = 0, 1, 2


@dataclass(frozen=True)
class ServiceDef:
    """One service as `oms up` runs it: its port offset, env prefix and database suffix."""

    name: str
    port_offset: int
    env_prefix: str
    db_suffix: str

    def database(self, prefix: str) -> str:
        """Name of this service's database for a database prefix."""
        return f"{prefix}_{self.db_suffix}"


GATEWAY = "channel_gateway"
SERVICES: tuple[ServiceDef, ...] = (
    ServiceDef(GATEWAY, 0, "OMS_GATEWAY_", "gateway"),
    ServiceDef("order_service", 1, "OMS_ORDERS_", "orders"),
    ServiceDef("inventory_service", 2, "OMS_INVENTORY_", "inventory"),
    ServiceDef("fulfillment_service", 3, "OMS_FULFILLMENT_", "fulfillment"),
    ServiceDef("returns_service", 4, "OMS_RETURNS_", "returns"),
)


@dataclass(frozen=True)
class JobDef:
    """A process `oms up` runs next to the services that owns no domain and no database: its
    port offset (health and metrics) and env prefix."""

    name: str
    port_offset: int
    env_prefix: str


# Faust's KPIs, low-stock alerts and reorder suggestions (docs/architecture.md, The stream jobs).
JOBS: tuple[JobDef, ...] = (JobDef("stream_jobs", 5, "OMS_STREAMS_"),)
# The ops console's pages (services/console): it calls the five APIs, nothing else.
CONSOLE = JobDef("console", 80, "OMS_CONSOLE_")
CONSOLE_KEY_FILE = "console-session.key"  # in the var directory: seals the session cookies
PORTS = len(SERVICES) + len(JOBS)
"""How many HTTP ports from the base port a system of one instance per service takes."""
INSTANCE_PORT_STRIDE = 10
"""Instance i of a service listens on instance 0's port + 10 * i (order_service #2: base + 21)."""


# Connections the embedded PostgreSQL takes per instance of every service (each process keeps
# pools for its store, views and relay): PostgreSQL's own default for one of each.
CONNECTIONS_PER_INSTANCE = 100


def ports_spanned(instances: int) -> int:
    """How many consecutive ports from the base port a system of `instances` per service spans."""
    return INSTANCE_PORT_STRIDE * (instances - 1) + PORTS


def instance_name(service: str, instance: int) -> str:
    """The name of one instance's process: the service's own for instance 0, `name-i` after."""
    return service if instance == 0 else f"{service}-{instance}"


def service_of(process: str) -> str:
    """The service an instance's process name belongs to (other names stay as they are)."""
    name, _, number = process.rpartition("-")
    return name if name and number.isdigit() else process


ServiceCommand = Callable[[str], Sequence[str]]


class ServiceLinks(Protocol):
    """How each service reaches PostgreSQL and the broker (a fault proxy may sit between)."""

    kafka_advertised_port: int | None

    def database_url(self, service: str, url: str) -> str:
        """The URL the service uses for its database `url`."""
        ...

    def bootstrap(self, service: str, bootstrap: str) -> str:
        """The bootstrap servers the service uses for the broker at `bootstrap`."""
        ...


def default_service_command(name: str) -> list[str]:
    """How a service process is started: its package run as a module."""
    return [sys.executable, "-m", f"services.{name}"]


class SystemStartError(RuntimeError):
    """The system did not come up; the message names the part and shows its log."""


class EmbeddedSystem:
    """PostgreSQL, the broker and the five services, started, checked and stopped as one."""

    def __init__(
        self,
        var_dir: Path,
        *,
        postgres_url: str | None = None,
        kafka_port: int = 9092,
        base_http_port: int = 8000,
        db_prefix: str = "oms",
        partitions: int = DEFAULT_PARTITIONS,
        service_command: ServiceCommand = default_service_command,
        extra_env: Mapping[str, str] | None = None,
        ready_timeout: float = 60.0,
        links: ServiceLinks | None = None,
        broker_storage: str = DEFAULT_BROKER_STORAGE,
        s3_port: int = DEFAULT_S3_PORT,
        stream_jobs: bool = True,
        instances: int = 1,
        console: bool = False,
        console_port: int | None = None,
    ):
        if instances < 1:
            raise ValueError(f"instances must be at least 1, not {instances}")
        if broker_storage not in BROKER_STORAGES:
            raise ValueError(
                f"broker storage {broker_storage!r} unknown; choose one of {BROKER_STORAGES}"
            )
        self.var_dir = Path(var_dir).resolve()
        self.external_postgres_url = postgres_url
        self.kafka_port = kafka_port
        self.base_http_port = base_http_port
        self.db_prefix = db_prefix
        self.partitions = partitions
        self.service_command = service_command
        self.extra_env = dict(extra_env or {})
        self.ready_timeout = ready_timeout
        self.links = links
        self.broker_storage = broker_storage
        self.s3_port = s3_port
        self.jobs = (*(JOBS if stream_jobs else ()), *((CONSOLE,) if console else ()))
        self.console_port = console_port or base_http_port + CONSOLE.port_offset
        # Every service runs this many processes in one consumer group; the stream jobs run
        # once (their tables are kept per process: two would count everything twice).
        self.instances = instances
        if instances > partitions:
            log.warning(
                "%d instances per service, %d partitions: some consumers will have no partition",
                instances,
                partitions,
            )
        self.postgres: EmbeddedPostgres | None = None
        self.object_store: EmbeddedObjectStore | None = None
        self.broker: EmbeddedBroker | None = None
        self.supervisor: Supervisor | None = None
        self._server_url: str | None = None
        self._bootstrap: str | None = None
        self._database_urls: dict[str, str] = {}

    @property
    def log_dir(self) -> Path:
        """Where the broker and the services write their output."""
        return self.var_dir / "logs"

    @property
    def postgres_server_url(self) -> str:
        """URL of the server's maintenance database (valid after start)."""
        if self._server_url is None:
            raise RuntimeError("system not started")
        return self._server_url

    @property
    def bootstrap(self) -> str:
        """Kafka bootstrap servers (valid after start)."""
        if self._bootstrap is None:
            raise RuntimeError("system not started")
        return self._bootstrap

    def port(self, name: str, instance: int = 0) -> int:
        """HTTP port of a service (of one of its instances)."""
        if name == CONSOLE.name:
            return self.console_port
        return self.base_http_port + INSTANCE_PORT_STRIDE * instance + _service(name).port_offset

    def urls(self) -> dict[str, str]:
        """Base URL of every service's HTTP API (of its first instance)."""
        return {s.name: f"http://{HOST}:{self.port(s.name)}" for s in SERVICES}

    def instance_urls(self) -> dict[str, list[str]]:
        """Base URLs of every instance of every service's HTTP API, instance 0 first."""
        return {
            s.name: [f"http://{HOST}:{self.port(s.name, i)}" for i in range(self.instances)]
            for s in SERVICES
        }

    def instance_names(self, service: str) -> list[str]:
        """The process names of a service's instances (as in `pids()`), instance 0 first."""
        return [instance_name(service, i) for i in range(self.instances)]

    def job_urls(self) -> dict[str, str]:
        """Base URL of every job's health and metrics pages."""
        return {j.name: f"http://{HOST}:{self.port(j.name)}" for j in self.jobs}

    def database_urls(self) -> dict[str, str]:
        """URL of every service's own database (valid after start)."""
        if not self._database_urls:
            raise RuntimeError("system not started")
        return dict(self._database_urls)

    @property
    def admin_token_file(self) -> Path:
        """Where the break-glass admin token of this system is kept (mode 0600)."""
        return self.var_dir / ADMIN_TOKEN_FILE

    @property
    def admin_token(self) -> str:
        """The admin token every service of this system accepts (made on first use)."""
        return read_or_make_token(self.admin_token_file)

    @property
    def pid_file(self) -> Path:
        """Where the supervisor records its children, so a later start can reclaim leftovers."""
        return self.var_dir / "run" / "oms-up.json"

    def start(self) -> None:
        """Start everything in dependency order and wait until every service is ready."""
        try:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            self._reclaim_leftovers()
            self._check_ports()
            infrastructure = [*self._postgres(), *self._object_store(), *self._broker()]
            self._database_urls = {
                s.name: database_url(self.postgres_server_url, s.database(self.db_prefix))
                for s in SERVICES
            }
            if self.postgres is None:
                self._ensure_databases()
            if self.broker is None:
                self._ensure_topics()
            log.info("starting services")
            services = [
                ChildSpec(
                    instance_name(s.name, i),
                    self.service_command(s.name),
                    self._env(s, self._database_urls[s.name], instance=i),
                    # Stopped before the PostgreSQL and broker they use; extra instances first:
                    # when every member of a group left at once, several took over the 10 s
                    # stop timeout (seen with 3 instances on Tansu) and were killed.
                    tier=_SERVICE_TIER + (i > 0),
                )
                for s in SERVICES
                for i in range(self.instances)
            ]
            jobs = [
                ChildSpec(
                    j.name,
                    self.service_command(j.name),
                    self._env(j, None),
                    tier=_SERVICE_TIER,
                )
                for j in self.jobs
            ]
            self.supervisor = Supervisor(
                [*infrastructure, *services, *jobs], self.log_dir, pid_file=self.pid_file
            )
            self.supervisor.start()
            self._wait_ready()
        except BaseException:
            # Half a system is worse than none: nothing may keep running when start fails.
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the services, then the broker and PostgreSQL; safe to call more than once."""
        supervisor, self.supervisor = self.supervisor, None
        self.broker = self.postgres = self.object_store = None
        try:
            if supervisor is not None:
                supervisor.stop()
        finally:
            self._server_url = None
            self._bootstrap = None
            self._database_urls = {}

    def restart(self) -> None:
        """Stop everything and start it again on the same var_dir (in memory, the broker's
        log is lost)."""
        self.stop()
        self.start()

    def pids(self) -> dict[str, int | None]:
        """Process id of every supervised process: PostgreSQL, S3 store and broker (when
        embedded), services (each instance by its `instance_name`) and jobs."""
        return {} if self.supervisor is None else self.supervisor.pids()

    def __enter__(self) -> EmbeddedSystem:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _reclaim_leftovers(self) -> None:
        """Stop what an `oms up` killed on this var_dir left running (its pid file names it)."""
        try:
            reclaimed = reclaim_leftovers(self.pid_file)
        except SupervisorRunning as exc:
            raise SystemStartError(
                f"another `oms up` is running with {self.var_dir}: {exc}"
            ) from None
        if reclaimed:
            log.warning("stopped what an earlier `oms up` left running: %s", ", ".join(reclaimed))

    def _check_ports(self) -> None:
        """Fail early and clearly when a port is taken, instead of probing someone else's server."""
        for name, url in self._every_url().items():
            port = int(url.rsplit(":", 1)[1])
            if not port_is_free(HOST, port):
                raise SystemStartError(
                    f"port {port} for {name} is in use; is another `oms up` "
                    "running? Stop it or choose another --base-port."
                )
        if os.environ.get(EXTERNAL_BROKER_ENV):
            return
        if not port_is_free(HOST, self.kafka_port):
            raise SystemStartError(
                f"Kafka port {self.kafka_port} is in use; is another `oms up` running? "
                "Stop it or choose another --kafka-port."
            )
        if self.broker_storage == S3_STORAGE:
            store_ports = range(self.s3_port, self.s3_port + OBJECT_STORE_PORTS)
            taken = [port for port in store_ports if not port_is_free(HOST, port)]
            if taken:
                raise SystemStartError(
                    f"ports {taken} of the S3 store ({store_ports.start}-{store_ports.stop - 1}) "
                    "are in use; is another `oms up` running? Stop it or choose another --s3-port."
                )

    def _postgres(self) -> list[ChildSpec]:
        """The external server if given (nothing to run), else the embedded one, supervised."""
        if self.external_postgres_url is not None:
            self._server_url = self.external_postgres_url
            return []
        log.info("starting embedded postgres in %s", self.var_dir / "postgres")
        self.postgres = postgres = EmbeddedPostgres(
            self.var_dir / "postgres",
            log_path=self.log_dir / "postgresql.log",
            max_connections=CONNECTIONS_PER_INSTANCE * self.instances,
        )
        self._server_url = postgres.url("postgres")

        def ready(process: subprocess.Popen[bytes]) -> None:
            postgres.wait_ready(process)
            log.info("postgres ready (pid %d)", process.pid)
            self._ensure_databases()

        return [
            ChildSpec(
                "postgresql",
                postgres.command(),
                user=postgres.user,
                stop_signal=signal.SIGINT,  # fast shutdown: end sessions, checkpoint, exit
                prepare=postgres.prepare,
                ready=ready,
            )
        ]

    def _object_store(self) -> list[ChildSpec]:
        """The S3 store the embedded broker keeps its log in, when asked for; else nothing."""
        if self.broker_storage != S3_STORAGE or os.environ.get(EXTERNAL_BROKER_ENV):
            return []
        if self.external_postgres_url is None:
            check_log_belongs_to_databases(self.var_dir / "s3", self.var_dir / "postgres")
        log.info("starting the broker's S3 store in %s", self.var_dir / "s3")
        self.object_store = store = EmbeddedObjectStore(
            self.var_dir / "s3", self.s3_port, host=HOST, log_path=self.log_dir / "s3.log"
        )

        def ready(process: subprocess.Popen[bytes]) -> None:
            store.wait_ready(process)
            log.info("S3 store ready at %s (pid %d)", store.endpoint, process.pid)

        return [
            ChildSpec(
                "s3",
                store.command(),
                store.env(),
                stop_signal=OBJECT_STORE_STOP_SIGNAL,
                tier=_STORAGE_TIER,  # stopped after the broker that writes to it
                prepare=store.prepare,
                ready=ready,
            )
        ]

    def _broker(self) -> list[ChildSpec]:
        """The broker named in the environment if set (nothing to run), else the embedded one."""
        external = os.environ.get(EXTERNAL_BROKER_ENV)
        if external:
            self._bootstrap = external
            return []
        log.info("starting embedded broker on port %d", self.kafka_port)
        self.broker = broker = EmbeddedBroker(
            self.kafka_port,
            host=HOST,
            log_path=self.log_dir / "broker.log",
            advertised_port=None if self.links is None else self.links.kafka_advertised_port,
            storage=None if self.object_store is None else self.object_store.storage(),
        )
        self._bootstrap = broker.bootstrap

        def ready(process: subprocess.Popen[bytes]) -> None:
            broker.wait_ready(process)
            log.info("broker ready at %s (pid %d)", broker.bootstrap, process.pid)
            # In memory a restarted broker has no topics, and must get them before a
            # client's metadata request creates one with the broker's own partition count.
            self._ensure_topics()

        return [
            ChildSpec(
                "broker",
                broker.command(),
                broker.env(),
                stop_signal=BROKER_STOP_SIGNAL,
                tier=_BROKER_TIER,
                prepare=broker.check_port_free,
                ready=ready,
            )
        ]

    def _ensure_databases(self) -> None:
        """Create every service's database that is missing."""
        for s in SERVICES:
            ensure_database(self.postgres_server_url, s.database(self.db_prefix))

    def _ensure_topics(self) -> None:
        """Create every topic (and DLQ) that is missing."""
        log.info("ensuring topics (%d partitions)", self.partitions)
        run_sync(ensure_topics(self.bootstrap, ALL_TOPICS, self.partitions))

    def _env(
        self, service: ServiceDef | JobDef, database_url: str | None, instance: int = 0
    ) -> dict[str, str]:
        """The environment of one service (or job) process: its settings, under its prefix."""
        bootstrap = self.bootstrap
        if self.links is not None:
            if database_url is not None:
                database_url = self.links.database_url(service.name, database_url)
            bootstrap = self.links.bootstrap(service.name, bootstrap)
        settings = {
            **({} if database_url is None else {"DATABASE_URL": database_url}),
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "HTTP_HOST": HOST,
            "HTTP_PORT": str(self.port(service.name, instance)),
            "TOPIC_PARTITIONS": str(self.partitions),
            # One machine: relays ring the consumers instead of them polling the broker.
            "DOORBELL_DIR": str(self.var_dir / "doorbells"),
            "ACCESS_BOOTSTRAP_TOKEN": self.admin_token,
        }
        if service == CONSOLE:
            settings = {"HTTP_HOST": HOST, "HTTP_PORT": str(self.console_port)}
            settings |= self._console_settings()
        elif isinstance(service, JobDef):
            settings["DATA_DIR"] = str(self.var_dir / service.name)
        if service.name == GATEWAY:
            # Made on first start, kept in var (mode 0600): a copy of the database alone
            # gives away no channel secret, and `make run` needs no setup.
            settings["SECRETS_KEYS"] = embedded_keys(self.var_dir)
        env = {service.env_prefix + key: value for key, value in settings.items()}
        # `python -m services.<name>` must find the project whatever the working directory is.
        project_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (project_root, os.environ.get("PYTHONPATH", "")) if p
        )
        return {**env, **self.extra_env}

    def _console_settings(self) -> dict[str, str]:
        """Where the console finds the five APIs (instance 0 of each), and its cookie key."""
        urls = self.urls()
        names = {"GATEWAY_URL": "channel_gateway", "ORDERS_URL": "order_service"}
        names |= {"INVENTORY_URL": "inventory_service", "FULFILLMENT_URL": "fulfillment_service"}
        names |= {"RETURNS_URL": "returns_service"}
        key = read_or_make_key(self.var_dir / CONSOLE_KEY_FILE)
        return {setting: urls[name] for setting, name in names.items()} | {"SESSION_KEY": key}

    def _every_url(self) -> dict[str, str]:
        """Base URL of every service instance's and job's HTTP port, by process name."""
        urls = {
            instance_name(name, i): url
            for name, each in self.instance_urls().items()
            for i, url in enumerate(each)
        }
        return {**urls, **self.job_urls()}

    def _wait_ready(self) -> None:
        """Poll every service's /readyz until all answer 200, or fail naming the laggard."""
        assert self.supervisor is not None
        pending = {name: f"{url}/readyz" for name, url in self._every_url().items()}
        last_error: dict[str, str] = {}
        deadline = time.monotonic() + self.ready_timeout
        while pending:
            for name, url in list(pending.items()):
                ready, last_error[name] = _probe(url)
                if ready:
                    log.info("%s ready", name)
                    del pending[name]
            if not pending:
                return
            if time.monotonic() > deadline:
                name = next(iter(pending))
                path = self.supervisor.log_path(name)
                raise SystemStartError(
                    f"{name} not ready at {pending[name]} within {self.ready_timeout:.0f} s "
                    f"(last answer: {last_error[name]}; restarts: "
                    f"{self.supervisor.restarts()[name]}); also not ready: "
                    f"{', '.join(n for n in pending if n != name) or 'none'}.\n"
                    f"Tail of {path}:\n{log_tail(path)}"
                )
            time.sleep(0.2)


def check_log_belongs_to_databases(store_dir: Path, postgres_dir: Path) -> None:
    """Refuse a kept broker log next to databases made after it.

    Positions on the wire are the publishers' notification ids: new databases count from 1
    again, and their consumers would apply the old log's messages as if they were new.
    """
    databases_are_new = not (postgres_dir / "PG_VERSION").exists()
    log_is_kept = store_dir.exists() and any(store_dir.iterdir())
    if databases_are_new and log_is_kept:
        raise SystemStartError(
            f"{store_dir} holds the broker's log of databases that are gone ({postgres_dir} "
            f"is new): its messages would be applied again. Remove {store_dir} too, or "
            f"restore {postgres_dir}."
        )


def _probe(url: str) -> tuple[bool, str]:
    """GET a readiness URL: (answered 200, what happened)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        exc.close()
        return False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return False, str(exc)


def _service(name: str) -> ServiceDef | JobDef:
    """The definition of a service (or job) by name."""
    every: tuple[ServiceDef | JobDef, ...] = (*SERVICES, *JOBS)
    for service in (*every, CONSOLE):
        if service.name == name:
            return service
    known = [s.name for s in every]
    raise KeyError(f"unknown service {name!r}; known: {known}")
