"""Failures that pass (a failover, a lost connection) are told apart from bugs, however wrapped."""

from __future__ import annotations

import psycopg
import pytest
from eventsourcing.persistence import InternalError, OperationalError, ProgrammingError

from shared.runtime.backoff import is_transient


def _wrapped(wrapper: type[Exception], cause: Exception) -> Exception:
    """The error as eventsourcing re-raises psycopg's: its own class, psycopg's as the cause."""
    try:
        try:
            raise cause
        except Exception as error:
            raise wrapper(str(error)) from error
    except Exception as wrapped:
        return wrapped


READ_ONLY = psycopg.errors.ReadOnlySqlTransaction(
    "cannot execute INSERT in a read-only transaction"
)


@pytest.mark.parametrize(
    "error",
    [
        _wrapped(InternalError, READ_ONLY),
        _wrapped(ProgrammingError, READ_ONLY),
        _wrapped(OperationalError, psycopg.errors.AdminShutdown("terminating connection")),
        psycopg.OperationalError("consuming input failed: server closed the connection"),
        _wrapped(RuntimeError, _wrapped(InternalError, READ_ONLY)),
    ],
    ids=["read-only", "read-only as programming", "shutdown", "lost connection", "deeper"],
)
def test_a_failover_or_a_lost_connection_is_transient_however_wrapped(error):
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("no carrier rate table for DE"),
        _wrapped(InternalError, psycopg.errors.DataCorrupted("index is corrupt")),
        _wrapped(ProgrammingError, psycopg.errors.UndefinedColumn('column "sku" does not exist')),
    ],
    ids=["handler bug", "corruption", "schema bug"],
)
def test_a_bug_is_not_transient_and_is_parked_instead(error):
    assert not is_transient(error)
