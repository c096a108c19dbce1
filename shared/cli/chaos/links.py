"""The links of every service to PostgreSQL and the broker, each through a fault proxy."""

from __future__ import annotations

from collections.abc import Callable

from psycopg.conninfo import conninfo_to_dict

from shared.cli.chaos.proxy import FaultProxy, Impairment, Target, owner_of_port
from shared.cli.system import service_of

Pids = Callable[[], dict[str, int | None]]


class ProxiedLinks:
    """One proxy per service in front of PostgreSQL, one in front of the broker for all.

    The broker tells its clients where to connect (its advertised listener), so it can only
    advertise one proxy; that proxy tells the services apart by the process that owns each
    connection, so one service's link can still be cut alone.
    """

    def __init__(self, kafka_port: int) -> None:
        self.pids: Pids = dict
        self.broker = FaultProxy("broker", Target(port=kafka_port), classify=self._owner)
        self.kafka_advertised_port: int | None = self.broker.port
        self.postgres: dict[str, FaultProxy] = {}

    def start(self) -> None:
        """Start the broker's proxy (PostgreSQL's start with their services)."""
        self.broker.start()

    def stop(self) -> None:
        """Stop every proxy."""
        for proxy in (self.broker, *self.postgres.values()):
            proxy.stop()

    def database_url(self, service: str, url: str) -> str:
        """The service's database, through its own proxy."""
        params = conninfo_to_dict(url)
        proxy = self.postgres.get(service)
        if proxy is None:
            host = str(params.get("host") or "127.0.0.1")
            port = int(params.get("port") or 5432)
            # libpq reads a directory in `host` as the place of the unix socket.
            target = (
                Target(unix_path=f"{host}/.s.PGSQL.{port}")
                if host.startswith("/")
                else Target(host=host, port=port)
            )
            proxy = self.postgres[service] = FaultProxy(f"postgres-{service}", target).start()
        user = params.get("user") or "postgres"
        return f"postgresql://{user}@127.0.0.1:{proxy.port}/{params['dbname']}"

    def bootstrap(self, service: str, bootstrap: str) -> str:
        """The broker, through its proxy."""
        return f"127.0.0.1:{self.broker.port}"

    def impair(self, service: str, target: str, impairment: Impairment) -> None:
        """Delay or cut the service's link to `postgres` or `broker`."""
        self._proxy(service, target).impair(service, impairment)

    def heal(self, service: str | None = None, target: str | None = None) -> None:
        """Heal one link, or every link."""
        if service is not None and target is not None:
            self._proxy(service, target).heal(service)
            return
        for proxy in (self.broker, *self.postgres.values()):
            proxy.heal()

    def _proxy(self, service: str, target: str) -> FaultProxy:
        return self.broker if target == "broker" else self.postgres[service]

    def _owner(self, peer_port: int) -> str | None:
        # Every instance of a service shares its links (as its PostgreSQL proxy), so a cut of
        # the service's broker link cuts them all.
        owner = owner_of_port(peer_port, self.broker.port, self.pids())
        return None if owner is None else service_of(owner)
