"""PostgreSQL helpers: database creation, eventsourcing environment, connection pools."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool


def ensure_database(url: str) -> None:
    """Create the database named in the URL if it does not exist yet."""
    params = conninfo_to_dict(url)
    dbname = str(params.get("dbname", "postgres"))
    admin_url = make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            # Another instance may create it first; that is fine.
            with suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


# Any fixed 64-bit key: the advisory lock is per database, so services never wait for each other.
_SCHEMA_LOCK = 0x6F6D735F736368  # "oms_sch"


@contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Hold the database's schema lock: instances starting together on a new database create
    its tables one after the other (`CREATE TABLE IF NOT EXISTS` at once collides in
    PostgreSQL's catalog: duplicate key in pg_type)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        yield  # the lock ends with the connection


@asynccontextmanager
async def schema_locked(url: str) -> AsyncIterator[None]:
    """`schema_lock` for a service's event loop."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        yield


def eventsourcing_env(url: str, *, cache_size: int = 0) -> dict[str, str]:
    """The environment that points an eventsourcing application at PostgreSQL."""
    params = conninfo_to_dict(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        # Five services share one server (100 connections by default): keep pools small.
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "3",
        "POSTGRES_CONN_MAX_AGE": "600",
        # Never on: with db functions the tracking row is not written and duplicates pass.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "CREATE_TABLE": "y",
    }
    if cache_size:
        # Fast-forwarding off (no query per read): a cached aggregate that another instance
        # changed fails a unit's commit with a version conflict if the unit changed it, or
        # with StaleReadError if it only read it; either evicts it and retries on fresh state
        # (see UnitOfWork and ServiceRepository), so several instances stay correct.
        env["AGGREGATE_CACHE_MAXSIZE"] = str(cache_size)
        env["AGGREGATE_CACHE_FASTFORWARD"] = "n"
    return env


def connection_pool(url: str, *, max_size: int = 8) -> ConnectionPool:
    """An open pool of autocommit-off connections for read models."""
    return ConnectionPool(
        url, min_size=1, max_size=max_size, open=True, kwargs={"autocommit": False}
    )
